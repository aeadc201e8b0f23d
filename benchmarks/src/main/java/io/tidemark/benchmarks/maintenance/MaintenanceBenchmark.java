package io.tidemark.benchmarks.maintenance;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.testbed.EmbeddedDatabase;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Table maintenance measured (issue 20): the same pipeline streams the same changes into a table
 * for {@code --checkpoints} checkpoints (default 2,000) with maintenance off, then on ({@code
 * maintenance.*}: compaction and snapshot expiry every {@value MaintenanceSide#EVERY_COMMITS}
 * commits unless {@code --compact-every} says, the fold every {@code --fold-every} delete files if
 * given, at most one run every {@code --min-interval}, {@value MaintenanceSide#RETAIN_LAST}
 * snapshots kept), and reports for each: snapshots, data and delete files, metadata size, and the
 * time of a full read (median of three) beside the same rows freshly written to a table of their
 * own. Each side ends equal to its source ({@link GroundTruthDiff}: missing, extra, duplicate and
 * stale all zero) or the run fails.
 *
 * <pre>
 * ./mvnw -q -Pmaintenance-bench compile -pl benchmarks -am -Dmaintenance.args="--checkpoints 2000"
 * </pre>
 */
public final class MaintenanceBenchmark {

    private MaintenanceBenchmark() {}

    /** What one side measured. */
    record Figures(
            String side,
            long commits,
            long changes,
            Duration streamed,
            TableFigures table,
            PointReads current,
            PointReads mostFiles,
            String verified) {}

    /**
     * The full reads of one {@link ReadPoint} by each reader, the table's and its fresh copy's
     * (wall times in ms; -1: gave up or could not read).
     */
    record PointReads(
            ReadPoint point,
            List<Long> readMillis,
            List<Long> freshReadMillis,
            List<Long> tidemarkReadMillis,
            List<Long> freshTidemarkReadMillis,
            List<Long> trinoReadMillis,
            List<Long> freshTrinoReadMillis) {}

    public static void main(String[] args) throws Exception {
        int checkpoints = 2_000;
        int rows = 20_000;
        int rate = 1_000;
        int everyCommits = MaintenanceSide.EVERY_COMMITS;
        int foldEvery = 0;
        String minInterval = MaintenanceSide.MIN_INTERVAL;
        String sides = "both";
        Path work = Path.of("target", "maintenance-bench");
        Path results = Path.of("results");
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--checkpoints" -> checkpoints = Integer.parseInt(args[i + 1]);
                case "--rows" -> rows = Integer.parseInt(args[i + 1]);
                case "--rate" -> rate = Integer.parseInt(args[i + 1]);
                case "--side" -> sides = args[i + 1];
                case "--compact-every" -> everyCommits = Integer.parseInt(args[i + 1]);
                case "--fold-every" -> foldEvery = Integer.parseInt(args[i + 1]);
                case "--min-interval" -> minInterval = args[i + 1];
                case "--work-dir" -> work = Path.of(args[i + 1]);
                case "--results-dir" -> results = Path.of(args[i + 1]);
                default -> {
                    System.err.println(
                            "usage: [--checkpoints N] [--rows R] [--rate changes/s] [--side on|off|both]"
                                    + " [--compact-every commits] [--fold-every delete-files]"
                                    + " [--min-interval duration]"
                                    + " [--work-dir D] [--results-dir D]; unknown "
                                    + args[i]);
                    System.exit(2);
                }
            }
        }
        run(
                checkpoints,
                rows,
                rate,
                new Schedule(everyCommits, foldEvery, minInterval),
                sides,
                work.toAbsolutePath(),
                results.toAbsolutePath(),
                System.out);
        System.exit(0);
    }

    /** Runs the sides {@code sides} names ({@code on}, {@code off} or {@code both}). */
    static List<Figures> run(
            int checkpoints,
            int rows,
            int rate,
            Schedule schedule,
            String sides,
            Path work,
            Path results,
            PrintStream out)
            throws Exception {
        deleteRecursively(work);
        Files.createDirectories(work);
        Files.createDirectories(results);
        List<Figures> figures = new ArrayList<>();
        try (EmbeddedDatabase database = EmbeddedDatabase.start(work.resolve("postgres"))) {
            database.createDatabase(MaintenanceSide.CATALOG_DATABASE);
            String warehouse = work.resolve("warehouse").toUri().toString();
            Catalog catalog = catalog(database, warehouse);
            try {
                // maintenance on first: the side whose figures come quickly
                for (boolean maintained : new boolean[] {true, false}) {
                    if (!sides.equals("both") && !sides.equals(maintained ? "on" : "off")) {
                        continue;
                    }
                    MaintenanceSide side =
                            new MaintenanceSide(database, work, warehouse, maintained, schedule);
                    figures.add(measure(side, catalog, checkpoints, rows, rate, out));
                }
            } finally {
                if (catalog instanceof AutoCloseable closeable) {
                    closeable.close();
                }
            }
        }
        Path report =
                results.resolve(
                        LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                                + "-maintenance.md");
        Files.writeString(
                report, MaintenanceReport.markdown(figures, checkpoints, rows, rate, schedule));
        out.println(MaintenanceReport.markdown(figures, checkpoints, rows, rate, schedule));
        out.println("Report: " + report);
        return figures;
    }

    private static Figures measure(
            MaintenanceSide side,
            Catalog catalog,
            int checkpoints,
            int rows,
            int rate,
            PrintStream out)
            throws Exception {
        side.createSource(rows);
        out.printf("[%s] %,d rows; streaming %,d changes/s%n", side.name(), rows, rate);
        JobClient job = side.start();
        boolean cancelled = false;
        long started = System.nanoTime();
        try (Connection source = side.connect();
                ChangeStream stream = ChangeStream.start(side.connect(), rows, rate)) {
            TableIdentifier target = side.target();
            CommitCount commits = new CommitCount();
            // at least two commits a minute, or the run fails rather than waits on
            long deadline = System.nanoTime() + Duration.ofSeconds(30L * checkpoints).toNanos();
            while (commits.count() < checkpoints) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            side.name()
                                    + ": "
                                    + commits.count()
                                    + " of "
                                    + checkpoints
                                    + " checkpoints committed within the time allowed");
                }
                Thread.sleep(2_000);
                side.assertRunning(job);
                commits.update(catalog.loadTable(target));
                out.printf(
                        "[%s] %,d of %,d checkpoints committed, %,d changes written%n",
                        side.name(), commits.count(), checkpoints, stream.written());
            }
            stream.close();
            long changes = stream.written();
            side.awaitMarker(source, catalog, job, Duration.ofMinutes(10));
            Duration streamed = Duration.ofNanos(System.nanoTime() - started);
            job.cancel().get();
            cancelled = true;
            Table table = catalog.loadTable(target);
            commits.update(table);
            TableFigures tableFigures = TableFigures.of(table);
            ReadPoint current = ReadPoint.current(table);
            List<Long> reads = TableFigures.timedReads(table, current.snapshotId(), 3);
            String verified;
            if (reads.get(0) < 0 || reads.get(0) > TableFigures.READ_LIMIT_MS / 2) {
                // the diff reads the table in full once more
                verified =
                        "not diffed: a full read takes over "
                                + TableFigures.READ_LIMIT_MS / 120_000
                                + " min";
            } else {
                DiffReport diff = GroundTruthDiff.diff(source, MaintenanceSide.SOURCE_TABLE, table);
                if (!diff.isClean()) {
                    throw new IllegalStateException(
                            side.name() + ": the table differs from its source: " + diff.summary());
                }
                verified = "equal to the source (" + diff.summary() + ")";
            }
            out.printf("[%s] %s%n", side.name(), verified);
            boolean quick = reads.get(0) >= 0 && reads.get(0) < 60_000;
            // the current snapshot, and the end of a compaction cycle when one is retained: the
            // snapshot with the most files, which a reader meets just before a compaction
            List<ReadPoint> points = new ArrayList<>();
            points.add(
                    current.withFresh(
                            FreshCopy.of(
                                    catalog,
                                    table,
                                    current.snapshotId(),
                                    "fresh",
                                    reads.get(0) >= 0)));
            List<List<Long>> genericReads = new ArrayList<>();
            genericReads.add(reads);
            if (quick) {
                Optional<ReadPoint> most = ReadPoint.mostFiles(table);
                if (most.isPresent()) {
                    points.add(
                            most.get()
                                    .withFresh(
                                            FreshCopy.of(
                                                    catalog,
                                                    table,
                                                    most.get().snapshotId(),
                                                    "fresh_most_files",
                                                    true)));
                    genericReads.add(TableFigures.timedReads(table, most.get().snapshotId(), 3));
                }
            }
            List<List<List<Long>>> trinoReads =
                    quick
                            ? TrinoReads.alternating(
                                    side.database(), side.warehouse(), side.work(), points, 5, out)
                            : List.of(List.of(List.of(-1L), List.of(-1L)));
            List<PointReads> pointReads = new ArrayList<>();
            for (int i = 0; i < points.size(); i++) {
                ReadPoint point = points.get(i);
                List<Long> freshReads =
                        point.fresh() == null
                                ? List.of(-1L)
                                : TableFigures.timedReads(
                                        point.fresh(),
                                        point.fresh().currentSnapshot().snapshotId(),
                                        3);
                List<List<Long>> tidemarkReads =
                        point.fresh() == null || !quick
                                ? List.of(List.of(-1L), List.of(-1L))
                                : TableFigures.alternatingReads(
                                        table, point.snapshotId(), point.fresh(), 5);
                pointReads.add(
                        new PointReads(
                                point,
                                genericReads.get(i),
                                freshReads,
                                tidemarkReads.get(0),
                                tidemarkReads.get(1),
                                trinoReads.get(i).get(0),
                                trinoReads.get(i).get(1)));
                out.printf(
                        "[%s] %s; full read %d ms (fresh copy %d ms), by Tidemark's reader %d ms"
                                + " (fresh copy %d ms), by Trino %d ms (fresh copy %d ms)%n",
                        side.name(),
                        point,
                        median(genericReads.get(i)),
                        median(freshReads),
                        median(tidemarkReads.get(0)),
                        median(tidemarkReads.get(1)),
                        median(trinoReads.get(i).get(0)),
                        median(trinoReads.get(i).get(1)));
            }
            out.printf("[%s] %s%n", side.name(), tableFigures);
            Figures result =
                    new Figures(
                            side.name(),
                            commits.count(),
                            changes,
                            streamed,
                            tableFigures,
                            pointReads.get(0),
                            pointReads.size() > 1 ? pointReads.get(1) : null,
                            verified);
            return result;
        } finally {
            if (!cancelled) {
                job.cancel().get();
            }
        }
    }

    private static Catalog catalog(EmbeddedDatabase database, String warehouse) {
        Map<String, String> properties = new HashMap<>();
        properties.put("type", "jdbc");
        properties.put("uri", database.jdbcUrl(MaintenanceSide.CATALOG_DATABASE));
        properties.put("jdbc.user", EmbeddedDatabase.USER);
        properties.put("jdbc.password", "");
        properties.put("jdbc.schema-version", "V1");
        properties.put("warehouse", warehouse);
        return Catalogs.load(
                MaintenanceSide.CATALOG_NAME,
                properties,
                new org.apache.hadoop.conf.Configuration());
    }

    static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(Comparator.naturalOrder());
        return sorted.get(sorted.size() / 2);
    }

    static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
