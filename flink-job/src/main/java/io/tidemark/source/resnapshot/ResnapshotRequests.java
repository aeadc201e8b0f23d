package io.tidemark.source.resnapshot;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateProperties;

/**
 * How a re-snapshot is asked for and recorded: properties of the target table, so any process that
 * can reach the catalog (the {@code tidemark resnapshot} command, a Spark or Trino session) can
 * ask, whether the pipeline runs in-process or on a cluster, and the table's metadata history keeps
 * both.
 *
 * <ul>
 *   <li>{@value #REQUESTED}: the newest request, a number (the command uses the time in epoch
 *       milliseconds); a larger number than the last one handled is a new request. It may be
 *       followed by {@code buckets=N,M,...}: then only keys in those buckets of {@code
 *       GroundTruthDiff}'s hashing are written (what {@code tidemark verify --repair} asks for when
 *       many keys differ), or by {@code keys=H,...}: then only the keys of those fingerprints
 *       ({@code GroundTruthDiff.keyFingerprint}, in hexadecimal) are read again, key by key (what
 *       it asks for when at most {@code GroundTruthDiff.MAX_KEYS} differ);
 *   <li>{@value #COMPLETED}: the newest request handled, then what it did or why it was refused,
 *       written once the checkpoint holding its rows completed.
 * </ul>
 */
public final class ResnapshotRequests {

    public static final String REQUESTED = "tidemark.resnapshot.requested";
    public static final String COMPLETED = "tidemark.resnapshot.completed";

    private ResnapshotRequests() {}

    /** Asks for a re-snapshot of all of {@code table}; returns the request's number. */
    public static long request(Table table) {
        return request(table, List.of(), List.of());
    }

    /**
     * Asks for a re-snapshot of the keys of {@code table} whose fingerprints are {@code keys}, or
     * else of those in {@code buckets} (all keys when both are empty); returns the request's
     * number.
     */
    public static long request(Table table, List<Integer> buckets, List<Long> keys) {
        table.refresh();
        UpdateProperties update = table.updateProperties();
        long request = Math.max(System.currentTimeMillis(), requested(table) + 1);
        String value =
                !keys.isEmpty()
                        ? request
                                + " "
                                + KEYS
                                + keys.stream()
                                        .map(Long::toHexString)
                                        .collect(Collectors.joining(","))
                        : buckets.isEmpty()
                                ? Long.toString(request)
                                : request + " " + BUCKETS + join(buckets);
        update.set(REQUESTED, value);
        update.commit();
        return request;
    }

    /**
     * Asks for a re-snapshot of {@code table} ({@code buckets} as above) through {@code update}, a
     * property change the caller commits (in a transaction with what makes the re-read needed);
     * returns the request's number.
     */
    public static long request(Table table, List<Integer> buckets, UpdateProperties update) {
        long request = Math.max(System.currentTimeMillis(), requested(table) + 1);
        update.set(
                REQUESTED,
                buckets.isEmpty()
                        ? Long.toString(request)
                        : request + " " + BUCKETS + join(buckets));
        return request;
    }

    private static final String BUCKETS = "buckets=";
    private static final String KEYS = "keys=";

    private static String join(List<Integer> buckets) {
        return buckets.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    /** The newest request of {@code table}, or -1. */
    public static long requested(Table table) {
        String text = table.properties().get(REQUESTED);
        return text == null ? -1 : number(text.split(" ", 2)[0]);
    }

    /** The buckets the newest request of {@code table} is limited to; empty: every key. */
    public static List<Integer> requestedBuckets(Table table) {
        return requestedList(table, BUCKETS, Integer::parseInt);
    }

    /** The key fingerprints the newest request of {@code table} is limited to; empty: none. */
    public static List<Long> requestedKeys(Table table) {
        return requestedList(table, KEYS, key -> Long.parseUnsignedLong(key, 16));
    }

    /** The comma-separated values after {@code name} in the newest request, parsed. */
    private static <T> List<T> requestedList(
            Table table, String name, java.util.function.Function<String, T> parse) {
        String text = table.properties().get(REQUESTED);
        int at = text == null ? -1 : text.indexOf(name);
        if (at < 0) {
            return List.of();
        }
        List<T> values = new ArrayList<>();
        for (String value : text.substring(at + name.length()).trim().split(",")) {
            values.add(parse.apply(value.trim()));
        }
        return values;
    }

    /** The request number {@value #COMPLETED} starts with, or -1. */
    public static long completed(Table table) {
        String text = table.properties().get(COMPLETED);
        return text == null ? -1 : number(text.split(" ", 2)[0]);
    }

    private static long number(String text) {
        if (text == null) {
            return -1;
        }
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
