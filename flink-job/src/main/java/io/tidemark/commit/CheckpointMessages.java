package io.tidemark.commit;

import io.tidemark.decode.SourcePosition;
import io.tidemark.protocol.CommitMessage;
import io.tidemark.protocol.CommitMessage.Counts;
import io.tidemark.protocol.CommitMessage.FilesWritten;
import io.tidemark.protocol.CommitMessage.GateCounts;
import io.tidemark.protocol.CommitMessage.GateTally;
import io.tidemark.protocol.CommitMessage.Tally;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checkpoint's messages by kind: files per table and part, the reconcilers' counts, valid
 * through, positions and re-snapshots, the gates' counts, and how many tallies came.
 */
final class CheckpointMessages {
    final Map<String, TreeMap<Integer, List<FilesWritten>>> files = new LinkedHashMap<>();
    final Map<String, Counts> counts = new HashMap<>();
    final Map<String, GateCounts> gated = new TreeMap<>();
    final Map<String, SourcePosition> positions = new TreeMap<>();
    final Map<String, Long> resnapshots = new HashMap<>();
    long validThrough = Long.MAX_VALUE;
    int tallies;
    int gateTallies;

    CheckpointMessages(List<CommitMessage> messages) {
        for (CommitMessage message : messages) {
            if (message instanceof FilesWritten written) {
                files.computeIfAbsent(written.table(), t -> new TreeMap<>())
                        .computeIfAbsent(written.part(), p -> new ArrayList<>())
                        .add(written);
            } else if (message instanceof GateTally gate) {
                gateTallies++;
                gate.tables().forEach((table, c) -> gated.merge(table, c, GateCounts::plus));
            } else {
                Tally tally = (Tally) message;
                tallies++;
                validThrough = Math.min(validThrough, tally.watermark());
                tally.tables().forEach((table, c) -> counts.merge(table, c, Counts::plus));
                tally.resnapshots().forEach((table, r) -> resnapshots.merge(table, r, Math::max));
                tally.positions()
                        .forEach(
                                (source, position) ->
                                        positions.merge(
                                                source, position, (a, b) -> b.isAfter(a) ? b : a));
            }
        }
    }
}
