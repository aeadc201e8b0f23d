package io.tidemark.reconcile;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.StringSerializer;

/**
 * Where each source table was last truncated, in the source's order (commit, change): a change
 * placed before it describes a row the truncate removed. Every reconciler subtask keeps them all
 * (each met every truncate).
 */
final class Truncates {

    /**
     * Union state: where each table was last truncated ({@code table TAB commit TAB change}); every
     * subtask keeps them all, so a rescaled job keeps them too.
     */
    static final ListStateDescriptor<String> STATE =
            new ListStateDescriptor<>("reconcile-truncates", StringSerializer.INSTANCE);

    private final Map<String, long[]> at = new HashMap<>();

    private Truncates() {}

    /** The truncates kept in {@link #STATE}. */
    static Truncates read(Iterable<String> entries) {
        Truncates truncates = new Truncates();
        for (String entry : entries) {
            String[] parts = entry.split("\t");
            truncates.truncated(parts[0], Long.parseLong(parts[1]), Long.parseLong(parts[2]));
        }
        return truncates;
    }

    /** The entries of {@link #STATE}. */
    List<String> write() {
        List<String> entries = new ArrayList<>(at.size());
        for (Map.Entry<String, long[]> entry : at.entrySet()) {
            entries.add(entry.getKey() + "\t" + entry.getValue()[0] + "\t" + entry.getValue()[1]);
        }
        return entries;
    }

    /** Notes the truncate {@code change} of its table, if it is the newest. */
    void truncated(ChangeEvent change) {
        truncated(change.table(), change.position().commitLsn(), change.position().changeLsn());
    }

    private void truncated(String table, long commit, long change) {
        long[] last = at.get(table);
        if (last == null || Sequence.compare(commit, change, last[0], last[1]) > 0) {
            at.put(table, new long[] {commit, change});
        }
    }

    /** Where {@code table} was last truncated (commit, change), or null: one lookup per change. */
    long[] at(String table) {
        return at.get(table);
    }

    /** Whether {@code change} comes before the truncate at {@code truncate} (null: none). */
    static boolean isBefore(ChangeEvent change, long[] truncate) {
        if (truncate == null) {
            return false;
        }
        // a snapshot row has no place in the log: every snapshot chunk of the table ended before
        // a truncate that is applied (the source quarantines one made while they were read)
        if (change.operation() == Operation.READ) {
            return true;
        }
        SourcePosition position = change.position();
        return Sequence.isBefore(
                position.commitLsn(), position.changeLsn(), truncate[0], truncate[1]);
    }
}
