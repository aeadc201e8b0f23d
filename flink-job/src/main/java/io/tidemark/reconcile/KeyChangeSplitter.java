package io.tidemark.reconcile;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.source.LiveTables;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

/**
 * An update that changes the primary key is two changes of two keys: a delete of the old key and an
 * update (upsert) of the new one, at the same position. Split before keying, so each key's
 * reconciler sees only its own changes. A {@code TRUNCATE}, which is every key's, becomes one copy
 * per reconciler subtask, each under a key that the keyed exchange sends to that subtask: every
 * reconciler (and the writer it feeds) meets it in its place among the changes of the same source
 * subtask. A plain class.
 */
public final class KeyChangeSplitter implements Serializable {

    private static final long serialVersionUID = 1L;

    private final Map<String, List<String>> primaryKeys;
    private final LiveTables live;

    public KeyChangeSplitter(Map<String, List<String>> primaryKeys) {
        this(primaryKeys, LiveTables.NONE);
    }

    /** A splitter that also knows the keys of tables created while the job runs. */
    public KeyChangeSplitter(Map<String, List<String>> primaryKeys, LiveTables live) {
        this(primaryKeys, live, 1, 1);
    }

    /**
     * @param reconcilers the reconciler's parallelism
     * @param maxParallelism the job's maximum parallelism (its key groups)
     */
    public KeyChangeSplitter(
            Map<String, List<String>> primaryKeys,
            LiveTables live,
            int reconcilers,
            int maxParallelism) {
        this.primaryKeys = Map.copyOf(primaryKeys);
        this.live = live;
        this.reconcilers = reconcilers;
        this.maxParallelism = maxParallelism;
    }

    private final int reconcilers;
    private final int maxParallelism;

    /** Per table, the keys of its truncate's copies, the i-th routed to reconciler subtask i. */
    private transient Map<String, List<List<Object>>> truncateKeys;

    /** The key part every truncate copy's key starts with (its second part is a number). */
    public static final String TRUNCATE_KEY = "\u0001truncate";

    /**
     * Keys under which {@code table}'s truncate reaches each reconciler subtask: the first numbers
     * {@code n} whose key ({@link Reconciler#keyOf}) the keyed exchange assigns to it.
     */
    List<List<Object>> truncateKeys(String table) {
        if (truncateKeys == null) {
            truncateKeys = new HashMap<>();
        }
        return truncateKeys.computeIfAbsent(
                table,
                t -> {
                    List<Object>[] bySubtask = new List[reconcilers];
                    int found = 0;
                    for (long n = 0; found < reconcilers; n++) {
                        List<Object> key = List.of(TRUNCATE_KEY, n);
                        String routed =
                                Reconciler.keyOf(
                                        new ChangeEvent(
                                                t,
                                                Operation.TRUNCATE,
                                                key,
                                                null,
                                                null,
                                                io.tidemark.decode.SourcePosition.NONE,
                                                0L));
                        int subtask =
                                KeyGroupRangeAssignment.assignKeyToParallelOperator(
                                        routed, maxParallelism, reconcilers);
                        if (bySubtask[subtask] == null) {
                            bySubtask[subtask] = key;
                            found++;
                        }
                    }
                    return List.of(bySubtask);
                });
    }

    public void split(ChangeEvent change, Consumer<ChangeEvent> out) {
        if (change.operation() == Operation.TRUNCATE) {
            for (List<Object> key : truncateKeys(change.table())) {
                // its image marks a truncate made while the table's snapshot was read
                out.accept(change.with(Operation.TRUNCATE, key, null, change.after()));
            }
            return;
        }
        if (change.operation() != Operation.UPDATE || change.before() == null) {
            out.accept(change);
            return;
        }
        List<String> keyColumns = primaryKeys.get(change.table());
        if (keyColumns == null) {
            keyColumns = live.keyColumns(change.table());
        }
        List<Object> oldKey = new ArrayList<>(keyColumns.size());
        boolean changed = false;
        for (String column : keyColumns) {
            if (!change.before().containsKey(column)) {
                out.accept(change);
                return;
            }
            Object old = change.before().get(column);
            oldKey.add(old);
            // deepEquals: a binary key's values are byte arrays
            changed |= !Objects.deepEquals(old, change.after().get(column));
        }
        if (!changed) {
            out.accept(change);
            return;
        }
        out.accept(change.with(Operation.DELETE, oldKey, change.before(), null));
        out.accept(change.with(Operation.UPDATE, change.key(), null, change.after()));
    }
}
