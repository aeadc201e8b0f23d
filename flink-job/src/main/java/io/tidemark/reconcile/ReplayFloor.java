package io.tidemark.reconcile;

import io.tidemark.decode.GtidPosition;
import io.tidemark.decode.SourcePosition;
import java.io.Serializable;

/**
 * What a table holds of one source's log, for a start without state that reads the log again
 * ({@code run --fresh --keep-serving}): {@code through}, the position its newest commit holds every
 * change through, and {@code logFrom}, where the log is read again from (a Postgres slot's
 * confirmed position; {@link SourcePosition#UNKNOWN} if not known).
 *
 * <p>Debezium names a Postgres transaction by the commit position of the one before it, which it
 * does not know for the first transaction after a start (its changes carry none): that one follows
 * every transaction committed at or before {@code logFrom}, and stands there.
 */
public record ReplayFloor(SourcePosition through, long logFrom) implements Serializable {

    /** Whether {@code position}, of this floor's source, is at or below {@link #through}. */
    public boolean holds(SourcePosition position) {
        if (position.isResnapshot() || position.changeLsn() == SourcePosition.UNKNOWN) {
            return false;
        }
        SourcePosition placed = position;
        if (position.commitLsn() == SourcePosition.UNKNOWN) {
            if (logFrom == SourcePosition.UNKNOWN) {
                return false;
            }
            placed = new SourcePosition(logFrom, position.changeLsn(), position.txId());
        }
        return GtidPosition.isGtid(placed) == GtidPosition.isGtid(through)
                && !placed.isAfter(through);
    }
}
