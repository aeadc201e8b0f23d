package io.tidemark.contract;

import io.tidemark.catalog.contract.Coercion;
import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.Contract.Checked;
import io.tidemark.catalog.contract.ReasonCode;
import io.tidemark.catalog.contract.Violation;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The gate's checks of one change against a contract, and the change as it passes. */
final class GateChecks {

    private GateChecks() {}

    /**
     * A change of an event-time table whose image lacks the ordering column (or holds null): the
     * reconciler cannot place it, so it is quarantined here, naming the fix. Null when it has it.
     */
    static Violation withoutOrderingColumn(ChangeEvent change, String column) {
        if (column == null || change.isRereadDelete()) {
            // a re-snapshot's delete takes the event time of the version it removes (reconciler)
            return null;
        }
        Map<String, Object> image = change.image();
        if (image != null && image.get(column) != null) {
            return null;
        }
        return new Violation(
                ReasonCode.MISSING_COLUMN,
                column,
                change.operation() == Operation.DELETE
                        ? "the delete carries no value of the ordering column (event-time): set "
                                + "REPLICA IDENTITY FULL on the source table so deletes carry the old row"
                        : "the ordering column (event-time) is null or absent; every row needs it");
    }

    /** The contract check of one change: deletes by their key, the rest by their after image. */
    static Checked check(Contract contract, ChangeEvent change) {
        if (change.operation() == Operation.DELETE) {
            Map<String, Object> key = new LinkedHashMap<>();
            List<String> columns = contract.primaryKey();
            if (change.key().size() != columns.size()) {
                return new Checked(
                        Map.of(),
                        List.of(
                                new Violation(
                                        ReasonCode.MISSING_KEY,
                                        null,
                                        "the change carries "
                                                + change.key().size()
                                                + " key values, the contract's key "
                                                + columns)));
            }
            for (int i = 0; i < columns.size(); i++) {
                key.put(columns.get(i), change.key().get(i));
            }
            return contract.check(key, true);
        }
        return contract.check(change.after() == null ? Map.of() : change.after(), false);
    }

    /**
     * The passing change as the writers get it: the after image coerced to the contract's types;
     * the before image (the old row of an update or delete) reduced to the key columns, coerced
     * (and, for a delete of an event-time table, the ordering column the reconciler places it by):
     * the writers need nothing else of it (the key of a delete, or of a key change), and its other
     * columns may hold values of the source's types or columns the source added since.
     */
    static ChangeEvent coerced(
            Contract contract, ChangeEvent change, Map<String, Object> row, String ordering) {
        Map<String, Object> before = null;
        if (change.before() != null) {
            before = new LinkedHashMap<>();
            for (String key : contract.primaryKey()) {
                if (change.before().containsKey(key)) {
                    Object value = change.before().get(key);
                    try {
                        value = Coercion.coerce(value, contract.column(key).orElseThrow().type());
                    } catch (Coercion.CoercionException e) {
                        // the writer names the column if it cannot take the value
                    }
                    before.put(key, value);
                }
            }
        }
        if (change.operation() == Operation.DELETE
                && ordering != null
                && change.before() != null
                && change.before().get(ordering) != null) {
            // the reconciler places a delete of an event-time table by the old row's time
            Object value = change.before().get(ordering);
            try {
                value = Coercion.coerce(value, contract.column(ordering).orElseThrow().type());
            } catch (Coercion.CoercionException | java.util.NoSuchElementException e) {
                // as the source sent it: the rule reads timestamps, dates and numbers alike
            }
            before.put(ordering, value);
        }
        return new ChangeEvent(
                change.source(),
                change.table(),
                change.operation(),
                change.key(),
                before,
                change.operation() == Operation.DELETE ? null : row,
                change.position(),
                change.sourceTimeMillis());
    }
}
