package io.tidemark.benchmarks.e2e;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The end-to-end benchmark's Markdown report and its charts. */
final class BenchReport {

    private BenchReport() {}

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
        buckets(md, tm, bySide.getOrDefault("tidemark-bucket", List.of()));
        pollInterval(md, tm, bySide.getOrDefault("tidemark-poll500", List.of()));
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
                        "Tidemark / COPY (snapshot): %.2f; Tidemark / raw decoding (burst): %.3f;"
                                + " Tidemark / raw decoding (backlog): %.3f.%n",
                        median(values(tm, RunFigures::snapshotRowsPerSecond)) / copy,
                        median(values(tm, RunFigures::streamRowsPerSecond)) / raw,
                        median(values(tm, RunFigures::backlogChangesPerSecond)) / raw));
        md.append(
                "\nThe burst figures are bounded by the load generator (one JDBC connection) when a"
                        + " side keeps up: compare catch-up, freshness and the backlog, which a side"
                        + " reads at its own pace. Freshness: commit time of the"
                        + " Iceberg snapshot holding a change minus the time the source wrote it"
                        + " (`updated_at = clock_timestamp()`).\n");
        multiSource(md, settings, shardRuns);
        Map<String, List<double[]>> throughput = Charts.series();
        Map<String, List<double[]>> freshness = Charts.series();
        Map<String, List<double[]>> backlog = Charts.series();
        for (Map.Entry<String, List<RunFigures>> side : bySide.entrySet()) {
            RunFigures first = side.getValue().get(0);
            throughput.put(side.getKey(), first.timeline());
            freshness.put(side.getKey(), first.freshnessTimeline());
            backlog.put(side.getKey(), first.backlogTimeline());
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
        if (settings.backlog() > 0) {
            Path backlogPng = dir.resolve(base + "-backlog.png");
            Charts.line(
                    backlogPng,
                    "Backlog: rows committed after the resume from a savepoint (run 1)",
                    "seconds since the resume",
                    "rows committed",
                    backlog);
            md.append("\n![backlog](").append(backlogPng.getFileName()).append(")\n");
        }
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

    /** Tidemark as it is beside Tidemark with {@code poll.interval.ms} at Debezium's 500 ms. */
    private static void pollInterval(
            StringBuilder md, List<RunFigures> now, List<RunFigures> poll500) {
        if (poll500.isEmpty() || now.isEmpty()) {
            return;
        }
        md.append(
                "\nDebezium's `poll.interval.ms`: Tidemark's 50 ms while snapshot chunks are read"
                        + " beside 500 ms (Debezium's default) in both phases, the same workload:\n\n");
        md.append("| figure | tidemark | tidemark-poll500 | tidemark / tidemark-poll500 |\n");
        md.append("| --- | --- | --- | --- |\n");
        row(md, "snapshot rows/s", now, poll500, RunFigures::snapshotRowsPerSecond, "%,.0f");
        row(
                md,
                "snapshot seconds (submit to all rows committed)",
                now,
                poll500,
                RunFigures::snapshotSeconds,
                "%.1f");
        streamRows(md, now, poll500);
    }

    /** Tidemark with the table in {@code bucket(N, id)} beside it unpartitioned. */
    private static void buckets(
            StringBuilder md, List<RunFigures> plain, List<RunFigures> bucketed) {
        if (bucketed.isEmpty() || plain.isEmpty()) {
            return;
        }
        md.append(
                "\nThe table partitioned by `bucket(N, id)` (`partition-by`), the same workload (half"
                        + " the changes on 1% hot keys):\n\n");
        md.append(
                "| figure | tidemark-bucket | tidemark (unpartitioned) | bucket / unpartitioned |\n");
        md.append("| --- | --- | --- | --- |\n");
        row(md, "snapshot rows/s", bucketed, plain, RunFigures::snapshotRowsPerSecond, "%,.0f");
        streamRows(md, bucketed, plain);
        row(md, "data files", bucketed, plain, r -> r.dataFiles(), "%,.0f");
        row(md, "delete files", bucketed, plain, r -> r.deleteFiles(), "%,.0f");
        row(
                md,
                "files a scan plans for one hot key (`id = 1`)",
                bucketed,
                plain,
                r -> r.keyReadFiles(),
                "%,.0f");
        row(md, "one hot key's read, s", bucketed, plain, RunFigures::keyReadSeconds, "%.3f");
        row(md, "full table read, s", bucketed, plain, RunFigures::readSeconds, "%.2f");
    }

    /** The stream's rows of a comparison: changes/s, catch-up, freshness. */
    private static void streamRows(StringBuilder md, List<RunFigures> a, List<RunFigures> b) {
        row(
                md,
                "burst changes/s (first change to table showing the last)",
                a,
                b,
                RunFigures::streamRowsPerSecond,
                "%,.0f");
        if (!a.isEmpty() && a.get(0).backlogChanges() > 0) {
            row(
                    md,
                    String.format(
                            "backlog changes/s (%,d written while stopped with a savepoint;"
                                    + " resume to table showing the last)",
                            a.get(0).backlogChanges()),
                    a,
                    b,
                    RunFigures::backlogChangesPerSecond,
                    "%,.0f");
            row(
                    md,
                    "backlog seconds (resume to caught up)",
                    a,
                    b,
                    RunFigures::backlogSeconds,
                    "%.1f");
        }
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
        row(md, "catch-up after the last change, s", tm, sql, ShardFigures::catchUpSeconds, "%.1f");
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
                            run.side(), run.repetition(), run.expectedRows(), diff(run.diff())));
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
