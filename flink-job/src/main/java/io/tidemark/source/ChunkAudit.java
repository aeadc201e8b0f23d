package io.tidemark.source;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Checks a snapshot chunk against the source: the rows the chunk emits must be the rows its key
 * range held at a later point, less what changed in between. A plain class (no Flink types).
 *
 * <p>After the chunk's backfill window is known, the reader counts the range's rows in one
 * transaction snapshot taken once every transaction open at the high watermark has ended. Every
 * change the backfill folds (below the high watermark) is visible in that snapshot; of the changes
 * it leaves to the log phase (at or after the watermark), those of transactions the snapshot sees
 * are in the count but not in the chunk. So {@code emitted == counted - inserts + deletes} of
 * those. A difference means the source delivered the chunk wrongly: a change lost or doubled at the
 * source, which no later stage can see (issue 17). The reader reports it; it never drops rows.
 */
final class ChunkAudit {

    /** Chunks audited and chunks that differed, in this JVM (tests read them). */
    static final AtomicLong AUDITED = new AtomicLong();

    static final AtomicLong DIFFERED = new AtomicLong();

    private final String chunk;
    private final long counted;
    private final long xmin;
    private final long xmax;
    private final long[] inProgress;
    private long insertedSince;
    private long deletedSince;

    /**
     * @param chunk the chunk's name, for messages
     * @param counted the key range's rows in the snapshot
     * @param xmin the snapshot's {@code txid_snapshot_xmin} (64-bit, with epoch)
     * @param xmax its {@code txid_snapshot_xmax}
     * @param inProgress its {@code txid_snapshot_xip}, the transactions it does not see
     */
    ChunkAudit(String chunk, long counted, long xmin, long xmax, long[] inProgress) {
        this.chunk = chunk;
        this.counted = counted;
        this.xmin = xmin;
        this.xmax = xmax;
        this.inProgress = inProgress.clone();
        Arrays.sort(this.inProgress);
    }

    /**
     * A change the backfill left to the log phase. {@code xid} is the 32-bit transaction id the log
     * carries; {@code operation} Debezium's {@code c}, {@code u} or {@code d}.
     */
    void leftToLogPhase(long xid, String operation) {
        if (!visible(xid)) {
            return;
        }
        if ("c".equals(operation)) {
            insertedSince++;
        } else if ("d".equals(operation)) {
            deletedSince++;
        }
    }

    /** The rows the chunk must emit. */
    long expectedRows() {
        return counted - insertedSince + deletedSince;
    }

    /** Whether the chunk emitted the rows it must; counts the audit. */
    boolean check(long emitted) {
        AUDITED.incrementAndGet();
        if (emitted == expectedRows()) {
            return true;
        }
        DIFFERED.incrementAndGet();
        return false;
    }

    /** Whether the snapshot sees (the commit of) the transaction with 32-bit id {@code xid}. */
    boolean visible(long xid) {
        long full = widen(xid);
        if (full < xmin) {
            return true;
        }
        return full < xmax && Arrays.binarySearch(inProgress, full) < 0;
    }

    /**
     * The 64-bit id of a 32-bit one: the one nearest {@code xmax} (ids in use are within 2^31 of
     * each other, as Postgres compares them), so an id just above {@code xmax} is a later
     * transaction and one far above it the previous epoch's.
     */
    private long widen(long xid) {
        long candidate = (xmax & ~0xFFFF_FFFFL) | (xid & 0xFFFF_FFFFL);
        if (candidate - xmax > (1L << 31)) {
            return candidate - (1L << 32);
        }
        if (xmax - candidate > (1L << 31)) {
            return candidate + (1L << 32);
        }
        return candidate;
    }

    @Override
    public String toString() {
        return String.format(
                "chunk %s: counted %d, inserted since %d, deleted since %d",
                chunk, counted, insertedSince, deletedSince);
    }
}
