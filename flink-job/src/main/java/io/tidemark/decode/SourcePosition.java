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
