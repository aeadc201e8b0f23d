package io.tidemark.reconcile;

import io.tidemark.decode.GtidPosition;
import io.tidemark.decode.SourcePosition;

/**
 * The position of a change in its key's total order. Compared field by field: {@code eventTime} (0
 * under commit order), then {@code source} (the rank of the source in the pipeline's declared
 * order: the deterministic tie-breaker between sources), then {@code major} and {@code minor} (the
 * source position: commit LSN and change LSN for Postgres). Snapshot rows carry {@code major =
 * minor = -1}, so they sort before every log change of the same event time and source.
 */
public record Sequence(long eventTime, int source, long major, long minor)
        implements Comparable<Sequence> {

    /** A sequence of the pipeline's first (or only) source. */
    public Sequence(long eventTime, long major, long minor) {
        this(eventTime, 0, major, minor);
    }

    @Override
    public int compareTo(Sequence other) {
        int c = Long.compare(eventTime, other.eventTime);
        if (c != 0) {
            return c;
        }
        c = Integer.compare(source, other.source);
        if (c != 0) {
            return c;
        }
        c = Long.compare(major, other.major);
        return c != 0 ? c : Long.compare(minor, other.minor);
    }

    /** Compares two places in one source's order: (major, minor) lexicographically. */
    public static int compare(long major, long minor, long otherMajor, long otherMinor) {
        int c = Long.compare(major, otherMajor);
        return c != 0 ? c : Long.compare(minor, otherMinor);
    }

    /**
     * Strictly newer than {@code other}; equal sequences are duplicates, not newer. A re-snapshot's
     * change ({@code major} {@link SourcePosition#RESNAPSHOT}) and a change of the same key are
     * compared by change LSN ({@code minor}) alone: per key, LSN order is commit order, and the
     * re-read holds every change of its key through its {@code minor}. A binlog re-snapshot's
     * change ({@link SourcePosition#RESNAPSHOT_BINLOG}) holds every change through the binlog place
     * {@code minor}, and a log change's place is its {@code major}. A GTID re-snapshot's change
     * ({@link SourcePosition#RESNAPSHOT_GTID}) holds every change through the GTID ordinal in its
     * {@code minor} ({@link #gtidPlace}).
     */
    public boolean isNewerThan(Sequence other) {
        if (eventTime == other.eventTime && source == other.source) {
            if (major == SourcePosition.RESNAPSHOT || other.major == SourcePosition.RESNAPSHOT) {
                return minor > other.minor;
            }
            if (major == SourcePosition.RESNAPSHOT_GTID
                    || other.major == SourcePosition.RESNAPSHOT_GTID) {
                return gtidPlace(major, minor) > gtidPlace(other.major, other.minor);
            }
            if (major == SourcePosition.RESNAPSHOT_BINLOG
                    || other.major == SourcePosition.RESNAPSHOT_BINLOG) {
                return binlogPlace(major, minor) > binlogPlace(other.major, other.minor);
            }
        }
        return compareTo(other) > 0;
    }

    /** Where {@code (major, minor)} stands in a binlog, for a binlog re-snapshot's comparisons. */
    private static long binlogPlace(long major, long minor) {
        return major == SourcePosition.RESNAPSHOT_BINLOG ? minor : major;
    }

    /**
     * Where {@code (major, minor)} stands in the GTID order, for a GTID re-snapshot's comparisons:
     * a re-read's change at its {@code minor} ({@code ordinal << 2 | step}), a log change placed by
     * GTID at {@code ordinal << 2}; anything placed before GTIDs (by binlog position, a snapshot
     * row, a binlog re-read) comes before every GTID place.
     */
    private static long gtidPlace(long major, long minor) {
        if (major == SourcePosition.RESNAPSHOT_GTID) {
            return minor;
        }
        if (major >= 0 && (major & GtidPosition.GTID_ORDER) != 0) {
            return (major & ~GtidPosition.GTID_ORDER) << 2;
        }
        return -1;
    }

    /**
     * Whether this sequence comes before a place {@code (major, minor)} of the log (a truncate's),
     * by the same rule as {@link #isNewerThan}.
     */
    public boolean isBefore(long otherMajor, long otherMinor) {
        return isBefore(major, minor, otherMajor, otherMinor);
    }

    /** {@link #isBefore(long, long)} of the place {@code (major, minor)}, without a Sequence. */
    public static boolean isBefore(long major, long minor, long otherMajor, long otherMinor) {
        if (major == SourcePosition.RESNAPSHOT) {
            return minor < otherMinor;
        }
        if (major == SourcePosition.RESNAPSHOT_BINLOG) {
            return minor < otherMajor;
        }
        if (major == SourcePosition.RESNAPSHOT_GTID) {
            return minor < gtidPlace(otherMajor, otherMinor);
        }
        return compare(major, minor, otherMajor, otherMinor) < 0;
    }
}
