package io.tidemark.reconcile;

import io.tidemark.config.LatePolicy;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.GtidPosition;
import io.tidemark.decode.Operation;

/**
 * Decides what one change does to its key. A plain class; {@link Reconciler} only moves data in and
 * out of state.
 *
 * <p>Decision table, for a change {@code c} with sequence {@code s} and event time {@code t}, a key
 * whose retained state (if any) applied sequence {@code a}, and the operator's watermark {@code w}:
 *
 * <ul>
 *   <li><b>late</b>: {@code c} is not a snapshot row and {@code t < w - allowedLateness}. Then the
 *       table's policy decides: {@code quarantine} sends it to the LATE output and leaves the state
 *       alone; {@code fail} fails the job; {@code apply-if-newer} goes on with the rules below.
 *   <li><b>no state</b>: apply; a delete leaves a tombstone.
 *   <li><b>{@code s <= a}</b> (older, or a replayed duplicate with {@code s == a}): stale, dropped
 *       and counted. This is why a late update cannot resurrect a deleted row: the tombstone's
 *       sequence is newer.
 *   <li><b>{@code s > a}</b>: apply; an insert after a delete re-creates the row; a delete leaves a
 *       tombstone.
 *   <li>A log change placed by binlog position against state placed by GTID ({@link
 *       io.tidemark.decode.GtidPosition}): the two kinds do not compare, so the job fails naming
 *       the fix rather than dropping the change as stale.
 *   <li>Ties cannot reorder: equal sequences are duplicates. Snapshot rows carry the lowest
 *       position, so they never overwrite a log change of the same key.
 *   <li>A re-snapshot's change ({@link io.tidemark.decode.SourcePosition#RESNAPSHOT}) and a change
 *       or state of its key compare by change LSN alone ({@link Sequence#isNewerThan}).
 * </ul>
 *
 * <p>State is kept until the watermark passes {@code eventTime + retention}; snapshot rows, which
 * have no event time, count from the watermark at which they arrived.
 */
public final class Reconciliation {

    private Reconciliation() {}

    /**
     * Whether a sequence's {@code major} is a GTID ordinal ({@link GtidPosition}) or a GTID
     * re-snapshot's place.
     */
    private static boolean placedByGtid(long major) {
        return major == io.tidemark.decode.SourcePosition.RESNAPSHOT_GTID
                || (major >= 0 && (major & GtidPosition.GTID_ORDER) != 0);
    }

    /** What to do with the change. */
    public enum Verdict {
        APPLY,
        STALE,
        QUARANTINE_LATE,
        FAIL_LATE
    }

    /** The verdict, whether the change was late, and the key's state afterwards (null: none). */
    public record Decision(Verdict verdict, boolean late, KeyState next) {}

    /**
     * @param state the key's retained state, or null
     * @param watermark the operator's current watermark ({@code Long.MIN_VALUE} before the first)
     */
    public static Decision decide(
            KeyState state,
            ChangeEvent change,
            Sequence sequence,
            long eventTime,
            long watermark,
            long allowedLatenessMillis,
            long retentionMillis,
            LatePolicy policy) {
        // a snapshot's or a re-snapshot's row is the source's current row, not late data
        boolean late =
                change.operation() != Operation.READ
                        && !change.position().isResnapshot()
                        && eventTime != OrderingRule.NO_EVENT_TIME
                        && watermark != Long.MIN_VALUE
                        && eventTime < watermark - allowedLatenessMillis;
        if (late && policy == LatePolicy.QUARANTINE) {
            return new Decision(Verdict.QUARANTINE_LATE, true, state);
        }
        if (late && policy == LatePolicy.FAIL) {
            return new Decision(Verdict.FAIL_LATE, true, state);
        }
        if (state != null && !sequence.isNewerThan(state.applied())) {
            Sequence applied = state.applied();
            if (change.operation() != Operation.READ
                    && sequence.eventTime() == applied.eventTime()
                    && sequence.source() == applied.source()
                    && placedByGtid(applied.major())
                    && !placedByGtid(sequence.major())) {
                // checked off the hot path: only a change that looks older than its state gets here
                throw new IllegalStateException(
                        String.format(
                                "table '%s' key %s: a change placed by binlog position meets state placed by "
                                        + "GTID, and positions of the two kinds do not compare (the change would "
                                        + "be dropped as stale). The source ordered by GTID when this state was "
                                        + "written and no longer does (gtid_mode turned off, or "
                                        + "source.binlog-order changed): turn gtid_mode back on, or start the "
                                        + "pipeline afresh, without this savepoint",
                                change.table(), change.key()));
            }
            return new Decision(Verdict.STALE, late, state);
        }
        long base = eventTime == OrderingRule.NO_EVENT_TIME ? Math.max(watermark, 0L) : eventTime;
        long newest = state == null ? base : Math.max(state.eventTime(), base);
        long cleanupAt = saturatedAdd(newest, retentionMillis);
        return new Decision(
                Verdict.APPLY,
                late,
                new KeyState(sequence, change.operation() == Operation.DELETE, newest, cleanupAt));
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}
