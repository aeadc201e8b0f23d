package io.tidemark.decode;

/**
 * Where a change stands in its source's log.
 *
 * <p>For Postgres: {@code commitLsn} is the first element of Debezium's {@code source.sequence}
 * (the commit LSN Debezium tracks for the transaction stream), {@code changeLsn} is {@code
 * source.lsn}, {@code txId} is {@code source.txId}. pgoutput sends transactions whole and in commit
 * order, so (commitLsn, changeLsn) orders changes by commit. {@link #UNKNOWN} (-1) marks a part the
 * source did not give (snapshot rows carry no change LSN).
 */
public record SourcePosition(long commitLsn, long changeLsn, long txId) {

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

    /** Whether this is a re-snapshot's change ({@link #RESNAPSHOT}, {@link #RESNAPSHOT_BINLOG}). */
    public boolean isResnapshot() {
        return commitLsn == RESNAPSHOT || commitLsn == RESNAPSHOT_BINLOG;
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
