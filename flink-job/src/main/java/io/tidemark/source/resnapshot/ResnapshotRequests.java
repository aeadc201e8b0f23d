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
 *       GroundTruthDiff}'s hashing are written (what {@code tidemark verify --repair} asks for);
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
        return request(table, List.of());
    }

    /**
     * Asks for a re-snapshot of the keys of {@code table} in {@code buckets} (all keys when empty);
     * returns the request's number.
     */
    public static long request(Table table, List<Integer> buckets) {
        table.refresh();
        UpdateProperties update = table.updateProperties();
        long request = request(table, buckets, update);
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
        String value =
                buckets.isEmpty()
                        ? Long.toString(request)
                        : request
                                + " "
                                + BUCKETS
                                + buckets.stream()
                                        .map(String::valueOf)
                                        .collect(Collectors.joining(","));
        update.set(REQUESTED, value);
        return request;
    }

    private static final String BUCKETS = "buckets=";

    /** The newest request of {@code table}, or -1. */
    public static long requested(Table table) {
        String text = table.properties().get(REQUESTED);
        return text == null ? -1 : number(text.split(" ", 2)[0]);
    }

    /** The buckets the newest request of {@code table} is limited to; empty: every key. */
    public static List<Integer> requestedBuckets(Table table) {
        String text = table.properties().get(REQUESTED);
        int at = text == null ? -1 : text.indexOf(BUCKETS);
        if (at < 0) {
            return List.of();
        }
        List<Integer> buckets = new ArrayList<>();
        for (String bucket : text.substring(at + BUCKETS.length()).trim().split(",")) {
            buckets.add(Integer.parseInt(bucket.trim()));
        }
        return buckets;
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
