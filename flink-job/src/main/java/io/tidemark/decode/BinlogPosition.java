package io.tidemark.decode;

/**
 * A MySQL or MariaDB binlog position as a {@link SourcePosition}, so that the commit-order rule
 * orders binlog changes exactly as it orders Postgres ones, and nothing downstream knows which
 * database a change came from.
 *
 * <p>The binlog is written in commit order, a transaction's events together; a change is placed by
 * (binlog file, position of its rows event, row within the event). The file's sequence number
 * ({@code mysql-bin.000123} is 123; it grows by one at every rotation) and the event's position
 * share {@code commitLsn} (file number in the high 32 bits, position in the low 32: a binlog file
 * ends below 4 GiB, the event header's position field being 32 bits), the row is {@code changeLsn}.
 * A change in a later file is thus newer than every change of an earlier one, whatever the
 * positions. The decoder reads it from a MySQL source's records ({@code BinlogSourceITCase}) when
 * the source orders by binlog position ({@code source.binlog-order}); positions of two servers do
 * not compare, which is what {@link GtidPosition} is for.
 */
public final class BinlogPosition {

    private static final long MAX_POSITION = 0xFFFF_FFFFL;

    /**
     * File numbers stay below 2^30 (a server rotating every minute takes 2,000 years to get there),
     * so that bit 62 of {@code commitLsn} marks a {@link GtidPosition} instead.
     */
    private static final long MAX_FILE_NUMBER = (1L << 30) - 1;

    private BinlogPosition() {}

    /** The position of row {@code row} of the rows event at {@code position} of {@code file}. */
    public static SourcePosition of(String file, long position, int row) {
        if (position < 0 || position > MAX_POSITION) {
            throw new IllegalArgumentException(
                    "binlog position "
                            + position
                            + " of "
                            + file
                            + " is outside 0..2^32-1"
                            + (position < 0
                                    ? " (MariaDB 11.4 and later write binlog events without their"
                                            + " positions unless binlog_legacy_event_pos=ON: set it)"
                                    : ""));
        }
        if (row < 0) {
            throw new IllegalArgumentException(
                    "row " + row + " of the binlog event at " + file + ":" + position);
        }
        return new SourcePosition((fileNumber(file) << 32) | position, row, SourcePosition.UNKNOWN);
    }

    /**
     * The place of {@code position} in {@code file} in the order of {@link #of}'s {@code
     * commitLsn}: a re-snapshot's chunk is placed by its high watermark so ({@link
     * SourcePosition#resnapshotOfBinlog}).
     */
    public static long place(String file, long position) {
        return of(file, position, 0).commitLsn();
    }

    /**
     * The sequence number of a binlog file name: the digits after its last dot ({@code
     * mysql-bin.000123}, {@code mariadb-bin.1000000}).
     */
    public static long fileNumber(String file) {
        int dot = file == null ? -1 : file.lastIndexOf('.');
        if (dot < 0 || dot == file.length() - 1) {
            throw new IllegalArgumentException(
                    "binlog file name '" + file + "' does not end in '.<sequence number>'");
        }
        long number = 0;
        for (int i = dot + 1; i < file.length(); i++) {
            char c = file.charAt(i);
            if (c < '0' || c > '9' || number > MAX_FILE_NUMBER) {
                throw new IllegalArgumentException(
                        "binlog file name '"
                                + file
                                + "' does not end in a sequence number below 2^30");
            }
            number = number * 10 + (c - '0');
        }
        if (number > MAX_FILE_NUMBER) {
            throw new IllegalArgumentException(
                    "binlog file name '" + file + "' does not end in a sequence number below 2^30");
        }
        return number;
    }

    /**
     * {@code <file number>:<position>#<row>} ({@link GtidPosition#describe} for one placed by
     * GTID), for logs and provenance.
     */
    public static String describe(SourcePosition position) {
        if (position.commitLsn() == SourcePosition.UNKNOWN) {
            return "-";
        }
        if (GtidPosition.isGtid(position)) {
            return GtidPosition.describe(position);
        }
        return (position.commitLsn() >>> 32)
                + ":"
                + (position.commitLsn() & MAX_POSITION)
                + "#"
                + position.changeLsn();
    }
}
