package io.tidemark.source.resnapshot;

import io.tidemark.catalog.verify.KeyFingerprints;
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
 *       it asks for when at most {@code GroundTruthDiff.MAX_KEYS} differ), or, for more than
 *       {@value #INLINE_KEYS} keys, by {@code keys-file=PATH}: the same fingerprints, one per line,
 *       in a file of the table's metadata directory (written through the table's FileIO, so the
 *       pipeline reads it wherever it runs), which keeps the table's metadata and the pipeline's
 *       checkpoints small (the split names the file; only the reader loads it);
 *   <li>{@value #COMPLETED}: the newest request handled, then what it did, written once the
 *       checkpoint holding its rows completed. A table merged from several sources is read again
 *       from each of them, each by its source's own re-snapshot reader: each records what it did
 *       under {@code tidemark.resnapshot.completed.<source id>}, and the last of them {@value
 *       #COMPLETED}, {@code <request> done: <source>: <what it did>; ...} when every source's read
 *       was done, else {@code <request> failed: ...}.
 * </ul>
 */
public final class ResnapshotRequests {

    public static final String REQUESTED = "tidemark.resnapshot.requested";
    public static final String COMPLETED = "tidemark.resnapshot.completed";

    private ResnapshotRequests() {}

    /** Asks for a re-snapshot of all of {@code table}; returns the request's number. */
    public static long request(Table table) {
        return request(table, List.of(), KeyFingerprints.NONE);
    }

    /**
     * Asks for a re-snapshot of the keys of {@code table} whose fingerprints are {@code keys}, or
     * else of those in {@code buckets} (all keys when both are empty); returns the request's
     * number.
     */
    public static long request(Table table, List<Integer> buckets, KeyFingerprints keys) {
        table.refresh();
        UpdateProperties update = table.updateProperties();
        long request = Math.max(System.currentTimeMillis(), requested(table) + 1);
        String value =
                keys.size() > INLINE_KEYS
                        ? request + " " + KEYS_FILE + writeKeys(table, request, keys)
                        : !keys.isEmpty()
                                ? request
                                        + " "
                                        + KEYS
                                        + keys.stream()
                                                .mapToObj(Long::toHexString)
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
    private static final String KEYS_FILE = "keys-file=";

    /** Key fingerprints a request names in the table property at most; more go to a file. */
    public static final int INLINE_KEYS = 1_000;

    /** Writes {@code keys} (hexadecimal, one per line) next to the table's metadata; its path. */
    private static String writeKeys(Table table, long request, KeyFingerprints keys) {
        String path = table.location() + "/metadata/tidemark-resnapshot-" + request + "-keys.txt";
        org.apache.iceberg.io.OutputFile file = table.io().newOutputFile(path);
        try (java.io.Writer out =
                new java.io.BufferedWriter(
                        new java.io.OutputStreamWriter(
                                file.createOrOverwrite(),
                                java.nio.charset.StandardCharsets.US_ASCII),
                        1 << 16)) {
            for (java.util.PrimitiveIterator.OfLong it = keys.stream().iterator(); it.hasNext(); ) {
                out.write(Long.toHexString(it.nextLong()));
                out.write('\n');
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(
                    "cannot write the keys of re-snapshot " + request + " to " + path, e);
        }
        return path;
    }

    /**
     * The fingerprints a request's {@code keys-file} names ({@link #requestedKeysFile}), read
     * through {@code table}'s FileIO by the pipeline's re-snapshot reader.
     */
    public static KeyFingerprints readKeys(Table table, String path) {
        long[] keys = new long[1024];
        int count = 0;
        try (java.io.BufferedReader in =
                new java.io.BufferedReader(
                        new java.io.InputStreamReader(
                                table.io().newInputFile(path).newStream(),
                                java.nio.charset.StandardCharsets.US_ASCII),
                        1 << 16)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (!line.isBlank()) {
                    if (count == keys.length) {
                        keys = java.util.Arrays.copyOf(keys, keys.length * 2);
                    }
                    keys[count++] = Long.parseUnsignedLong(line.trim(), 16);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(
                    "cannot read the keys of the re-snapshot requested of "
                            + table.name()
                            + " from "
                            + path,
                    e);
        }
        return KeyFingerprints.of(java.util.Arrays.copyOf(keys, count));
    }

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

    /**
     * The key fingerprints the newest request of {@code table} names in the property (empty: none,
     * or a {@link #requestedKeysFile}).
     */
    public static List<Long> requestedKeys(Table table) {
        return requestedKeysFile(table) != null
                ? List.of()
                : requestedList(table, KEYS, key -> Long.parseUnsignedLong(key, 16));
    }

    /**
     * The file of key fingerprints the newest request of {@code table} is limited to, or null: the
     * pipeline's reader reads it ({@link #readKeys}), so they are not held in its splits.
     */
    public static String requestedKeysFile(Table table) {
        String text = table.properties().get(REQUESTED);
        int file = text == null ? -1 : text.indexOf(KEYS_FILE);
        return file < 0 ? null : text.substring(file + KEYS_FILE.length()).trim();
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

    /** The property under which {@code source} records its part of a merged table's re-snapshot. */
    public static String completedBy(String source) {
        return COMPLETED + "." + source;
    }

    /**
     * Records {@code outcome} ({@code <request> done: ...}, {@code <request> failed: ...}), what
     * the re-snapshot source of {@code source} did, on {@code table}. For a table fed by one source
     * ({@code sources} empty or that one) that is {@value #COMPLETED}; for one merged from {@code
     * sources} it is the source's own property ({@link #completedBy}), and {@value #COMPLETED} once
     * every source has recorded the request: a second commit after the first, so whichever source
     * commits last sees the others' records. Returns what {@value #COMPLETED} became, or null when
     * other sources have yet to record theirs.
     */
    public static String record(Table table, String outcome, String source, List<String> sources) {
        if (sources.size() <= 1) {
            table.updateProperties().set(COMPLETED, outcome).commit();
            return outcome;
        }
        table.updateProperties().set(completedBy(source), outcome).commit();
        table.refresh();
        long request = number(outcome.split(" ", 2)[0]);
        if (completed(table) >= request) {
            return table.properties().get(COMPLETED);
        }
        StringBuilder parts = new StringBuilder();
        boolean done = true;
        for (String each : sources) {
            String text = table.properties().get(completedBy(each));
            String[] split = text == null ? new String[] {"-1"} : text.split(" ", 2);
            if (number(split[0]) < request) {
                return null;
            }
            done &= split.length > 1 && split[1].startsWith("done");
            parts.append(parts.length() == 0 ? "" : "; ")
                    .append(each)
                    .append(": ")
                    .append(split.length > 1 ? split[1] : "");
        }
        String combined = request + (done ? " done: " : " failed: ") + parts;
        table.updateProperties().set(COMPLETED, combined).commit();
        return combined;
    }
}
