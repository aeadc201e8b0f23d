package io.tidemark.reconcile;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds the changes of reconciler tests: table {@code public.t}, key column {@code id}. */
final class Changes {

    static final String TABLE = "public.t";

    private Changes() {}

    static Map<String, Object> row(long id, String value, long updatedAtMillis) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", id);
        row.put("v", value);
        row.put("updated_at", updatedAtMillis);
        return row;
    }

    /** A log change at commit LSN {@code lsn}, committed at {@code ts} (ms). */
    static ChangeEvent change(Operation op, long id, String value, long lsn, long ts) {
        Map<String, Object> image = row(id, value, ts);
        return new ChangeEvent(
                TABLE,
                op,
                List.of(id),
                op == Operation.DELETE ? image : null,
                op == Operation.DELETE ? null : image,
                new SourcePosition(lsn, lsn, lsn),
                ts);
    }

    static ChangeEvent insert(long id, String value, long lsn, long ts) {
        return change(Operation.INSERT, id, value, lsn, ts);
    }

    static ChangeEvent update(long id, String value, long lsn, long ts) {
        return change(Operation.UPDATE, id, value, lsn, ts);
    }

    static ChangeEvent delete(long id, long lsn, long ts) {
        return change(Operation.DELETE, id, "deleted", lsn, ts);
    }

    /**
     * Applies emitted changes as an upsert sink would: key -> value of {@code v}, deletes remove.
     */
    static Map<List<Object>, Object> materialize(List<ChangeEvent> emitted) {
        Map<List<Object>, Object> table = new java.util.HashMap<>();
        for (ChangeEvent change : emitted) {
            if (change.operation() == Operation.TRUNCATE) {
                table.clear();
            } else if (change.operation() == Operation.DELETE) {
                table.remove(change.key());
            } else {
                table.put(change.key(), change.after().get("v"));
            }
        }
        return table;
    }

    /** A truncate of the table at commit LSN {@code lsn}, one reconciler subtask's copy. */
    static ChangeEvent truncate(long lsn, long ts) {
        return new ChangeEvent(
                TABLE,
                Operation.TRUNCATE,
                List.of(KeyChangeSplitter.TRUNCATE_KEY, 0L),
                null,
                null,
                new SourcePosition(lsn, lsn, lsn),
                ts);
    }

    static ChangeEvent read(long id, String value, long ts) {
        return new ChangeEvent(
                TABLE,
                Operation.READ,
                List.of(id),
                null,
                row(id, value, ts),
                SourcePosition.NONE,
                ts);
    }
}
