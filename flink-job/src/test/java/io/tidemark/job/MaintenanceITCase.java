package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.maintenance.DeleteFold;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.io.IOException;
import java.sql.Connection;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.RestoreMode;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Table maintenance beside the stream (issue 20): the job compacts and expires its tables while a
 * workload of inserts, updates and deletes streams into them through one-second checkpoints ({@code
 * pipelines/maintenance.yaml}: both every 5 commits, 5 snapshots kept). The job never fails, the
 * tables end equal to the source in every column, Iceberg's rewrites ({@code replace} snapshots
 * with files removed) sit in the history with the pipeline's commits after them, and expiry keeps
 * the history bounded: the first snapshots are gone and far fewer remain than the pipeline
 * committed; the equality delete files a compaction leaves behind (older than every data file) do
 * not stay. With orphan-file removal scheduled, files no table uses go and every file a table uses
 * stays, however old.
 */
class MaintenanceITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE =
            new SharedDatabase("iceberg_catalog", "maint", "orphans", "ondemand");

    @Test
    void theJobCompactsAndExpiresItsTablesWhileTheyStream() throws Exception {
        EmbeddedDatabase database = DATABASE.get();
        String id = "maintenance-it";
        PipelineConfig config =
                TestPipelines.fromResource("maintenance.yaml", database, DATABASE.dir(), id);
        Map<String, TableIdentifier> targets = new LinkedHashMap<>();
        targets.put(ShopWorkload.CUSTOMERS, TableIdentifier.of("maint", "customers"));
        targets.put(ShopWorkload.ORDERS, TableIdentifier.of("maint", "orders"));
        Catalog catalog = TestPipelines.catalog(config);
        try (Connection source = database.connect("maint")) {
            ShopWorkload workload = new ShopWorkload(source, 41L);
            workload.createAndSeed(1_000, 2_000);
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(id, "maintenance-run"),
                            CommitListener.NONE,
                            null);
            try {
                GroundTruth.awaitEqual(job, source, catalog, targets, Duration.ofMinutes(3));
                Map<TableIdentifier, Long> first = new LinkedHashMap<>();
                for (TableIdentifier target : targets.values()) {
                    first.put(target, oldest(catalog.loadTable(target)).snapshotId());
                }
                // stream until both tables were compacted, folded and expired, and the pipeline
                // committed after a compaction and after a fold
                Awaitility.await("compaction, fold and expiry of both tables while they stream")
                        .atMost(Duration.ofMinutes(4))
                        .pollInterval(Duration.ofMillis(200))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    workload.apply(60);
                                    for (TableIdentifier target : targets.values()) {
                                        Table table = catalog.loadTable(target);
                                        if (!committedAfter(table, "compaction")
                                                || !committedAfter(table, DeleteFold.TASK)
                                                || table.snapshot(first.get(target)) != null) {
                                            return false;
                                        }
                                    }
                                    return true;
                                });
                // the equality deletes a compaction leaves behind, older than every data file,
                // leave the table at the pipeline's next commit: Iceberg's own scan planning
                // (which matches each delete file to the data files it applies to) finds none
                // that applies to nothing (before the committer removed them, every one of the
                // run's equality delete files stayed)
                Awaitility.await("no equality delete file that applies to no data file")
                        .atMost(Duration.ofMinutes(2))
                        .pollInterval(Duration.ofMillis(200))
                        .untilAsserted(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    workload.apply(20);
                                    Map<TableIdentifier, Long> dangling = new LinkedHashMap<>();
                                    for (TableIdentifier target : targets.values()) {
                                        dangling.put(
                                                target,
                                                danglingEqualityDeletes(catalog.loadTable(target)));
                                    }
                                    assertThat(dangling)
                                            .as("equality delete files that apply to no data file")
                                            .allSatisfy((table, n) -> assertThat(n).isZero());
                                });
                workload.apply(300);
                GroundTruth.awaitEqual(job, source, catalog, targets, Duration.ofMinutes(3));
                GroundTruth.assertJobRunning(job);
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                        .as("the job never failed")
                        .isEmpty();
                for (TableIdentifier target : targets.values()) {
                    Table table = catalog.loadTable(target);
                    long commits = pipelineCheckpoint(table);
                    int kept = 0;
                    for (Snapshot ignored : table.snapshots()) {
                        kept++;
                    }
                    System.out.printf(
                            "%s: %d snapshots kept of about %d checkpoints committed%n",
                            target, kept, commits);
                    assertThat(kept).as(target + " snapshots kept").isLessThan((int) commits);
                }

                String savepoint =
                        job.stopWithSavepoint(
                                        false,
                                        DATABASE.dir().resolve("savepoints").toUri().toString(),
                                        SavepointFormatType.CANONICAL)
                                .get(2, TimeUnit.MINUTES);
                SavepointRestoreSettings strict =
                        SavepointRestoreSettings.forPath(savepoint, false, RestoreMode.NO_CLAIM);

                // maintenance turned off: the savepoint's maintenance state is all the new
                // graph cannot take, so it is dropped
                PipelineConfig off =
                        PipelineYaml.fromResource("maintenance.yaml", database, DATABASE.dir(), id)
                                .set("maintenance", null)
                                .config();
                assertThat(off.maintenance().enabled()).isFalse();
                StreamGraph offGraph = graph(off, "without-maintenance");
                List<ResolvedTable> offTables = JobPreparation.prepare(off);
                assertThat(
                                RetainedState.withMaintenanceDropped(
                                                strict, offGraph.getJobGraph(), Set::of)
                                        .allowNonRestoredState())
                        .as("state of other operators keeps the restore strict")
                        .isFalse();
                assertThat(
                                RetainedState.withMaintenanceDropped(
                                                strict,
                                                offGraph.getJobGraph(),
                                                () -> MaintenanceStage.operatorIds(off, offTables))
                                        .allowNonRestoredState())
                        .isTrue();

                // one more task scheduled (orphan-file removal, hourly): Iceberg's trigger
                // manager keeps its state per task, by position, and failed on the restored
                // lists of three tasks at its first commit, again at every restart
                PipelineConfig more =
                        PipelineYaml.fromResource("maintenance.yaml", database, DATABASE.dir(), id)
                                .set("maintenance.orphan-files.every", "1h")
                                .config();
                StreamGraph graph = graph(more, "with-one-more-task");
                List<ResolvedTable> moreTables = JobPreparation.prepare(more);
                graph.setSavepointRestoreSettings(
                        RetainedState.withMaintenanceDropped(
                                strict,
                                graph.getJobGraph(),
                                () -> MaintenanceStage.operatorIds(more, moreTables)));
                JobClient restored =
                        StreamExecutionEnvironment.getExecutionEnvironment(
                                        TidemarkJob.flinkConfiguration(more))
                                .executeAsync(graph);
                try {
                    Map<TableIdentifier, Long> restoredAt = new LinkedHashMap<>();
                    for (TableIdentifier target : targets.values()) {
                        restoredAt.put(
                                target, catalog.loadTable(target).currentSnapshot().snapshotId());
                    }
                    // the restored job's maintenance runs: a compaction after the restore
                    Awaitility.await("a compaction of each table by the restored job")
                            .atMost(Duration.ofMinutes(3))
                            .pollInterval(Duration.ofMillis(200))
                            .until(
                                    () -> {
                                        GroundTruth.assertJobRunning(restored);
                                        workload.apply(60);
                                        for (TableIdentifier target : targets.values()) {
                                            if (!compactedSince(
                                                    catalog.loadTable(target),
                                                    restoredAt.get(target))) {
                                                return false;
                                            }
                                        }
                                        return true;
                                    });
                    workload.apply(300);
                    GroundTruth.awaitEqual(
                            restored, source, catalog, targets, Duration.ofMinutes(3));
                    assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, restored))
                            .as("the restored job never failed")
                            .isEmpty();
                } finally {
                    GroundTruth.cancel(restored);
                }
            } finally {
                GroundTruth.cancel(job);
                database.dropSlot("maint", id.replace('-', '_'));
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    @Test
    void orphanFilesGoAndEveryFileATableUsesStaysHoweverOld() throws Exception {
        EmbeddedDatabase database = DATABASE.get();
        String id = "orphans-it";
        PipelineConfig config =
                PipelineYaml.fromResource("maintenance.yaml", database, DATABASE.dir(), id)
                        .set("source.database", "orphans")
                        .set("maintenance.orphan-files", Map.of("every", "2s", "min-age", "1h"))
                        // no fold: its commits beside the pipeline's (one per second here) retry,
                        // and each failed attempt's manifests go while the removal lists the
                        // table, which Hadoop's local file system fails on (a stat per file)
                        .set("maintenance.fold-deletes", null)
                        .tableKey("maint.customers", "target", "orph.customers")
                        .tableKey("maint.orders", "target", "orph.orders")
                        .config();
        Map<String, TableIdentifier> targets = new LinkedHashMap<>();
        targets.put(ShopWorkload.CUSTOMERS, TableIdentifier.of("orph", "customers"));
        targets.put(ShopWorkload.ORDERS, TableIdentifier.of("orph", "orders"));
        Catalog catalog = TestPipelines.catalog(config);
        try (Connection source = database.connect("orphans")) {
            ShopWorkload workload = new ShopWorkload(source, 43L);
            workload.createAndSeed(500, 1_000);
            JobClient job =
                    TestJobs.start(
                            config, RunContext.start(id, "orphans-run"), CommitListener.NONE, null);
            try {
                workload.apply(200);
                GroundTruth.awaitEqual(job, source, catalog, targets, Duration.ofMinutes(3));
                // the targets and the quarantine of unrouted changes, which stays without rows
                List<TableIdentifier> tables =
                        catalog.listTables(org.apache.iceberg.catalog.Namespace.of("orph"));
                assertThat(tables)
                        .containsAll(targets.values())
                        .contains(
                                io.tidemark.sink.QuarantineTable.unrouted(
                                        TableIdentifier.of("orph", "customers")));
                // as after days of running: every file older than the orphan-file age, and in
                // each table's data and metadata directories a file no snapshot names, as an
                // attempt that failed after writing leaves
                List<java.nio.file.Path> strays = new java.util.ArrayList<>();
                for (TableIdentifier name : tables) {
                    java.nio.file.Path dir = localPath(catalog.loadTable(name).location());
                    strays.add(stray(dir.resolve("data"), "stray-1.parquet"));
                    strays.add(stray(dir.resolve("metadata"), "stray-2-m0.avro"));
                    ageEveryFile(dir);
                }
                Awaitility.await("the files no table uses removed")
                        .atMost(Duration.ofMinutes(2))
                        .pollInterval(Duration.ofMillis(500))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    workload.apply(20);
                                    return strays.stream().noneMatch(java.nio.file.Files::exists);
                                });
                // and none a table uses, in any snapshot it keeps: checked until expiry, which
                // removes the files of the snapshots it expires, is between two runs
                Awaitility.await("every file the tables use still there")
                        .atMost(Duration.ofMinutes(1))
                        .pollInterval(Duration.ofMillis(500))
                        .untilAsserted(
                                () -> {
                                    for (TableIdentifier name : tables) {
                                        assertThat(missingFiles(catalog.loadTable(name)))
                                                .as("files %s uses that are gone", name)
                                                .isEmpty();
                                    }
                                });
                workload.apply(200);
                GroundTruth.awaitEqual(job, source, catalog, targets, Duration.ofMinutes(3));
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                        .as("the job never failed")
                        .isEmpty();
            } finally {
                GroundTruth.cancel(job);
                database.dropSlot("orphans", id.replace('-', '_'));
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /**
     * {@code tidemark maintain} beside a job that schedules no maintenance (as for tables created
     * while a job runs, which its own maintenance covers from the next start only): while another
     * run holds a table's lock the table is skipped (exit 3) and left alone; then, that run gone
     * without releasing it and {@code --release-lock} given, every table of the pipeline is
     * compacted with its deletes applied (fewer data files, a {@code replace} snapshot with the
     * command's run id) and expired to the file's {@code retain-last}, while changes keep
     * streaming; the job never fails, commits each checkpoint once and the tables end equal to the
     * source.
     */
    @Test
    void maintainCompactsAndExpiresBesideTheRunningJobUnderTheTablesLock() throws Exception {
        EmbeddedDatabase database = DATABASE.get();
        String id = "ondemand-it";
        PipelineYaml yaml =
                PipelineYaml.fromResource("maintenance.yaml", database, DATABASE.dir(), id)
                        .set("source.database", "ondemand")
                        .set(
                                "maintenance",
                                Map.of(
                                        "expire-snapshots",
                                        Map.of("retain-last", 3, "max-age", "1s")))
                        .tableKey("maint.customers", "target", "ondem.customers")
                        .tableKey("maint.orders", "target", "ondem.orders");
        PipelineConfig config = yaml.config();
        assertThat(config.maintenance().enabled()).isFalse();
        java.nio.file.Path file = yaml.write(DATABASE.dir());
        Map<String, TableIdentifier> targets = new LinkedHashMap<>();
        targets.put(ShopWorkload.CUSTOMERS, TableIdentifier.of("ondem", "customers"));
        targets.put(ShopWorkload.ORDERS, TableIdentifier.of("ondem", "orders"));
        TableIdentifier orders = targets.get(ShopWorkload.ORDERS);
        Catalog catalog = TestPipelines.catalog(config);
        try (Connection source = database.connect("ondemand")) {
            ShopWorkload workload = new ShopWorkload(source, 47L);
            workload.createAndSeed(500, 1_000);
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(id, "ondemand-run"),
                            CommitListener.NONE,
                            null);
            try {
                // a few dozen commits: a data and a delete file each
                for (int i = 0; i < 6; i++) {
                    workload.apply(150);
                    GroundTruth.awaitEqual(job, source, catalog, targets, Duration.ofMinutes(3));
                }
                org.apache.iceberg.flink.maintenance.api.JdbcLockFactory locks =
                        new org.apache.iceberg.flink.maintenance.api.JdbcLockFactory(
                                config.maintenance().lockJdbcUri(),
                                MaintenanceStage.lockId(id, orders),
                                Map.of(
                                        "jdbc.user",
                                        "postgres",
                                        org.apache.iceberg.flink.maintenance.api.JdbcLockFactory
                                                .INIT_LOCK_TABLES_PROPERTY,
                                        "true"));
                locks.open();
                try {
                    org.apache.iceberg.flink.maintenance.api.TriggerLockFactory.Lock held =
                            locks.createLock();
                    assertThat(held.tryLock()).isTrue();
                    long before = catalog.loadTable(orders).currentSnapshot().snapshotId();
                    assertThat(
                                    io.tidemark.cli.Tidemark.execute(
                                            "maintain",
                                            "--config",
                                            file.toString(),
                                            "--table",
                                            orders.toString()))
                            .as("a table whose lock another run holds is skipped")
                            .isEqualTo(io.tidemark.cli.Tidemark.EXIT_ERROR);
                    assertThat(history(catalog.loadTable(orders)))
                            .as("nothing done to it")
                            .noneMatch(s -> DataOperations.REPLACE.equals(s.operation()));
                    assertThat(catalog.loadTable(orders).snapshot(before)).isNotNull();
                    // its holder is gone (as a maintain killed with SIGKILL): the row stays
                } finally {
                    locks.close();
                }

                // changes keep streaming while the command runs
                java.util.concurrent.atomic.AtomicBoolean done =
                        new java.util.concurrent.atomic.AtomicBoolean();
                java.util.concurrent.CompletableFuture<Void> load =
                        java.util.concurrent.CompletableFuture.runAsync(
                                () -> {
                                    while (!done.get()) {
                                        try {
                                            workload.apply(20);
                                        } catch (java.sql.SQLException e) {
                                            throw new IllegalStateException(e);
                                        }
                                    }
                                });
                int code;
                try {
                    code =
                            io.tidemark.cli.Tidemark.execute(
                                    "maintain", "--config", file.toString(), "--release-lock");
                } finally {
                    done.set(true);
                    load.get(1, TimeUnit.MINUTES);
                }
                assertThat(code).as("every table maintained").isZero();
                locks.open();
                try {
                    assertThat(locks.createLock().isHeld())
                            .as("the lock released, then taken and released by the run")
                            .isFalse();
                } finally {
                    locks.close();
                }
                for (TableIdentifier target : targets.values()) {
                    Table table = catalog.loadTable(target);
                    Snapshot compaction =
                            history(table).stream()
                                    .filter(
                                            s ->
                                                    "compaction"
                                                            .equals(
                                                                    s.summary()
                                                                            .get(
                                                                                    Provenance
                                                                                            .MAINTENANCE)))
                                    .findFirst()
                                    .orElseThrow(
                                            () -> new AssertionError(target + ": no compaction"));
                    assertThat(compaction.operation()).isEqualTo(DataOperations.REPLACE);
                    assertThat(compaction.summary())
                            .containsKeys(Provenance.RUN_ID, Provenance.CODE_VERSION);
                    // the pipeline commits files meanwhile: the compaction's own counts
                    assertThat(Integer.parseInt(compaction.summary().get("added-data-files")))
                            .as(target + " data files the compaction wrote")
                            .isLessThan(
                                    Integer.parseInt(
                                            compaction.summary().get("deleted-data-files")));
                    // the file's retain-last 3 and max-age 1s: what is left is those three, the
                    // compaction and what the pipeline committed since the expiry
                    assertThat(history(table).size())
                            .as(target + " snapshots after the expiry")
                            .isLessThan((int) pipelineCheckpoint(table));
                }
                workload.apply(300);
                GroundTruth.awaitEqual(job, source, catalog, targets, Duration.ofMinutes(3));
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                        .as("the job never failed")
                        .isEmpty();
                for (TableIdentifier target : targets.values()) {
                    // the pipeline's commits (the others: the command's compaction and removal)
                    List<String> commits = new java.util.ArrayList<>();
                    for (Snapshot s : catalog.loadTable(target).snapshots()) {
                        if (s.summary().containsKey(Provenance.CHECKPOINT_ID)) {
                            commits.add(
                                    s.summary().get(Provenance.LINEAGE)
                                            + "/"
                                            + s.summary().get(Provenance.CHECKPOINT_ID)
                                            + "/"
                                            + s.summary()
                                                    .getOrDefault(Provenance.CHECKPOINT_PART, "0"));
                        }
                    }
                    assertThat(commits)
                            .as(target + ": each checkpoint once")
                            .doesNotHaveDuplicates();
                }
            } finally {
                GroundTruth.cancel(job);
                database.dropSlot("ondemand", id.replace('-', '_'));
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    private static java.nio.file.Path localPath(String location) {
        return location.startsWith("file:")
                ? java.nio.file.Path.of(java.net.URI.create(location))
                : java.nio.file.Path.of(location);
    }

    private static java.nio.file.Path stray(java.nio.file.Path dir, String name)
            throws IOException {
        java.nio.file.Files.createDirectories(dir);
        return java.nio.file.Files.write(dir.resolve(name), new byte[] {1, 2, 3});
    }

    /** Sets every file under {@code dir} two days into the past. */
    private static void ageEveryFile(java.nio.file.Path dir) throws IOException {
        java.nio.file.attribute.FileTime old =
                java.nio.file.attribute.FileTime.from(
                        java.time.Instant.now().minus(Duration.ofDays(2)));
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(dir)) {
            for (java.nio.file.Path file :
                    files.filter(java.nio.file.Files::isRegularFile).toList()) {
                java.nio.file.Files.setLastModifiedTime(file, old);
            }
        }
    }

    /**
     * The files {@code table} uses that do not exist: its metadata files (current and logged), and
     * of every snapshot it keeps the manifest list, the manifests and their data and delete files.
     */
    private static List<String> missingFiles(Table table) throws IOException {
        Set<String> used =
                new HashSet<>(
                        org.apache.iceberg.ReachableFileUtil.metadataFileLocations(table, false));
        for (Snapshot snapshot : table.snapshots()) {
            used.add(snapshot.manifestListLocation());
            for (ManifestFile manifest : snapshot.allManifests(table.io())) {
                used.add(manifest.path());
                if (manifest.content() == org.apache.iceberg.ManifestContent.DATA) {
                    try (ManifestReader<org.apache.iceberg.DataFile> reader =
                            ManifestFiles.read(manifest, table.io(), table.specs())) {
                        reader.forEach(file -> used.add(file.location()));
                    }
                } else {
                    try (ManifestReader<DeleteFile> reader =
                            ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
                        reader.forEach(file -> used.add(file.location()));
                    }
                }
            }
        }
        List<String> missing = new java.util.ArrayList<>();
        for (String file : used) {
            if (!java.nio.file.Files.exists(localPath(file))) {
                missing.add(file);
            }
        }
        return missing;
    }

    /**
     * The live equality delete files of {@code table} that Iceberg's scan planning matches to no
     * data file.
     */
    private static long danglingEqualityDeletes(Table table) throws IOException {
        if (table.currentSnapshot() == null) {
            return 0;
        }
        Set<String> applied = new HashSet<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            for (FileScanTask task : tasks) {
                task.deletes().forEach(delete -> applied.add(delete.location()));
            }
        }
        long dangling = 0;
        for (ManifestFile manifest : table.currentSnapshot().deleteManifests(table.io())) {
            try (ManifestReader<DeleteFile> reader =
                    ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
                for (DeleteFile delete : reader) {
                    if (delete.content() == FileContent.EQUALITY_DELETES
                            && !applied.contains(delete.location())) {
                        dangling++;
                    }
                }
            }
        }
        return dangling;
    }

    /**
     * Whether the history holds a rewrite of the job's maintenance {@code task} that removed files,
     * carrying the run's provenance, and a pipeline commit after it.
     */
    private static boolean committedAfter(Table table, String task) {
        boolean compacted = false;
        for (Snapshot snapshot : history(table)) {
            if (DataOperations.REPLACE.equals(snapshot.operation())
                    && snapshot.summary().get(Provenance.PIPELINE_ID) == null
                    && task.equals(snapshot.summary().get(Provenance.MAINTENANCE))
                    && snapshot.summary().get(Provenance.RUN_ID) != null
                    && Long.parseLong(snapshot.summary().getOrDefault("deleted-data-files", "0"))
                            > 0) {
                compacted = true;
            } else if (compacted && snapshot.summary().get(Provenance.PIPELINE_ID) != null) {
                return true;
            }
        }
        return false;
    }

    /** The job graph of {@code config}, run {@code runId}. */
    private static StreamGraph graph(PipelineConfig config, String runId) throws Exception {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(
                        TidemarkJob.flinkConfiguration(config));
        TidemarkJob.assemble(
                env,
                config,
                RunContext.start(config.pipelineId(), runId),
                JobPreparation.prepare(config),
                SourceStage.cdc(config));
        return env.getStreamGraph();
    }

    /** Whether a compaction of the job's maintenance followed snapshot {@code since}. */
    private static boolean compactedSince(Table table, long since) {
        boolean after = false;
        for (Snapshot snapshot : history(table)) {
            if (snapshot.snapshotId() == since) {
                after = true;
            } else if (after
                    && "compaction".equals(snapshot.summary().get(Provenance.MAINTENANCE))) {
                return true;
            }
        }
        return false;
    }

    /** The current snapshot's ancestry, oldest first. */
    private static List<Snapshot> history(Table table) {
        java.util.ArrayList<Snapshot> history = new java.util.ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (Snapshot s = table.currentSnapshot();
                s != null && seen.add(s.snapshotId());
                s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            history.add(0, s);
        }
        return history;
    }

    private static Snapshot oldest(Table table) {
        return history(table).get(0);
    }

    /** The newest checkpoint id the pipeline committed to {@code table}. */
    private static long pipelineCheckpoint(Table table) {
        long newest = 0;
        for (Snapshot s : history(table)) {
            String checkpoint = s.summary().get(Provenance.CHECKPOINT_ID);
            if (checkpoint != null) {
                newest = Math.max(newest, Long.parseLong(checkpoint));
            }
        }
        return newest;
    }
}
