package io.tidemark.decode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A MySQL change's place in the GTID order, as a {@link SourcePosition}: the order that holds
 * across servers, so that a pipeline whose source fails over to a promoted replica (Flink CDC
 * resumes there by GTID set) keeps ordering its changes correctly.
 *
 * <p>A transaction is placed by its <em>ordinal</em>: the number of transactions in the server's
 * executed GTID set once it has committed, that is the size of the GTID set the reader had consumed
 * before it (Debezium's offset {@code gtids}) together with its own GTID ({@code source.gtid}).
 * Every transaction a server writes to its binlog adds exactly one GTID to its executed set, so the
 * ordinal grows by one per transaction in binlog order; a replica that has applied the same
 * transactions has the same set, so its own next transaction gets the next ordinal, whatever its
 * server UUID. Binlog file names and positions, which differ between servers, play no part. Within
 * a transaction a change is placed by (event within the transaction, row within the event): the
 * offset's {@code event}, which counts the transaction's events before the current one, and the
 * source's {@code row}; the same on every server that wrote the transaction the same way, and the
 * same counters Debezium itself skips by when it resumes inside a transaction.
 *
 * <p>{@code commitLsn} is {@link #GTID_ORDER} (bit 62) plus the ordinal; {@link BinlogPosition}s
 * stay below it (file numbers below 2^30). So every change placed by GTID sorts after every change
 * placed by binlog position: a pipeline that starts ordering by GTID (GTIDs turned on, {@code
 * source.binlog-order} changed) from a savepoint taken under binlog positions keeps its state. The
 * reverse switch would make new changes look older than the state: start afresh for it (a job
 * restored across it fails naming this, in {@link io.tidemark.reconcile.Reconciliation}, rather
 * than dropping them as stale).
 */
public final class GtidPosition {

    /** Marks a {@code commitLsn} that is a GTID ordinal. */
    public static final long GTID_ORDER = 1L << 62;

    private static final Pattern WHITESPACE = Pattern.compile("\\s");

    private GtidPosition() {}

    /**
     * The position of row {@code row} of the transaction's event {@code event}, of the transaction
     * with GTID {@code gtid}, read after {@code consumed} (the GTID set before it; it may already
     * hold {@code gtid}, as Debezium's first offset after a start does).
     */
    public static SourcePosition of(String consumed, String gtid, long event, int row) {
        return at(ordinal(consumed, gtid), event, row, gtid);
    }

    private static SourcePosition at(long ordinal, long event, int row, String gtid) {
        if (event < 0 || event > Integer.MAX_VALUE || row < 0) {
            throw new IllegalArgumentException(
                    "event " + event + ", row " + row + " of the transaction " + gtid);
        }
        return new SourcePosition(
                GTID_ORDER | ordinal, (event << 32) | row, SourcePosition.UNKNOWN);
    }

    /**
     * {@link GtidPosition#of} that parses a transaction's GTID set once: every change of a
     * transaction carries the same GTID and consumed set, so the last ordinal is kept. Not
     * thread-safe: one per decoder (a source reader decodes on one thread).
     */
    public static final class Positions {
        private String consumed;
        private String gtid;
        private long ordinal;

        public SourcePosition of(String consumed, String gtid, long event, int row) {
            if (!gtid.equals(this.gtid) || !Objects.equals(consumed, this.consumed)) {
                ordinal = ordinal(consumed, gtid);
                this.consumed = consumed;
                this.gtid = gtid;
            }
            return at(ordinal, event, row, gtid);
        }
    }

    /** Whether {@code position} was placed by GTID. */
    public static boolean isGtid(SourcePosition position) {
        return position.commitLsn() != SourcePosition.UNKNOWN
                && (position.commitLsn() & GTID_ORDER) != 0;
    }

    /** {@code gtid:<ordinal>#<event>.<row>}, for logs and provenance. */
    public static String describe(SourcePosition position) {
        return "gtid:"
                + (position.commitLsn() & ~GTID_ORDER)
                + "#"
                + (position.changeLsn() >>> 32)
                + "."
                + (position.changeLsn() & 0xFFFF_FFFFL);
    }

    /**
     * The number of transactions in {@code set} together with {@code gtid}. A set is MySQL's text
     * form, {@code uuid[:tag]:interval[:interval...][,...]} with intervals {@code N} or {@code N-M}
     * (whitespace and line breaks ignored); a GTID is {@code uuid[:tag]:N}.
     */
    public static long ordinal(String set, String gtid) {
        if (gtid == null || gtid.isBlank()) {
            throw new IllegalArgumentException("a binlog change without a GTID");
        }
        Map<String, List<long[]>> intervals = parse(set == null ? "" : set);
        String compact = WHITESPACE.matcher(gtid).replaceAll("");
        int colon = compact.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("GTID '" + gtid + "' is not '<uuid>:<number>'");
        }
        String source = compact.substring(0, colon).toLowerCase(Locale.ROOT);
        long number = number(compact.substring(colon + 1), gtid);
        long count = 0;
        boolean contained = false;
        for (Map.Entry<String, List<long[]>> entry : intervals.entrySet()) {
            for (long[] interval : entry.getValue()) {
                count = Math.addExact(count, interval[1] - interval[0] + 1);
                if (entry.getKey().equals(source)
                        && number >= interval[0]
                        && number <= interval[1]) {
                    contained = true;
                }
            }
        }
        long ordinal = contained ? count : Math.addExact(count, 1);
        if (ordinal >= GTID_ORDER) {
            throw new IllegalArgumentException("GTID set '" + set + "' holds 2^62 transactions");
        }
        return ordinal;
    }

    /**
     * The number of transactions in {@code set} (MySQL's text form): the GTID ordinal of the last
     * transaction a server whose executed set is {@code set} committed, 0 for an empty set.
     */
    public static long size(String set) {
        long count = 0;
        for (List<long[]> source : parse(set == null ? "" : set).values()) {
            for (long[] interval : source) {
                count = Math.addExact(count, interval[1] - interval[0] + 1);
            }
        }
        return count;
    }

    private static Map<String, List<long[]>> parse(String set) {
        Map<String, List<long[]>> intervals = new LinkedHashMap<>();
        String compact = WHITESPACE.matcher(set).replaceAll("");
        if (compact.isEmpty()) {
            return intervals;
        }
        for (String member : compact.split(",")) {
            if (member.isEmpty()) {
                continue;
            }
            String[] parts = member.split(":");
            if (parts.length < 2) {
                throw new IllegalArgumentException(
                        "GTID set '" + set + "': '" + member + "' has no intervals");
            }
            // uuid, then tags (MySQL 8.3+: uuid:tag:1-5) and intervals in any order after it
            String uuid = parts[0].toLowerCase(Locale.ROOT);
            String tag = null;
            for (int i = 1; i < parts.length; i++) {
                String part = parts[i];
                if (!part.isEmpty() && Character.isDigit(part.charAt(0))) {
                    String source = tag == null ? uuid : uuid + ":" + tag;
                    int dash = part.indexOf('-');
                    long first = number(dash < 0 ? part : part.substring(0, dash), set);
                    long last = dash < 0 ? first : number(part.substring(dash + 1), set);
                    if (last < first) {
                        throw new IllegalArgumentException(
                                "GTID set '" + set + "': interval '" + part + "' is descending");
                    }
                    intervals
                            .computeIfAbsent(source, s -> new ArrayList<>())
                            .add(new long[] {first, last});
                } else {
                    tag = part.toLowerCase(Locale.ROOT);
                }
            }
        }
        return intervals;
    }

    private static long number(String text, String in) {
        try {
            long value = Long.parseLong(text);
            if (value < 1) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "'" + in + "': '" + text + "' is not a transaction number (1 or more)");
        }
    }
}
