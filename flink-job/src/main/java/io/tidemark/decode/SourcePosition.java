package io.tidemark.decode;

/**
 * Where a change stands in its source's log.
 *
 * <p>For Postgres: {@code commitLsn} is the first element of Debezium's {@code source.sequence}
 * (the commit LSN Debezium tracks for the transaction stream), {@code changeLsn} is {@code
 * source.lsn}, {@code txId} is {@code source.txId}. pgoutput sends transactions whole and in commit
 * order, so (commitLsn, changeLsn) orders changes by commit. {@link #UNKNOWN} (-1) marks a part the
 * source did not give (snapshot rows carry no change LSN).
 *
 * <p>For MySQL and MariaDB see {@link BinlogPosition} and {@link GtidPosition}; a change placed by
 * binlog position has its transaction's first event's place ({@link BinlogPosition#place}) as
 * {@code txId}, one placed by GTID has none ({@code commitLsn} names its transaction). Changes of
 * one transaction share it, which keeps them together ({@code TransactionFence}).
 */
public record SourcePosition(long commitLsn, long changeLsn, long txId)
        implements java.io.Serializable {

    public static final long UNKNOWN = -1L;

    public static final SourcePosition NONE = new SourcePosition(UNKNOWN, UNKNOWN, UNKNOWN);

    /**
     * {@code commitLsn} of a change a re-snapshot made (see {@code io.tidemark.source.resnapshot}):
     * a row re-read from the source, or the delete of a key it no longer holds. Its {@code
     * changeLsn} is the last LSN it holds every change of its key through (a chunk's high watermark
     * less one), and its {@code txId} the re-snapshot's request. Per key, LSN order is commit order
     * (a row's changes are written under its row lock), so such a change is ordered against its
     * key's log changes by change LSN alone.
     */
    public static final long RESNAPSHOT = -2L;

    /**
     * {@code commitLsn} of a change a re-snapshot of a MySQL or MariaDB table made: as {@link
     * #RESNAPSHOT}, but its {@code changeLsn} is a binlog place ({@link BinlogPosition}'s {@code
     * commitLsn}: file number and position): the re-read holds every change of its key whose rows
     * event starts at or before it (a chunk's high watermark less one). The binlog is written in
     * commit order, so such a change is ordered against a log change of its key by that change's
     * {@code commitLsn}.
     */
    public static final long RESNAPSHOT_BINLOG = -3L;

    /**
     * {@code commitLsn} of a change a re-snapshot of a MySQL table placed by GTID made: its {@code
     * changeLsn} is {@code ordinal << 2 | step}, where {@code ordinal} is the GTID ordinal ({@link
     * GtidPosition}) it holds every change of its key through (the size of the server's executed
     * GTID set at the read's watermark) and {@code step} (1 or 2) orders the re-read's own changes
     * at one ordinal (its deletes below its rows). A log change placed by GTID stands at {@code
     * ordinal << 2}, below every re-read change of its ordinal: the re-read holds it.
     */
    public static final long RESNAPSHOT_GTID = -4L;

    /** The place of a re-snapshot's change: holds every change of its key through {@code lsn}. */
    public static SourcePosition resnapshot(long lsn, long request) {
        return new SourcePosition(RESNAPSHOT, lsn, request);
    }

    /**
     * The place of a re-snapshot's change of a binlog source: holds every change of its key whose
     * rows event is at or before {@code place} ({@link BinlogPosition#place}).
     */
    public static SourcePosition resnapshotOfBinlog(long place, long request) {
        return new SourcePosition(RESNAPSHOT_BINLOG, place, request);
    }

    /**
     * The place of a re-snapshot's change of a MySQL source placed by GTID: holds every change of
     * its key whose transaction's GTID ordinal is at most {@code ordinal}; {@code step} (1 or 2)
     * orders the re-read's own changes at one ordinal ({@link #RESNAPSHOT_GTID}).
     */
    public static SourcePosition resnapshotOfGtid(long ordinal, int step, long request) {
        if (ordinal < 0 || ordinal >= (1L << 60) || step < 1 || step > 2) {
            throw new IllegalArgumentException("GTID ordinal " + ordinal + ", step " + step);
        }
        return new SourcePosition(RESNAPSHOT_GTID, (ordinal << 2) | step, request);
    }

    /**
     * Whether this is a re-snapshot's change ({@link #RESNAPSHOT}, {@link #RESNAPSHOT_BINLOG},
     * {@link #RESNAPSHOT_GTID}).
     */
    public boolean isResnapshot() {
        return commitLsn == RESNAPSHOT
                || commitLsn == RESNAPSHOT_BINLOG
                || commitLsn == RESNAPSHOT_GTID;
    }

    /** Whether this comes after {@code other} in its source's commit order. */
    public boolean isAfter(SourcePosition other) {
        return commitLsn != other.commitLsn
                ? commitLsn > other.commitLsn
                : changeLsn > other.changeLsn;
    }

    @Override
    public String toString() {
        return "commitLsn=" + lsn(commitLsn) + ",lsn=" + lsn(changeLsn) + ",tx=" + txId;
    }

    /** Postgres' textual form of an LSN, {@code X/Y} in hex. */
    public static String lsn(long value) {
        if (value == UNKNOWN) {
            return "-";
        }
        return Long.toHexString(value >>> 32).toUpperCase()
                + "/"
                + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}
