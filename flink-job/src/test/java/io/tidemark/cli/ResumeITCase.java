package io.tidemark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.KeptServing;
import io.tidemark.testing.RunProcess;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code tidemark run} as users start it, in a process of its own, killed with {@code kill -9}
 * (SIGKILL: no shutdown hook, no cancel, no savepoint) while a workload writes: the next {@code
 * run} of the same pipeline file resumes from the newest retained checkpoint (kept in the
 * in-process default directory beside the file) and ends equal to the source, deletes and updates
 * made while it was down included, without committing any checkpoint twice; stopped with SIGTERM,
 * the next {@code run} resumes again. With the retained state gone, a start into the pipeline's
 * tables is refused, naming {@code --fresh} and {@code --from-savepoint}; {@code --fresh} starts
 * and says what it does.
 */
class ResumeITCase {

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("resume", "floor", "iceberg_catalog");

    private static final Duration TIMEOUT = Duration.ofMinutes(3);

    private static final String RESUMING =
            "tidemark run: resuming from the newest retained checkpoint";

    @Test
    void killNineThenRunAgainResumesAndEndsEqual() throws Exception {
        Names names = new Names("resume", "resume", "resume_slot", "resume");
        Path work = Files.createDirectories(DATABASE.dir().resolve("run"));
        Path pipelineFile = work.resolve("pipeline.yaml");
        // no checkpoint.dir: the in-process default beside the pipeline file is what resumes
        Files.writeString(
                pipelineFile,
                TestPipelines.shopPipeline(DATABASE.get(), work, names, 2)
                        .set("checkpoint.dir", null)
                        .text());

        Catalog catalog =
                TestPipelines.catalog(
                        new io.tidemark.config.PipelineConfigLoader().load(pipelineFile));
        try (Connection writer = DATABASE.get().connect(names.database());
                Connection verifier = DATABASE.get().connect(names.database())) {
            ShopWorkload workload = new ShopWorkload(writer, 19L);
            workload.createAndSeed(1_000, 2_000);
            TableIdentifier orders = names.targets().get(ShopWorkload.ORDERS);

            Process first = startRun(pipelineFile, work.resolve("first.log"));
            Workload running = Workload.start(workload);
            try {
                // streaming: the snapshot's commit and at least three commits after it
                awaitCommits(first, catalog, orders, 4, work.resolve("first.log"));
                int before = commits(catalog.loadTable(orders));
                Awaitility.await("two more commits while the workload writes")
                        .atMost(TIMEOUT)
                        .until(() -> commits(catalog.loadTable(orders)) >= before + 2);
            } finally {
                // SIGKILL, as an OOM kill or a power cut: nothing of the job runs after it
                first.destroyForcibly();
                assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
                running.stop();
            }
            assertThat(first.exitValue()).isEqualTo(137);

            // while nothing runs: deletes and updates
            try (Statement sql = writer.createStatement()) {
                sql.execute(
                        "DELETE FROM public.orders WHERE id IN "
                                + "(SELECT id FROM public.orders ORDER BY id LIMIT 10)");
                sql.execute(
                        "UPDATE public.customers SET name = name || ' (moved)' WHERE id IN "
                                + "(SELECT id FROM public.customers ORDER BY id DESC LIMIT 10)");
            }
            workload.apply(200);

            Path secondLog = work.resolve("second.log");
            Process second = startRun(pipelineFile, secondLog);
            try {
                awaitOutput(second, secondLog, RESUMING);
                assertThat(log(secondLog))
                        .contains(
                                work.resolve("tidemark-state")
                                        .resolve("checkpoints")
                                        .resolve(names.pipelineId())
                                        .toString());
                workload.apply(300);
                GroundTruth.awaitEqual(
                        () -> assertAlive(second, secondLog),
                        verifier,
                        catalog,
                        names.targets(),
                        TIMEOUT);
            } finally {
                // SIGTERM this time, as a service manager stops a process
                second.destroy();
                if (!second.waitFor(60, TimeUnit.SECONDS)) {
                    second.destroyForcibly();
                }
            }
            workload.apply(200);
            Path thirdLog = work.resolve("third.log");
            Process third = startRun(pipelineFile, thirdLog);
            try {
                awaitOutput(third, thirdLog, RESUMING);
                GroundTruth.awaitEqual(
                        () -> assertAlive(third, thirdLog),
                        verifier,
                        catalog,
                        names.targets(),
                        TIMEOUT);
            } finally {
                third.destroyForcibly();
                third.waitFor(60, TimeUnit.SECONDS);
            }
            for (TableIdentifier target : names.targets().values()) {
                // resumed twice: one lineage, no checkpoint committed twice
                assertThat(
                                CommitHistory.assertEachCheckpointOnce(
                                        catalog.loadTable(target), names.pipelineId()))
                        .hasSize(1);
            }

            // the retained state lost: a start into the pipeline's tables is refused ...
            deleteRecursively(work.resolve("tidemark-state"));
            Path refusedLog = work.resolve("refused.log");
            Process refused = startRun(pipelineFile, refusedLog);
            assertThat(refused.waitFor(2, TimeUnit.MINUTES)).isTrue();
            assertThat(refused.exitValue()).as(log(refusedLog)).isEqualTo(Tidemark.EXIT_USAGE);
            assertThat(log(refusedLog))
                    .contains("no retained checkpoint or savepoint of pipeline resume under")
                    .contains("its tables hold its commits (resume.customers: checkpoint ")
                    .contains("--from-savepoint <path>")
                    .contains("--fresh");
            // ... and --fresh starts, saying what it does, and converges: rows deleted while no
            // state was kept go, as do the table's old versions of updated rows
            try (Statement sql = writer.createStatement()) {
                sql.execute(
                        "DELETE FROM public.orders WHERE id IN "
                                + "(SELECT id FROM public.orders ORDER BY id DESC LIMIT 25)");
                sql.execute("DELETE FROM public.customers WHERE id % 97 = 0");
                sql.execute("UPDATE public.orders SET note = 'while down' WHERE id % 50 = 0");
            }
            Path freshLog = work.resolve("fresh.log");
            Process fresh = startRun(pipelineFile, freshLog, "--fresh");
            try {
                awaitOutput(
                        fresh,
                        freshLog,
                        "tidemark run: starting without state (--fresh) into tables that hold "
                                + "this pipeline's commits");
                assertThat(log(freshLog)).contains("the first commit to each removes every row");
                workload.apply(300);
                GroundTruth.awaitEqual(
                        () -> assertAlive(fresh, freshLog),
                        verifier,
                        catalog,
                        names.targets(),
                        TIMEOUT);
            } finally {
                fresh.destroyForcibly();
                fresh.waitFor(60, TimeUnit.SECONDS);
            }
            for (TableIdentifier target : names.targets().values()) {
                Table table = catalog.loadTable(target);
                // the first lineage, then the fresh start's, each checkpoint once
                assertThat(CommitHistory.assertEachCheckpointOnce(table, names.pipelineId()))
                        .hasSize(2);
                // the fresh lineage's first commit removed what the table held
                long replacing = 0;
                for (Snapshot snapshot : table.snapshots()) {
                    if (snapshot.summary().containsKey(Provenance.REPLACED_FILES)) {
                        replacing++;
                        assertThat(
                                        Integer.parseInt(
                                                snapshot.summary().get(Provenance.REPLACED_FILES)))
                                .isPositive();
                    }
                }
                assertThat(replacing).as("commits replacing %s", target).isEqualTo(1);
            }

            keepServingWhileEachTableIsReadAgain(
                    pipelineFile, work, catalog, workload, writer, verifier, names);
        } finally {
            DATABASE.get().dropSlot(names.database(), names.slot());
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /**
     * A fresh start that keeps serving reads the log again from its slot's confirmed position,
     * which after a crash can be behind what the tables hold (here, deterministically: a slot made
     * before a hundred rounds of updates of 200 rows that the first run committed, read again
     * across many checkpoints of 200 ms). Those changes are in the table; applied again they would
     * show each row's older counts until the newer came again. Every commit until the re-read is
     * done must hold every row at its count, and a change after them still flows.
     */
    private static final long ROUNDS = 100;

    @Test
    void aFreshStartReadingTheLogAgainDoesNotApplyWhatTheTablesHold() throws Exception {
        Path work = Files.createDirectories(DATABASE.dir().resolve("floor-run"));
        Path pipelineFile = work.resolve("pipeline.yaml");
        io.tidemark.testing.PipelineYaml yaml =
                io.tidemark.testing.PipelineYaml.postgres(DATABASE.get(), "floor", work, "floor")
                        .set("checkpoint.dir", null)
                        .set("checkpoint.interval", "200ms")
                        .table("public.counters", "floor.counters");
        Files.writeString(pipelineFile, yaml.text());
        TableIdentifier target = TableIdentifier.of("floor", "counters");
        java.util.Map<String, TableIdentifier> targets =
                java.util.Map.of("public.counters", target);
        Catalog catalog = TestPipelines.catalog(yaml.config());
        try (Connection source = DATABASE.get().connect("floor");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE counters (id bigint PRIMARY KEY, n bigint NOT NULL)");
            sql.execute("INSERT INTO counters SELECT g, 0 FROM generate_series(1, 200) g");
            Path firstLog = work.resolve("first.log");
            Process first = startRun(pipelineFile, firstLog);
            try {
                awaitCommits(first, catalog, target, 1, firstLog);
                // a slot behind what the first run will commit (its publication exists now)
                sql.execute("SELECT pg_create_logical_replication_slot('floor_early', 'pgoutput')");
                for (int round = 0; round < ROUNDS; round++) {
                    sql.execute("UPDATE counters SET n = n + 1");
                }
                GroundTruth.awaitEqual(
                        () -> assertAlive(first, firstLog), source, catalog, targets, TIMEOUT);
            } finally {
                first.destroyForcibly();
                first.waitFor(60, TimeUnit.SECONDS);
            }

            deleteRecursively(work.resolve("tidemark-state"));
            Files.writeString(pipelineFile, yaml.set("source.slot.name", "floor_early").text());
            long before = catalog.loadTable(target).currentSnapshot().snapshotId();
            KeptServing kept = KeptServing.note(catalog, source, targets);
            Path keptLog = work.resolve("kept.log");
            Process run = startRun(pipelineFile, keptLog, "--fresh", "--keep-serving");
            try {
                awaitOutput(run, keptLog, "every table is read again while the pipeline runs");
                assertThat(log(keptLog))
                        .contains("replication slot 'floor_early' kept")
                        .contains("floor.counters: changes through {\"source\":{\"commit_lsn\":")
                        .contains("are in the table; read again, they are not applied again");
                kept.awaitRereadAndCheck(catalog, () -> assertAlive(run, keptLog), TIMEOUT);
                Table table = catalog.loadTable(target);
                java.util.List<String> older = new java.util.ArrayList<>();
                for (Snapshot snapshot = table.currentSnapshot();
                        snapshot.snapshotId() != before;
                        snapshot = table.snapshot(snapshot.parentId())) {
                    try (var rows =
                            org.apache.iceberg.data.IcebergGenerics.read(table)
                                    .useSnapshot(snapshot.snapshotId())
                                    .build()) {
                        for (org.apache.iceberg.data.Record row : rows) {
                            if ((Long) row.getField("n") != ROUNDS) {
                                older.add(
                                        "snapshot "
                                                + snapshot.snapshotId()
                                                + ": id "
                                                + row.getField("id")
                                                + " n "
                                                + row.getField("n"));
                            }
                        }
                    }
                }
                assertThat(older).as("rows at an older count while read again").isEmpty();
                sql.execute("UPDATE counters SET n = n + 1 WHERE id <= 10");
                GroundTruth.awaitEqual(
                        () -> assertAlive(run, keptLog), source, catalog, targets, TIMEOUT);
            } finally {
                run.destroyForcibly();
                run.waitFor(60, TimeUnit.SECONDS);
            }
        } finally {
            DATABASE.get().dropSlot("floor", "floor");
            DATABASE.get().dropSlot("floor", "floor_early");
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /**
     * The retained state lost once more, and rows changed while no job ran: {@code run --fresh
     * --keep-serving} keeps the tables' rows while each is read again in place. Every commit it
     * makes before the re-reads are done holds every row the table held that the source still holds
     * (nothing refills), and the tables end equal to the source.
     */
    private static void keepServingWhileEachTableIsReadAgain(
            Path pipelineFile,
            Path work,
            Catalog catalog,
            ShopWorkload workload,
            Connection writer,
            Connection verifier,
            Names names)
            throws Exception {
        deleteRecursively(work.resolve("tidemark-state"));
        try (Statement sql = writer.createStatement()) {
            sql.execute(
                    "DELETE FROM public.orders WHERE id IN "
                            + "(SELECT id FROM public.orders ORDER BY id LIMIT 15)");
            sql.execute("UPDATE public.orders SET note = 'kept serving' WHERE id % 40 = 0");
        }
        workload.apply(100);
        KeptServing kept = KeptServing.note(catalog, verifier, names.targets());
        Path keptLog = work.resolve("kept.log");
        Process run = startRun(pipelineFile, keptLog, "--fresh", "--keep-serving");
        try {
            awaitOutput(run, keptLog, "every table is read again while the pipeline runs");
            assertThat(log(keptLog))
                    .contains(
                            "tidemark run: starting without state (--fresh) into tables that hold "
                                    + "this pipeline's commits")
                    .contains("the tables keep their rows")
                    .contains("replication slot '" + names.slot() + "' kept");
            kept.awaitRereadAndCheck(catalog, () -> assertAlive(run, keptLog), TIMEOUT);
            GroundTruth.awaitEqual(
                    () -> assertAlive(run, keptLog), verifier, catalog, names.targets(), TIMEOUT);
            workload.apply(300);
            GroundTruth.awaitEqual(
                    () -> assertAlive(run, keptLog), verifier, catalog, names.targets(), TIMEOUT);
        } finally {
            run.destroyForcibly();
            run.waitFor(60, TimeUnit.SECONDS);
        }
    }

    private static Process startRun(Path pipelineFile, Path log, String... options)
            throws IOException {
        return RunProcess.start(pipelineFile, log, options);
    }

    private static void awaitOutput(Process run, Path log, String line) {
        RunProcess.awaitOutput(run, log, line, TIMEOUT);
    }

    private static void assertAlive(Process run, Path log) throws IOException {
        RunProcess.assertAlive(run, log);
    }

    private static String log(Path log) throws IOException {
        return RunProcess.log(log);
    }

    private static void awaitCommits(
            Process run, Catalog catalog, TableIdentifier table, int count, Path log) {
        Awaitility.await(count + " commits of " + table)
                .atMost(TIMEOUT)
                .ignoreExceptionsMatching(
                        e -> e instanceof org.apache.iceberg.exceptions.NoSuchTableException)
                .until(
                        () -> {
                            assertAlive(run, log);
                            return commits(catalog.loadTable(table)) >= count;
                        });
    }

    private static int commits(Table table) {
        table.refresh();
        int count = 0;
        for (Snapshot ignored : table.snapshots()) {
            count++;
        }
        return count;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    /** The shop workload on a thread of its own: a small transaction every 5 ms. */
    private static final class Workload {

        private final ScheduledExecutorService executor =
                Executors.newSingleThreadScheduledExecutor();
        private final AtomicReference<Exception> failure = new AtomicReference<>();

        static Workload start(ShopWorkload workload) {
            Workload running = new Workload();
            running.executor.scheduleAtFixedRate(
                    () -> {
                        try {
                            workload.step();
                        } catch (Exception e) {
                            running.failure.compareAndSet(null, e);
                            // ends the schedule; stop() reports it
                            throw new IllegalStateException(e);
                        }
                    },
                    0,
                    5,
                    TimeUnit.MILLISECONDS);
            return running;
        }

        void stop() throws Exception {
            executor.shutdown();
            assertThat(executor.awaitTermination(1, TimeUnit.MINUTES)).isTrue();
            if (failure.get() != null) {
                throw failure.get();
            }
        }
    }
}
