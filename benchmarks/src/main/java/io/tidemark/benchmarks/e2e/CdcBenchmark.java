package io.tidemark.benchmarks.e2e;

import io.tidemark.catalog.Catalogs;
import io.tidemark.testbed.EmbeddedDatabase;
import java.io.Closeable;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.apache.iceberg.catalog.Catalog;

/**
 * The end-to-end benchmark: on one generated table, in one run, Tidemark's pipeline and the Flink
 * SQL baseline (postgres-cdc into an Iceberg v2 upsert table), each several times, alternating
 * which goes first, and the source's own limits (COPY export, raw logical decoding). Prints
 * progress, writes a Markdown report and PNG charts under the results directory.
 *
 * <pre>
 * ./mvnw -q -Pbench compile -pl benchmarks -am -Dbench.args="--preset quick"
 * </pre>
 */
public final class CdcBenchmark {

    private CdcBenchmark() {}

    /** Both sides' runs and the source's limits, per repetition. */
    public record Result(
            BenchSettings settings,
            List<RunFigures> runs,
            List<ShardFigures> shardRuns,
            List<Double> copyRates,
            List<Double> rawDecodingRates,
            Path report) {}

    public static void main(String[] args) throws Exception {
        String preset = "default";
        Integer rows = null;
        Integer changes = null;
        Integer repetitions = null;
        Path work = Path.of("target", "bench");
        Path results = Path.of("results");
        String only = null;
        String variant = null;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--preset" -> preset = value;
                case "--rows" -> rows = Integer.parseInt(value);
                case "--changes" -> changes = Integer.parseInt(value);
                case "--repetitions" -> repetitions = Integer.parseInt(value);
                case "--work-dir" -> work = Path.of(value);
                case "--results-dir" -> results = Path.of(value);
                case "--only" -> only = value;
                case "--variant" -> variant = value;
                default -> {
                    System.err.println(
                            "usage: [--preset default|quick|smoke] [--rows N] [--changes M]"
                                    + " [--repetitions R] [--only tidemark|flink-sql|tidemark-rocksdb]"
                                    + " [--variant single|multi] [--work-dir D]"
                                    + " [--results-dir D]; unknown "
                                    + args[i]);
                    System.exit(2);
                }
            }
            i++;
        }
        BenchSettings settings =
                BenchSettings.preset(preset, work.toAbsolutePath(), results.toAbsolutePath())
                        .withSizes(rows, changes, repetitions);
        run(settings, only, variant, System.out);
        System.exit(0);
    }

    /** Runs the benchmark with {@code settings}; progress and the report go to {@code out}. */
    public static Result run(BenchSettings settings, PrintStream out) throws Exception {
        return run(settings, null, null, out);
    }

    /**
     * Runs the benchmark; {@code only} (or null for both) names the one side to run, for profiling
     * it alone; {@code variant} ({@code single} or {@code multi}, or null for both) the workload.
     * it alone.
     */
    public static Result run(BenchSettings settings, String only, String variant, PrintStream out)
            throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path work = settings.workDir();
        deleteRecursively(work);
        Files.createDirectories(work);
        Files.createDirectories(settings.resultsDir());
        out.printf(
                "Benchmark preset %s: %,d rows, %,d changes, %d repetition(s) per side, parallelism %d,"
                        + " checkpoints every %ds, split size %,d%n",
                settings.preset(),
                settings.rows(),
                settings.changes(),
                settings.repetitions(),
                settings.parallelism(),
                settings.checkpointInterval().toSeconds(),
                settings.splitSize());
        List<RunFigures> runs = new ArrayList<>();
        List<ShardFigures> shardRuns = new ArrayList<>();
        List<Double> copyRates = new ArrayList<>();
        List<Double> rawRates = new ArrayList<>();
        try (EmbeddedDatabase database = EmbeddedDatabase.start(work.resolve("postgres"))) {
            database.createDatabase(Side.Bench.SOURCE_DATABASE);
            database.createDatabase(Side.Bench.CATALOG_DATABASE);
            String warehouse = work.resolve("warehouse").toUri().toString();
            Side.Bench bench = new Side.Bench(database, settings, warehouse);
            Map<String, String> catalogProperties = new HashMap<>();
            catalogProperties.put("type", "jdbc");
            catalogProperties.put("uri", database.jdbcUrl(Side.Bench.CATALOG_DATABASE));
            catalogProperties.put("jdbc.user", EmbeddedDatabase.USER);
            catalogProperties.put("jdbc.password", "");
            catalogProperties.put("jdbc.schema-version", "V1");
            catalogProperties.put("warehouse", warehouse);
            Catalog catalog =
                    Catalogs.load(
                            Side.Bench.CATALOG_NAME,
                            catalogProperties,
                            new org.apache.hadoop.conf.Configuration());
            try {
                SideRunner runner = new SideRunner(bench, catalog, out);
                List<Side> sides =
                        List.<Side>of(
                                        new TidemarkSide(false),
                                        new FlinkSqlSide(),
                                        new TidemarkSide(true))
                                .stream()
                                .filter(side -> only == null || side.name().equals(only))
                                .toList();
                if (settings.warmUp()) {
                    // one small untimed run of each side first: the JVM's warm-up is nobody's cost
                    SideRunner warm =
                            new SideRunner(
                                    new Side.Bench(
                                            database,
                                            BenchSettings.smoke(work, settings.resultsDir()),
                                            warehouse),
                                    catalog,
                                    new PrintStream(java.io.OutputStream.nullOutputStream()));
                    for (Side side : sides) {
                        warm.run(side, 0, null, new double[1]);
                    }
                    out.println("Warm-up runs of every side done");
                }
                boolean single = variant == null || variant.equals("single");
                boolean multi = variant == null || variant.equals("multi");
                if (!single && !multi) {
                    throw new IllegalArgumentException(
                            "unknown variant '" + variant + "': single or multi");
                }
                for (int rep = 1; single && rep <= settings.repetitions(); rep++) {
                    try (Connection source = database.connect(Side.Bench.SOURCE_DATABASE)) {
                        SourceTable.generate(source, settings.rows());
                        double copy = SourceTable.copyRate(source, settings.rows());
                        copyRates.add(copy);
                        out.printf(
                                "Repetition %d: COPY export of the table %,.0f rows/s%n",
                                rep, copy);
                    }
                    // rotate which side goes first: the machine warms up and is shared
                    List<Side> order = new ArrayList<>(sides);
                    java.util.Collections.rotate(order, rep - 1);
                    for (Side side : order) {
                        double[] raw = {Double.NaN};
                        boolean measureRaw = side.name().equals("tidemark");
                        runs.add(runner.run(side, rep, measureRaw ? "raw_" + rep : null, raw));
                        if (measureRaw) {
                            rawRates.add(raw[0]);
                            out.printf(
                                    "  raw logical decoding (pgoutput) of the stream: %,.0f changes/s%n",
                                    raw[0]);
                        }
                    }
                }
                // the multi-source variant: two shards writing the same keys, out of order
                if (multi) {
                    out.printf(
                            "Multi-source variant: 2 shards x %,d rows (the same keys), %,d changes"
                                    + " delivered out of order%n",
                            settings.shardRows(), settings.shardChanges());
                }
                ShardRunner shardRunner = new ShardRunner(bench, catalog, out);
                // the state backend's cost is measured by the single-table variant
                List<Side> shardSides =
                        sides.stream().filter(side -> !side.name().endsWith("-rocksdb")).toList();
                for (int rep = 1; multi && rep <= settings.repetitions(); rep++) {
                    List<Side> order =
                            rep % 2 == 1 || shardSides.size() < 2
                                    ? shardSides
                                    : List.of(shardSides.get(1), shardSides.get(0));
                    for (Side side : order) {
                        shardRuns.add(shardRunner.run(side, rep));
                    }
                }
            } finally {
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
        Path report = Report.write(settings, runs, shardRuns, copyRates, rawRates, out);
        return new Result(settings, runs, shardRuns, copyRates, rawRates, report);
    }

    static void deleteRecursively(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The Markdown report and the charts. */
    static final class Report {
        private Report() {}

        static Path write(
                BenchSettings settings,
                List<RunFigures> runs,
                List<ShardFigures> shardRuns,
                List<Double> copyRates,
                List<Double> rawRates,
                PrintStream out)
                throws Exception {
            String stamp =
                    DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                            .withZone(ZoneOffset.UTC)
                            .format(Instant.now());
            String base = stamp + "-" + settings.preset();
            Path dir = settings.resultsDir();
            Map<String, List<RunFigures>> bySide = new LinkedHashMap<>();
            for (RunFigures run : runs) {
                bySide.computeIfAbsent(run.side(), s -> new ArrayList<>()).add(run);
            }
            StringBuilder md = new StringBuilder();
            md.append("# Tidemark vs Flink SQL baseline (")
                    .append(settings.preset())
                    .append(", ")
                    .append(stamp)
                    .append(" UTC)\n\n");
            md.append(machine()).append("\n\n");
            md.append(
                    String.format(
                            "Workload: %,d rows (10 columns: bigint, int, bigint, numeric(12,2), double,"
                                    + " boolean, text, varchar, date, timestamptz) snapshotted, then %,d"
                                    + " changes (about 60%% updates, 25%% inserts, 15%% deletes, half on 1%%"
                                    + " hot keys) in transactions of 500; parallelism %d, checkpoints every"
                                    + " %d s, snapshot split size %,d, same JDBC catalog; %d repetition(s) per"
                                    + " side, alternating which goes first. Medians, [min, max].%n%n",
                            settings.rows(),
                            settings.changes(),
                            settings.parallelism(),
                            settings.checkpointInterval().toSeconds(),
                            settings.splitSize(),
                            settings.repetitions()));
            md.append("| figure | tidemark | flink-sql | tidemark / flink-sql |\n");
            md.append("| --- | --- | --- | --- |\n");
            List<RunFigures> tm = bySide.getOrDefault("tidemark", List.of());
            List<RunFigures> sql = bySide.getOrDefault("flink-sql", List.of());
            row(md, "snapshot rows/s", tm, sql, RunFigures::snapshotRowsPerSecond, "%,.0f");
            row(
                    md,
                    "snapshot seconds (submit to all rows committed)",
                    tm,
                    sql,
                    RunFigures::snapshotSeconds,
                    "%.1f");
            streamRows(md, tm, sql);
            costRows(md, tm, sql);
            stateBackends(md, tm, bySide.getOrDefault("tidemark-rocksdb", List.of()));
            md.append("\nCorrectness (ground-truth diff against the source, every run):\n\n");
            md.append("| side | run | after snapshot | at the end |\n| --- | --- | --- | --- |\n");
            for (RunFigures run : runs) {
                md.append("| ")
                        .append(run.side())
                        .append(" | ")
                        .append(run.repetition())
                        .append(" | ")
                        .append(diff(run.snapshotDiff()))
                        .append(" | ")
                        .append(diff(run.finalDiff()))
                        .append(" |\n");
            }
            double copy = median(copyRates);
            double raw = median(rawRates);
            md.append(
                    String.format(
                            "%nSource limits: COPY export %,.0f rows/s (median of %d); raw logical decoding"
                                    + " (pg_logical_slot_get_binary_changes, pgoutput) %,.0f changes/s.%n",
                            copy, copyRates.size(), raw));
            md.append(
                    String.format(
                            "Tidemark / COPY (snapshot): %.2f; Tidemark / raw decoding (stream): %.3f.%n",
                            median(values(tm, RunFigures::snapshotRowsPerSecond)) / copy,
                            median(values(tm, RunFigures::streamRowsPerSecond)) / raw));
            md.append(
                    "\nThe stream figures are bounded by the load generator (one JDBC connection) when a"
                            + " side keeps up: compare catch-up and freshness. Freshness: commit time of the"
                            + " Iceberg snapshot holding a change minus the time the source wrote it"
                            + " (`updated_at = clock_timestamp()`).\n");
            multiSource(md, settings, shardRuns);
            Map<String, List<double[]>> throughput = Charts.series();
            Map<String, List<double[]>> freshness = Charts.series();
            for (Map.Entry<String, List<RunFigures>> side : bySide.entrySet()) {
                RunFigures first = side.getValue().get(0);
                throughput.put(side.getKey(), first.timeline());
                freshness.put(side.getKey(), first.freshnessTimeline());
            }
            Path throughputPng = dir.resolve(base + "-throughput.png");
            Path freshnessPng = dir.resolve(base + "-freshness.png");
            Charts.line(
                    throughputPng,
                    "Rows committed over time (run 1 of each side)",
                    "seconds since submission",
                    "rows committed",
                    throughput);
            Charts.line(
                    freshnessPng,
                    "Worst freshness per snapshot during the stream (run 1)",
                    "seconds since the stream began",
                    "freshness, ms",
                    freshness);
            md.append("\n![throughput](")
                    .append(throughputPng.getFileName())
                    .append(")\n\n![freshness](")
                    .append(freshnessPng.getFileName())
                    .append(")\n");
            Path report = dir.resolve(base + ".md");
            Files.writeString(report, md.toString(), StandardCharsets.UTF_8);
            Files.writeString(
                    dir.resolve("latest-" + settings.preset() + ".md"),
                    md.toString().replace("](" + base, "](" + base),
                    StandardCharsets.UTF_8);
            out.println();
            out.println(md);
            out.println("Report: " + report.toAbsolutePath());
            return report;
        }

        /** Tidemark with RocksDB state beside Tidemark with heap state. */
        private static void stateBackends(
                StringBuilder md, List<RunFigures> heap, List<RunFigures> rocksdb) {
            if (rocksdb.isEmpty() || heap.isEmpty()) {
                return;
            }
            md.append(
                    "\nTidemark's state backends (`checkpoint.state-backend`), the same workload:\n\n");
            md.append("| figure | tidemark-rocksdb | tidemark (heap) | rocksdb / heap |\n");
            md.append("| --- | --- | --- | --- |\n");
            row(md, "snapshot rows/s", rocksdb, heap, RunFigures::snapshotRowsPerSecond, "%,.0f");
            streamRows(md, rocksdb, heap);
        }

        /** The stream's rows of a comparison: changes/s, catch-up, freshness. */
        private static void streamRows(StringBuilder md, List<RunFigures> a, List<RunFigures> b) {
            row(
                    md,
                    "stream changes/s (first change to table showing the last)",
                    a,
                    b,
                    RunFigures::streamRowsPerSecond,
                    "%,.0f");
            row(md, "catch-up after the last change, s", a, b, RunFigures::catchUpSeconds, "%.1f");
            row(md, "freshness p50, ms", a, b, RunFigures::freshnessP50Ms, "%,.0f");
            row(md, "freshness p99, ms", a, b, RunFigures::freshnessP99Ms, "%,.0f");
        }

        private static void multiSource(
                StringBuilder md, BenchSettings settings, List<ShardFigures> shardRuns) {
            if (shardRuns.isEmpty()) {
                return;
            }
            Map<String, List<ShardFigures>> bySide = new LinkedHashMap<>();
            for (ShardFigures run : shardRuns) {
                bySide.computeIfAbsent(run.side(), s -> new ArrayList<>()).add(run);
            }
            List<ShardFigures> tm = bySide.getOrDefault("tidemark", List.of());
            List<ShardFigures> sql = bySide.getOrDefault("flink-sql", List.of());
            md.append(
                    String.format(
                            "%n## Multi-source variant: two shards, out-of-order delivery%n%n"
                                    + "`public.items` in two databases holding the same %,d keys (shard B's rows 1 s"
                                    + " newer on even keys, older on odd ones), then %,d changes over both (upserts,"
                                    + " new keys, deletes; half on hot keys) in rounds where shard B's transaction"
                                    + " stays open while shard A writes and commits the same keys: B's older changes"
                                    + " arrive after A's newer ones. The declared rule: the newest `updated_at` wins"
                                    + " (Tidemark: `ordering: event-time:updated_at` over `sources:`); the baseline"
                                    + " is both `postgres-cdc` tables `UNION ALL` into the upsert table. The stream"
                                    + " starts once a side reads both logs. Expected table: the shards' rows and the"
                                    + " stream's deletes merged by the rule. Medians, [min, max].%n%n",
                            settings.shardRows(), settings.shardChanges()));
            md.append("| figure | tidemark | flink-sql | tidemark / flink-sql |\n");
            md.append("| --- | --- | --- | --- |\n");
            row(
                    md,
                    "snapshot rows/s (both shards read)",
                    tm,
                    sql,
                    ShardFigures::snapshotRowsPerSecond,
                    "%,.0f");
            row(
                    md,
                    "stream changes/s (first change to both markers shown)",
                    tm,
                    sql,
                    ShardFigures::streamChangesPerSecond,
                    "%,.0f");
            row(
                    md,
                    "catch-up after the last change, s",
                    tm,
                    sql,
                    ShardFigures::catchUpSeconds,
                    "%.1f");
            row(
                    md,
                    "equal to the expected merge after the last change, s (NaN: never)",
                    tm,
                    sql,
                    ShardFigures::consistentSeconds,
                    "%.1f");
            costRows(md, tm, sql);
            md.append("\nCorrectness against the expected merge (every run):\n\n");
            md.append("| side | run | expected rows | diff |\n| --- | --- | --- | --- |\n");
            for (ShardFigures run : shardRuns) {
                md.append(
                        String.format(
                                "| %s | %d | %,d | %s |%n",
                                run.side(),
                                run.repetition(),
                                run.expectedRows(),
                                diff(run.diff())));
            }
        }

        /** The rows both workloads report: what a side cost and what it left to readers. */
        private static void costRows(
                StringBuilder md,
                List<? extends CostFigures> tidemark,
                List<? extends CostFigures> baseline) {
            List<CostFigures> tm = List.copyOf(tidemark);
            List<CostFigures> sql = List.copyOf(baseline);
            row(
                    md,
                    "CPU s per million rows+changes",
                    tm,
                    sql,
                    CostFigures::cpuSecondsPerMillionRows,
                    "%.1f");
            row(md, "peak heap, MB (sampled)", tm, sql, CostFigures::peakHeapMb, "%,.0f");
            row(md, "data files", tm, sql, r -> r.dataFiles(), "%,.0f");
            row(md, "delete files", tm, sql, r -> r.deleteFiles(), "%,.0f");
            row(md, "equality delete records", tm, sql, r -> r.equalityDeleteRecords(), "%,.0f");
            row(
                    md,
                    "full table read (Iceberg Java scan), s",
                    tm,
                    sql,
                    CostFigures::readSeconds,
                    "%.2f");
        }

        private static String diff(io.tidemark.catalog.verify.DiffReport report) {
            return String.format(
                    "%s (missing %d, extra %d, duplicate %d, stale %d)",
                    report.isClean() ? "equal" : "DIFFERENT",
                    report.missing(),
                    report.extra(),
                    report.duplicate(),
                    report.stale());
        }

        private static <T> void row(
                StringBuilder md,
                String name,
                List<T> tm,
                List<T> sql,
                ToDoubleFunction<T> figure,
                String format) {
            List<Double> a = values(tm, figure);
            List<Double> b = values(sql, figure);
            md.append("| ")
                    .append(name)
                    .append(" | ")
                    .append(cell(a, format))
                    .append(" | ")
                    .append(cell(b, format))
                    .append(" | ")
                    .append(String.format("%.2f", median(a) / median(b)))
                    .append(" |\n");
        }

        private static <T> List<Double> values(List<T> runs, ToDoubleFunction<T> f) {
            List<Double> values = new ArrayList<>();
            for (T run : runs) {
                values.add(f.applyAsDouble(run));
            }
            return values;
        }

        private static String cell(List<Double> values, String format) {
            if (values.isEmpty()) {
                return "-";
            }
            List<Double> sorted = new ArrayList<>(values);
            sorted.sort(Double::compare);
            return String.format(format, median(values))
                    + " ["
                    + String.format(format, sorted.get(0))
                    + ", "
                    + String.format(format, sorted.get(sorted.size() - 1))
                    + "]";
        }

        static double median(List<Double> values) {
            if (values.isEmpty()) {
                return Double.NaN;
            }
            List<Double> sorted = new ArrayList<>(values);
            sorted.sort(Double::compare);
            int n = sorted.size();
            return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
        }

        private static String machine() {
            Runtime runtime = Runtime.getRuntime();
            return String.format(
                    "Machine: %d cores, %s %s, Java %s (%s), max heap %,d MB; PostgreSQL 16 (embedded"
                            + " binaries) on the same machine; both pipelines on an in-process Flink 1.20"
                            + " MiniCluster.",
                    runtime.availableProcessors(),
                    System.getProperty("os.name"),
                    System.getProperty("os.arch"),
                    System.getProperty("java.version"),
                    System.getProperty("java.vm.name"),
                    runtime.maxMemory() / 1024 / 1024);
        }
    }
}
