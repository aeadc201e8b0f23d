package io.tidemark.source;

/**
 * Where a Postgres snapshot chunk hands over to the log, as plain rules. A chunk is read between a
 * low and a high watermark (WAL insert positions taken before and after its {@code SELECT}); its
 * backfill then reads the log from the low watermark in commit order, and the log phase later reads
 * the same log for every chunk.
 *
 * <ul>
 *   <li>A change whose LSN is below the chunk's high watermark belongs to the chunk: its backfill
 *       folds it into the chunk's rows (by key, in commit order).
 *   <li>A change at or after the high watermark belongs to the log phase, which emits it; the
 *       backfill leaves it out, so no change is delivered twice.
 *   <li>The backfill reads until every transaction that was open at the high watermark has ended,
 *       so a change below the watermark whose transaction commits later is folded too.
 * </ul>
 *
 * <p>Why it is exact: rows of one key are written under its row lock, so for one key LSN order is
 * commit order; applying a key's changes below the watermark (folded) and then those at or after it
 * (emitted) applies them in order. Every change below the watermark was written before the
 * watermark was taken, so its transaction was open then or had ended: it is in the snapshot (ended
 * before the {@code SELECT}) or in the backfill (ended after it, before the backfill's end).
 *
 * <p>Flink CDC 3.5's own hand-over compares a change's LSN with the high watermark in the log phase
 * ({@code position.isAfter(highWatermark)}) but ends the backfill at the first message at or past
 * the watermark, in commit order: a change exactly at the watermark, or below it in a transaction
 * that commits after another transaction passed it, was delivered by neither (issue 17).
 */
final class SnapshotHandOver {

    private SnapshotHandOver() {}

    /** Whether the chunk's backfill folds a change at {@code changeLsn} into its rows. */
    static boolean foldedIntoChunk(long changeLsn, long highWatermark) {
        return changeLsn < highWatermark;
    }

    /**
     * The position the log phase compares with a chunk's high watermark. Flink CDC emits a change
     * whose position is strictly after the watermark; one past the change's LSN makes that "at or
     * after", the complement of {@link #foldedIntoChunk}.
     */
    static long logPhasePosition(long changeLsn) {
        return changeLsn + 1;
    }
}
