package io.tidemark.reconcile;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import io.tidemark.protocol.CommitMessage.Counts;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one reconciler subtask saw since the last checkpoint barrier: changes in, stale and late per
 * table, and the newest log position per source (none before the source's log is read). Not state:
 * it is handed to the committer at every barrier ({@link ReconcilerOperator}) and starts again from
 * zero.
 */
public final class CheckpointTally {

    private final Map<String, long[]> tables = new HashMap<>();
    private final Map<String, SourcePosition> positions = new HashMap<>();
    private final Map<String, Long> resnapshots = new HashMap<>();

    void in(ChangeEvent change) {
        counts(change.table())[0]++;
        SourcePosition position = change.position();
        if (position.isResnapshot()) {
            // a re-read row is no place in the source's log: the log's positions stand
            resnapshots.merge(change.table(), position.txId(), Math::max);
            return;
        }
        if (change.operation() == Operation.READ) {
            // nor is a snapshot row (a MySQL one carries its chunk's binlog offset): a source has
            // a position once its log is read, after its snapshot
            return;
        }
        SourcePosition newest = positions.get(change.source());
        if (newest == null || position.isAfter(newest)) {
            positions.put(change.source(), position);
        }
    }

    void stale(String table) {
        counts(table)[1]++;
    }

    void late(String table) {
        counts(table)[2]++;
    }

    private long[] counts(String table) {
        return tables.computeIfAbsent(table, t -> new long[3]);
    }

    /** The counts per table since the last call, and starts again. */
    public Map<String, Counts> drainCounts() {
        Map<String, Counts> out = new TreeMap<>();
        tables.forEach((table, c) -> out.put(table, new Counts(c[0], c[1], c[2])));
        tables.clear();
        return out;
    }

    /**
     * Per source table, the newest re-snapshot request seen since the last call, and starts again.
     */
    public Map<String, Long> drainResnapshots() {
        Map<String, Long> out = new TreeMap<>(resnapshots);
        resnapshots.clear();
        return out;
    }

    /** The newest position per source; kept (a quiet interval has consumed through it too). */
    public Map<String, SourcePosition> positions() {
        return new TreeMap<>(positions);
    }
}
