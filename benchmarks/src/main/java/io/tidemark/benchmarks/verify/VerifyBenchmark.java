package io.tidemark.benchmarks.verify;

import io.tidemark.benchmarks.ParquetAppend;
import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.testbed.EmbeddedDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.types.Types;

/**
 * {@code tidemark verify}'s comparison at scale, beside the baseline (the in-memory diff it
 * replaced), in one run: a Postgres table of N rows (default 5,000,000) and an Iceberg table
 * holding the same rows but 5 missing, 10 stale and 5 extra. Each algorithm runs in its own JVM
 * (the same heap limit), a repetition at a time, alternating; each prints its wall time, the
 * largest heap it held after a collection (its live set, sampled every 100 ms) and its counts. Then
 * the bucketed diff runs once more under a small heap to show its bound.
 *
 * <p>Run: {@code ./mvnw -q -Pverify-bench compile -pl benchmarks -am -Dverify.args="--rows 5000000
 * --repetitions 3"}.
 */
public final class VerifyBenchmark {

    private static final Schema SCHEMA =
            new Schema(
                    List.of(
                            Types.NestedField.required(1, "id", Types.LongType.get()),
                            Types.NestedField.optional(2, "name", Types.StringType.get()),
                            Types.NestedField.optional(3, "amount", Types.DecimalType.of(12, 2)),
                            Types.NestedField.optional(4, "at", Types.TimestampType.withZone()),
                            Types.NestedField.optional(5, "qty", Types.IntegerType.get()),
                            Types.NestedField.optional(6, "note", Types.StringType.get())),
                    java.util.Set.of(1));

    private static final TableIdentifier TABLE = TableIdentifier.of("bench", "items");

    private VerifyBenchmark() {}

    public static void main(String[] args) throws Exception {
        List<String> list = Arrays.asList(args);
        if (list.contains("--child")) {
            child(list);
            return;
        }
        long rows = Long.parseLong(option(list, "--rows", "5000000"));
        int repetitions = Integer.parseInt(option(list, "--repetitions", "3"));
        String heap = option(list, "--heap", "8g");
        String smallHeap = option(list, "--small-heap", "256m");
        Path work = Path.of(option(list, "--work-dir", "target/verify-bench"));
        Files.createDirectories(work);
        // a fresh warehouse for each run (the database is wiped by EmbeddedDatabase.start)
        org.apache.commons.io.FileUtils.deleteDirectory(work.resolve("warehouse").toFile());
        try (EmbeddedDatabase database = EmbeddedDatabase.start(work.resolve("postgres"))) {
            database.createDatabase("src");
            String jdbc = database.jdbcUrl("src");
            String warehouse = work.resolve("warehouse").toUri().toString();
            long started = System.nanoTime();
            prepare(database, jdbc, warehouse, rows);
            System.out.printf(
                    "prepared %,d rows on each side in %.0f s%n",
                    rows, (System.nanoTime() - started) / 1e9);
            List<String[]> results = new ArrayList<>();
            for (int r = 0; r < repetitions; r++) {
                for (String algorithm : List.of("bucketed", "in-memory")) {
                    String[] result = runChild(algorithm, heap, jdbc, warehouse);
                    System.out.println(algorithm + " " + String.join(" ", result));
                    results.add(prepend(algorithm, result));
                }
            }
            String[] small = runChild("bucketed", smallHeap, jdbc, warehouse);
            System.out.println("bucketed under -Xmx" + smallHeap + ": " + String.join(" ", small));
            System.out.println();
            System.out.printf(
                    "| figure (%,d rows, median of %d) | bucketed | in-memory | ratio |%n",
                    rows, repetitions);
            System.out.println("|---|---|---|---|");
            double bt = median(results, "bucketed", 1);
            double it = median(results, "in-memory", 1);
            double bh = median(results, "bucketed", 2);
            double ih = median(results, "in-memory", 2);
            System.out.printf("| wall time, s | %.1f | %.1f | %.2f |%n", bt, it, bt / it);
            System.out.printf(
                    "| live heap after GC, peak, MiB | %.0f | %.0f | %.3f |%n", bh, ih, bh / ih);
            System.out.printf(
                    "| bucketed under -Xmx%s | %s |  |  |%n", smallHeap, String.join(" ", small));
        }
    }

    private static String[] prepend(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    private static double median(List<String[]> results, String algorithm, int field) {
        double[] values =
                results.stream()
                        .filter(r -> r[0].equals(algorithm) && r.length > field)
                        .mapToDouble(r -> parse(r[field]))
                        .sorted()
                        .toArray();
        return values.length == 0 ? Double.NaN : values[values.length / 2];
    }

    private static double parse(String field) {
        try {
            return Double.parseDouble(field.substring(field.indexOf('=') + 1));
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    private static String option(List<String> args, String name, String fallback) {
        int i = args.indexOf(name);
        return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : fallback;
    }

    private static void prepare(EmbeddedDatabase database, String jdbc, String warehouse, long rows)
            throws Exception {
        try (Connection c = database.connect("src");
                Statement s = c.createStatement()) {
            s.execute(
                    "CREATE TABLE public.items (id bigint PRIMARY KEY, name text,"
                            + " amount numeric(12,2), at timestamptz, qty int, note text)");
            s.execute(
                    "INSERT INTO public.items SELECT g, 'customer ' || g, (g % 100000) / 100.0,"
                            + " timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',"
                            + " (g % 1000)::int, md5(g::text) FROM generate_series(1, "
                            + rows
                            + ") g");
            s.execute("VACUUM ANALYZE public.items");
        }
        Catalog catalog = catalog(jdbc, warehouse);
        ((org.apache.iceberg.catalog.SupportsNamespaces) catalog)
                .createNamespace(org.apache.iceberg.catalog.Namespace.of("bench"));
        Table table = catalog.createTable(TABLE, SCHEMA);
        OffsetDateTime start = OffsetDateTime.of(2024, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
        long perFile = 1_000_000;
        for (long first = 1; first <= rows + 5; first += perFile) {
            long from = first;
            ParquetAppend.append(
                    table,
                    "items-" + first + ".parquet",
                    appender -> {
                        for (long id = from; id < from + perFile && id <= rows + 5; id++) {
                            if (id <= rows && id % Math.max(1, rows / 5) == 0) {
                                continue; // 5 missing
                            }
                            GenericRecord r = GenericRecord.create(SCHEMA);
                            r.setField("id", id > rows ? 9_000_000_000L + id : id); // 5 extra
                            r.setField(
                                    "name", id >= 10 && id < 20 ? "stale " + id : "customer " + id);
                            r.setField("amount", BigDecimal.valueOf(id % 100000, 2));
                            r.setField("at", start.plusSeconds(id));
                            r.setField("qty", (int) (id % 1000));
                            r.setField("note", md5(id));
                            appender.add(r);
                        }
                    });
        }
        if (catalog instanceof AutoCloseable) {
            ((AutoCloseable) catalog).close();
        }
    }

    private static String md5(long id) throws Exception {
        byte[] digest =
                java.security.MessageDigest.getInstance("MD5")
                        .digest(Long.toString(id).getBytes(StandardCharsets.US_ASCII));
        return java.util.HexFormat.of().formatHex(digest);
    }

    private static Catalog catalog(String jdbc, String warehouse) {
        return Catalogs.load(
                "bench",
                Map.of("type", "hadoop", "warehouse", warehouse),
                new org.apache.hadoop.conf.Configuration());
    }

    /** Runs one algorithm in a JVM of its own; returns its result fields. */
    private static String[] runChild(String algorithm, String heap, String jdbc, String warehouse)
            throws Exception {
        Process process =
                new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Xmx" + heap,
                                "-cp",
                                System.getProperty("java.class.path"),
                                VerifyBenchmark.class.getName(),
                                "--child",
                                algorithm,
                                jdbc,
                                warehouse)
                        .redirectErrorStream(true)
                        .start();
        String result = null;
        StringBuilder output = new StringBuilder();
        try (BufferedReader reader =
                new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = reader.readLine()) != null; ) {
                if (line.startsWith("RESULT ")) {
                    result = line.substring("RESULT ".length());
                } else if (!line.contains(" INFO ") && !line.contains(" WARN ")) {
                    output.append(line).append('\n');
                }
            }
        }
        int exit = process.waitFor();
        if (result == null) {
            String tail =
                    output.length() > 400
                            ? output.substring(output.length() - 400)
                            : output.toString();
            return new String[] {"failed(exit " + exit + "): " + tail.replace('\n', ' ')};
        }
        return result.split(" ");
    }

    /** In the child JVM: the comparison, with its live heap sampled. */
    private static void child(List<String> args) throws Exception {
        String algorithm = args.get(args.indexOf("--child") + 1);
        String jdbc = args.get(args.indexOf("--child") + 2);
        String warehouse = args.get(args.indexOf("--child") + 3);
        AtomicLong peak = new AtomicLong();
        Thread sampler =
                new Thread(
                        () -> {
                            while (!Thread.currentThread().isInterrupted()) {
                                long live = 0;
                                for (MemoryPoolMXBean pool :
                                        ManagementFactory.getMemoryPoolMXBeans()) {
                                    if (pool.getType() == MemoryType.HEAP
                                            && pool.getCollectionUsage() != null) {
                                        live += pool.getCollectionUsage().getUsed();
                                    }
                                }
                                peak.accumulateAndGet(live, Math::max);
                                try {
                                    Thread.sleep(100); // a sampling period, not a wait
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        });
        sampler.setDaemon(true);
        sampler.start();
        Catalog catalog = catalog(jdbc, warehouse);
        Table table = catalog.loadTable(TABLE);
        long[] counts;
        long started = System.nanoTime();
        try (Connection source = DriverManager.getConnection(jdbc, "postgres", "")) {
            if (algorithm.equals("in-memory")) {
                counts = InMemoryDiff.diff(source, "public.items", table);
            } else {
                DiffReport report = GroundTruthDiff.diff(source, "public.items", table);
                counts =
                        new long[] {
                            report.missing(), report.extra(), report.duplicate(), report.stale()
                        };
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        sampler.interrupt();
        sampler.join();
        System.out.printf(
                "RESULT time_s=%.1f live_heap_mib=%.0f missing=%d extra=%d duplicate=%d stale=%d at=%s%n",
                seconds,
                peak.get() / 1024.0 / 1024.0,
                counts[0],
                counts[1],
                counts[2],
                counts[3],
                Instant.now());
    }
}
