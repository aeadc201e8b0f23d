package io.tidemark.reconcile;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.source.LiveTables;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * An update that changes the primary key is two changes of two keys: a delete of the old key and an
 * update (upsert) of the new one, at the same position. Split before keying, so each key's
 * reconciler sees only its own changes. A plain class.
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
        this.primaryKeys = Map.copyOf(primaryKeys);
        this.live = live;
    }

    public void split(ChangeEvent change, Consumer<ChangeEvent> out) {
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
