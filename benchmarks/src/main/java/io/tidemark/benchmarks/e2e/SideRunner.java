package io.tidemark.benchmarks.e2e;

import com.sun.management.OperatingSystemMXBean;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.sql.Connection;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;

/** Runs one side once: snapshot, then the stream of changes, measuring as it goes. */
final class SideRunner {

    static final OperatingSystemMXBean OS =
            (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private final Side.Bench bench;
    private final Catalog catalog;
    private final PrintStream out;

    SideRunner(Side.Bench bench, Catalog catalog, PrintStream out) {
        this.bench = bench;
        this.catalog = catalog;
        this.out = out;
    }

    /**
     * One run of {@code side}: the table is generated afresh, the side started, the snapshot and
     * the stream measured; {@code rawSlot} (or null) is a slot to create before the stream, for the
     * source's raw decoding rate, which is returned through {@code rawRate}.
     */
    RunFigures run(Side side, int repetition, String rawSlot, double[] rawRate) throws Exception {
        BenchSettings settings = bench.settings();
        String run = side.name().replace('-', '_') + "_" + repetition;
        TableIdentifier id = side.table(run);
        long deadline = System.currentTimeMillis() + settings.timeout().toMillis();
        try (Connection source = bench.database().connect(Side.Bench.SOURCE_DATABASE)) {
            SourceTable.generate(source, settings.rows());
            if (catalog.tableExists(id)) {
                catalog.dropTable(id, true);
            }
            Sampler sampler = new Sampler();
            long submitted = System.currentTimeMillis();
            long cpuStart = OS.getProcessCpuTime();
            JobClient job = side.start(bench, run);
            try {
                // snapshot: every generated row committed
                Table table = null;
                while (true) {
                    sampler.sample();
                    failIfEnded(job, side);
                    if (table == null && catalog.tableExists(id)) {
                        table = catalog.loadTable(id);
                    }
                    if (table != null) {
                        table.refresh();
                        Snapshot current = table.currentSnapshot();
                        if (current != null
                                && Long.parseLong(
                                                current.summary()
                                                        .getOrDefault("total-records", "0"))
                                        >= settings.rows()) {
                            break;
                        }
                    }
                    timeout(deadline, side, "the snapshot");
                    TimeUnit.MILLISECONDS.sleep(200);
                }
                double snapshotSeconds = (System.currentTimeMillis() - submitted) / 1000.0;
                out.printf(
                        "  %s run %d: snapshot of %,d rows committed in %.1f s (%,.0f rows/s)%n",
                        side.name(),
                        repetition,
                        settings.rows(),
                        snapshotSeconds,
                        settings.rows() / snapshotSeconds);
                long cpuBeforeDiff = OS.getProcessCpuTime();
                DiffReport snapshotDiff = GroundTruthDiff.diff(source, SourceTable.TABLE, table);
                long diffCpu = OS.getProcessCpuTime() - cpuBeforeDiff;
                out.printf("    snapshot diff: %s%n", snapshotDiff.summary());

                // the stream of changes
                if (rawSlot != null) {
                    SourceTable.createRawSlot(source, rawSlot);
                }
                long streamStart = System.currentTimeMillis();
                SourceTable.ChangeWriter writer =
                        new SourceTable.ChangeWriter(settings.rows(), settings.seed());
                long markerCommitted = writer.apply(source, settings.changes(), SourceTable.MARKER);
                out.printf(
                        "    %,d changes written to the source in %.1f s%n",
                        settings.changes(), (markerCommitted - streamStart) / 1000.0);
                while (!hasMarker(table)) {
                    sampler.sample();
                    failIfEnded(job, side);
                    timeout(deadline, side, "the stream");
                    TimeUnit.MILLISECONDS.sleep(200);
                }
                long markerSeen = System.currentTimeMillis();
                long cpu = OS.getProcessCpuTime() - cpuStart - diffCpu;
                double streamSeconds = (markerSeen - streamStart) / 1000.0;
                out.printf(
                        "    stream applied %.1f s after its first change (%,.0f changes/s), %.1f s after its last%n",
                        streamSeconds,
                        settings.changes() / streamSeconds,
                        (markerSeen - markerCommitted) / 1000.0);
                if (rawSlot != null) {
                    rawRate[0] = SourceTable.rawDecodingRate(source, rawSlot, settings.changes());
                }
                Backlog backlog = Backlog.NONE;
                if (settings.backlog() > 0) {
                    backlog = backlog(side, run, job, source, table, writer);
                    job = backlog.job();
                }
                cancel(job);
                table.refresh();
                DiffReport finalDiff = GroundTruthDiff.diff(source, SourceTable.TABLE, table);
                out.printf("    final diff: %s%n", finalDiff.summary());
                Map<String, String> summary = table.currentSnapshot().summary();
                double readSeconds = readSeconds(table);
                long keyReadStart = System.nanoTime();
                long keyReadFiles = keyReadFiles(table, 1L);
                double keyReadSeconds = (System.nanoTime() - keyReadStart) / 1e9;
                List<Double> freshness = new ArrayList<>();
                List<double[]> freshnessTimeline = new ArrayList<>();
                freshness(table, streamStart, markerSeen, freshness, freshnessTimeline);
                Collections.sort(freshness);
                return new RunFigures(
                        side.name(),
                        repetition,
                        snapshotSeconds,
                        settings.rows() / snapshotSeconds,
                        streamSeconds,
                        settings.changes() / streamSeconds,
                        (markerSeen - markerCommitted) / 1000.0,
                        percentile(freshness, 0.50),
                        percentile(freshness, 0.99),
                        cpu / 1e9 / ((settings.rows() + settings.changes()) / 1e6),
                        sampler.peakHeap / 1024.0 / 1024.0,
                        Long.parseLong(summary.getOrDefault("total-data-files", "0")),
                        Long.parseLong(summary.getOrDefault("total-delete-files", "0")),
                        Long.parseLong(summary.getOrDefault("total-equality-deletes", "0")),
                        readSeconds,
                        snapshotDiff,
                        finalDiff,
                        timeline(table, submitted, markerSeen),
                        freshnessTimeline,
                        settings.backlog(),
                        backlog.seconds(),
                        backlog.timeline(),
                        keyReadFiles,
                        keyReadSeconds);
            } finally {
                cancel(job);
                bench.database().dropSlot(Side.Bench.SOURCE_DATABASE, side.slot(run));
            }
        }
    }

    /**
     * What the backlog phase measured: the resumed job, seconds from its submission until the table
     * showed the backlog's last change, and (seconds since then, rows committed) per snapshot.
     */
    private record Backlog(JobClient job, double seconds, List<double[]> timeline) {
        static final Backlog NONE = new Backlog(null, Double.NaN, List.of());
    }

    /**
     * Catch-up as users feel it: {@code job} stopped with a savepoint, the backlog written while
     * nothing reads, the side resumed from the savepoint, timed until the table shows the backlog's
     * last change (everything before it is committed then: the final diff checks).
     */
    private Backlog backlog(
            Side side,
            String run,
            JobClient job,
            Connection source,
            Table table,
            SourceTable.ChangeWriter writer)
            throws Exception {
        BenchSettings settings = bench.settings();
        String savepoint =
                job.stopWithSavepoint(
                                false,
                                settings.workDir().resolve("savepoints").toUri().toString(),
                                SavepointFormatType.CANONICAL)
                        .get(5, TimeUnit.MINUTES);
        long writeStart = System.currentTimeMillis();
        writer.apply(source, settings.backlog(), SourceTable.BACKLOG_MARKER);
        out.printf(
                "    stopped with a savepoint; backlog of %,d changes written in %.1f s%n",
                settings.backlog(), (System.currentTimeMillis() - writeStart) / 1000.0);
        long deadline = System.currentTimeMillis() + settings.timeout().toMillis();
        long resumed = System.currentTimeMillis();
        JobClient resumedJob = side.resume(bench, run, savepoint);
        while (!hasRow(table, SourceTable.BACKLOG_MARKER)) {
            failIfEnded(resumedJob, side);
            timeout(deadline, side, "the backlog");
            TimeUnit.MILLISECONDS.sleep(200);
        }
        double seconds = (System.currentTimeMillis() - resumed) / 1000.0;
        out.printf(
                "    backlog applied %.1f s after the resume (%,.0f changes/s)%n",
                seconds, settings.backlog() / seconds);
        List<double[]> timeline = new ArrayList<>();
        long rows = 0;
        for (Snapshot snapshot : table.snapshots()) {
            if (snapshot.timestampMillis() >= resumed) {
                rows += Long.parseLong(snapshot.summary().getOrDefault("added-records", "0"));
                timeline.add(new double[] {(snapshot.timestampMillis() - resumed) / 1000.0, rows});
            }
        }
        return new Backlog(resumedJob, seconds, timeline);
    }

    private static boolean hasMarker(Table table) throws Exception {
        return hasRow(table, SourceTable.MARKER);
    }

    /** Whether the table's current snapshot holds the row of key {@code id}. */
    static boolean hasRow(Table table, long id) throws Exception {
        table.refresh();
        if (table.currentSnapshot() == null) {
            return false;
        }
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(table).where(Expressions.equal("id", id)).build()) {
            return rows.iterator().hasNext();
        }
    }

    /**
     * The data and delete files an Iceberg scan plans for key {@code id}, its row read too (a point
     * lookup: a table partitioned by {@code bucket(N, id)} prunes the other buckets).
     */
    static long keyReadFiles(Table table, long id) throws java.io.IOException {
        long files = 0;
        org.apache.iceberg.expressions.Expression key =
                org.apache.iceberg.expressions.Expressions.equal("id", id);
        try (CloseableIterable<org.apache.iceberg.FileScanTask> tasks =
                table.newScan().filter(key).planFiles()) {
            for (org.apache.iceberg.FileScanTask task : tasks) {
                files += 1 + task.deletes().size();
            }
        }
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).where(key).build()) {
            for (Record ignored : rows) {
                // read, as a lookup does
            }
        }
        return files;
    }

    /** Seconds to read the whole table with an Iceberg Java scan. */
    static double readSeconds(Table table) throws java.io.IOException {
        long readStart = System.nanoTime();
        long read = 0;
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
            for (Record ignored : rows) {
                read++;
            }
        }
        return (System.nanoTime() - readStart) / 1e9;
    }

    /**
     * Freshness of every change of the stream: the commit time of the snapshot that added its row
     * minus the time the source wrote it ({@code updated_at}); snapshots committed from {@code
     * streamStart} until {@code streamEnd} (not the backlog's, written while nothing ran).
     */
    private static void freshness(
            Table table,
            long streamStart,
            long streamEnd,
            List<Double> all,
            List<double[]> timeline)
            throws Exception {
        Schema projection = table.schema().select("updated_at");
        for (Snapshot snapshot : table.snapshots()) {
            if (snapshot.timestampMillis() < streamStart
                    || snapshot.timestampMillis() > streamEnd) {
                continue;
            }
            double worst = 0;
            for (DataFile file : snapshot.addedDataFiles(table.io())) {
                try (CloseableIterable<Record> rows =
                        Parquet.read(table.io().newInputFile(file.location()))
                                .project(projection)
                                .createReaderFunc(
                                        fileSchema ->
                                                GenericParquetReaders.buildReader(
                                                        projection, fileSchema))
                                .build()) {
                    for (Record row : rows) {
                        long written =
                                ((OffsetDateTime) row.getField("updated_at"))
                                        .toInstant()
                                        .toEpochMilli();
                        if (written < streamStart) {
                            continue;
                        }
                        double ms = snapshot.timestampMillis() - written;
                        all.add(ms);
                        worst = Math.max(worst, ms);
                    }
                }
            }
            timeline.add(new double[] {(snapshot.timestampMillis() - streamStart) / 1000.0, worst});
        }
    }

    /** (seconds since submission, rows committed so far) per snapshot until {@code until}. */
    private static List<double[]> timeline(Table table, long submitted, long until) {
        List<double[]> points = new ArrayList<>();
        long rows = 0;
        for (Snapshot snapshot : table.snapshots()) {
            if (snapshot.timestampMillis() > until) {
                break;
            }
            rows += Long.parseLong(snapshot.summary().getOrDefault("added-records", "0"));
            points.add(new double[] {(snapshot.timestampMillis() - submitted) / 1000.0, rows});
        }
        return points;
    }

    static double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int index = (int) Math.ceil(p * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    static void failIfEnded(JobClient job, Side side) throws Exception {
        JobStatus status = job.getJobStatus().get(10, TimeUnit.SECONDS);
        if (status.isGloballyTerminalState()) {
            throw new IllegalStateException(
                    side.name() + " job ended " + status + " before the run was measured");
        }
    }

    static void timeout(long deadline, Side side, String phase) {
        if (System.currentTimeMillis() > deadline) {
            throw new IllegalStateException(
                    side.name() + ": " + phase + " did not reach the table within the timeout");
        }
    }

    /** Peak heap, sampled. */
    static final class Sampler {
        long peakHeap;

        void sample() {
            peakHeap = Math.max(peakHeap, MEMORY.getHeapMemoryUsage().getUsed());
        }
    }

    /** Cancels a job and waits until it ended (a job whose local cluster is gone has ended). */
    static void cancel(JobClient job) throws Exception {
        try {
            if (job.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()) {
                return;
            }
            job.cancel().get(1, TimeUnit.MINUTES);
            long until = System.currentTimeMillis() + 60_000;
            while (!job.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()
                    && System.currentTimeMillis() < until) {
                TimeUnit.MILLISECONDS.sleep(100);
            }
        } catch (java.util.concurrent.ExecutionException | IllegalStateException e) {
            // the local cluster of a job that ended is gone: nothing left to cancel
        }
    }
}
