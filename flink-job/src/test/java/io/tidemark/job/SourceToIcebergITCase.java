package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.KeptServing;
import io.tidemark.testing.RunProcess;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.MySQLContainer;

/**
 * The walking skeleton end to end, over both source kinds: embedded PostgreSQL, MariaDB (the MySQL
 * binlog source) and, where Docker exists, MySQL 8 in a Testcontainers container (skipped without
 * Docker: this machine has none, so MySQL 8 is proven only where Docker is); two tables, the job on
 * a MiniCluster with parallelism 2 and 1 s checkpoints; thousands of rows before the start, then
 * inserts, updates, deletes, delete + re-insert and primary-key updates while the snapshot runs and
 * after it. The Iceberg tables must end equal to the source, row by row, and every commit must
 * carry the run's provenance. Then the job is cancelled and its state dropped, rows are deleted and
 * updated while nothing runs, and a start without state ends equal again: its first commit to each
 * table replaced what the table held, so no deleted row stays. One Postgres (also the Iceberg
 * catalog's store) and one MariaDB serve both runs.
 */
class SourceToIcebergITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @TempDir static Path dir;

    private static EmbeddedDatabase database;
    private static EmbeddedMariaDb mariadb;

    @BeforeAll
    static void startDatabases() throws Exception {
        database = EmbeddedDatabase.start(dir.resolve("postgres"));
        database.createDatabase("shop");
        database.createDatabase("iceberg_catalog");
        mariadb = EmbeddedMariaDb.start(dir.resolve("mariadb"));
        mariadb.createDatabase("shop");
    }

    /** MySQL 8 in a container, with the binlog settings and CDC user docs/sources.md asks for. */
    static final class MySql8 {
        static final String CDC_USER = "tidemark";
        static final String CDC_PASSWORD = "tidemark";
        private static MySQLContainer<?> container;

        static synchronized MySql8 start() throws Exception {
            if (container == null) {
                container =
                        new MySQLContainer<>("mysql:8.0.40")
                                .withDatabaseName("shop")
                                .withCommand(
                                        "--log-bin=mysql-bin",
                                        "--binlog-format=ROW",
                                        "--binlog-row-image=FULL",
                                        "--server-id=1",
                                        // GTIDs on, as most MySQL 8 servers run: GTID order
                                        "--gtid-mode=ON",
                                        "--enforce-gtid-consistency=ON",
                                        "--default-time-zone=+00:00");
                container.start();
                try (Connection root =
                                DriverManager.getConnection(
                                        container.getJdbcUrl(), "root", container.getPassword());
                        java.sql.Statement s = root.createStatement()) {
                    s.execute(
                            "CREATE USER '"
                                    + CDC_USER
                                    + "'@'%' IDENTIFIED BY '"
                                    + CDC_PASSWORD
                                    + "'");
                    s.execute(
                            "GRANT SELECT, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '"
                                    + CDC_USER
                                    + "'@'%'");
                }
            }
            return new MySql8();
        }

        int port() {
            return container.getMappedPort(MySQLContainer.MYSQL_PORT);
        }

        Connection connect() throws java.sql.SQLException {
            return DriverManager.getConnection(
                    container.getJdbcUrl(), "root", container.getPassword());
        }

        static synchronized void stop() {
            if (container != null) {
                container.stop();
            }
        }
    }

    @AfterAll
    static void stopDatabases() throws Exception {
        MySql8.stop();
        if (mariadb != null) {
            mariadb.close();
        }
        if (database != null) {
            database.close();
        }
    }

    @ParameterizedTest(name = "from {0}")
    @ValueSource(strings = {"postgres", "mariadb", "mysql8"})
    void replicatesSnapshotAndChangesExactly(String kind) throws Exception {
        boolean mysql = !kind.equals("postgres");
        Names names = new Names("it-skeleton-" + kind, "shop", "skeleton_" + kind, "shop_" + kind);
        PipelineConfig config;
        Connection writer;
        switch (kind) {
            case "mariadb":
                config = TestPipelines.shopMySql(mariadb, database, dir, names, 2);
                writer = mariadb.connect("shop");
                break;
            case "mysql8":
                Assumptions.assumeTrue(
                        DockerClientFactory.instance().isDockerAvailable(),
                        "MySQL 8 runs in Docker, and there is no Docker here");
                MySql8 mysql8 = MySql8.start();
                config =
                        TestPipelines.shopMySql(
                                mysql8.port(),
                                MySql8.CDC_USER,
                                MySql8.CDC_PASSWORD,
                                database,
                                dir,
                                names,
                                2);
                writer = mysql8.connect();
                break;
            default:
                config = TestPipelines.shop(database, dir, names, 2);
                writer = database.connect("shop");
        }
        try (writer;
                Connection verifier =
                        DriverManager.getConnection(
                                config.source().jdbcUrl(),
                                config.source().username(),
                                config.source().password())) {
            ShopWorkload workload =
                    mysql ? ShopWorkload.mysql(writer, 7L, "shop") : new ShopWorkload(writer, 7L);
            workload.createAndSeed(3_000, 6_000);

            RunContext run = RunContext.start(config.pipelineId(), null);
            List<ResolvedTable> tables = JobPreparation.prepare(config);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(
                            TidemarkJob.flinkConfiguration(config));
            TidemarkJob.assemble(env, config, run, tables, SourceStage.cdc(config));
            JobClient job = env.executeAsync(config.jobName());

            Catalog catalog = TestPipelines.catalog(config);
            Map<String, TableIdentifier> targets = names.targets(workload);
            JobClient fresh = null;
            try {
                // while the snapshot runs (18 chunks of 500 rows, each with its own backfill)
                workload.apply(1_500);
                long duringSnapshot = workload.changes();

                // after the snapshot: both tables have their first commit
                Awaitility.await("first commit of every table")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    return targets.values().stream()
                                            .allMatch(
                                                    t ->
                                                            catalog.loadTable(t).currentSnapshot()
                                                                    != null);
                                });
                workload.apply(1_500);

                GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));

                assertThat(duringSnapshot).isGreaterThanOrEqualTo(1_500);
                for (TableIdentifier target : targets.values()) {
                    Table table = catalog.loadTable(target);
                    assertThat(table.schema().identifierFieldNames()).containsExactly("id");
                    assertThat(((HasTableOperations) table).operations().current().formatVersion())
                            .isEqualTo(2);
                    for (Snapshot snapshot : table.snapshots()) {
                        assertThat(snapshot.summary())
                                .containsEntry(Provenance.PIPELINE_ID, config.pipelineId())
                                .containsEntry(Provenance.RUN_ID, run.runId())
                                .containsEntry(Provenance.CODE_VERSION, run.codeVersion());
                    }
                    // each commit names the source positions it consumed
                    assertThat(table.currentSnapshot().summary())
                            .containsKey(Provenance.SOURCE_POSITIONS);
                    // MySQL 8 with GTIDs on orders by GTID; MariaDB's GTIDs do not reach the
                    // reader, so it orders by binlog position (source.binlog-order: auto)
                    String positions =
                            table.currentSnapshot().summary().get(Provenance.SOURCE_POSITIONS);
                    if (kind.equals("mysql8")) {
                        assertThat(positions).contains("\"gtid_ordinal\":");
                    } else {
                        assertThat(positions).doesNotContain("gtid_ordinal").contains("commit_lsn");
                    }
                }

                // the state lost (no checkpoint restored): deletes and updates while nothing
                // runs, then a start without state snapshots again and ends equal, the deleted
                // rows gone (its first commit replaced what each table held)
                GroundTruth.cancel(job);
                try (java.sql.Statement sql = writer.createStatement()) {
                    String orders = mysql ? "shop.orders" : "public.orders";
                    String customers = mysql ? "shop.customers" : "public.customers";
                    sql.execute("DELETE FROM " + orders + " WHERE id % 40 = 0");
                    sql.execute("DELETE FROM " + customers + " WHERE id % 90 = 0");
                    sql.execute("UPDATE " + orders + " SET note = 'while down' WHERE id % 30 = 1");
                }
                fresh =
                        TestJobs.start(
                                config,
                                RunContext.start(config.pipelineId(), null),
                                CommitListener.NONE,
                                null);
                workload.apply(500);
                GroundTruth.awaitEqual(fresh, verifier, catalog, targets, Duration.ofMinutes(3));
                for (TableIdentifier target : targets.values()) {
                    Table table = catalog.loadTable(target);
                    assertThat(CommitHistory.assertEachCheckpointOnce(table, config.pipelineId()))
                            .hasSize(2);
                    assertThat(table.snapshots())
                            .filteredOn(
                                    snapshot ->
                                            snapshot.summary()
                                                    .containsKey(Provenance.REPLACED_FILES))
                            .hasSize(1);
                }
                if (kind.equals("mariadb")) {
                    GroundTruth.cancel(fresh);
                    fresh = null;
                    keepsServingWhileEachTableIsReadAgain(
                            TestPipelines.shopMySqlPipeline(
                                            mariadb.port(),
                                            io.tidemark.testbed.EmbeddedMariaDb.CDC_USER,
                                            io.tidemark.testbed.EmbeddedMariaDb.CDC_PASSWORD,
                                            database,
                                            dir,
                                            names,
                                            2)
                                    .write(dir),
                            catalog,
                            workload,
                            writer,
                            verifier,
                            targets);
                }
            } finally {
                GroundTruth.cancel(job);
                if (fresh != null) {
                    GroundTruth.cancel(fresh);
                }
                if (!mysql) {
                    database.dropSlot("shop", config.source().slotName());
                }
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    /**
     * The state lost once more, rows changed while no job ran, then {@code run --fresh
     * --keep-serving} in a JVM of its own: the binlog read from where it ended before the job,
     * every table read again while the pipeline runs; no commit until then drops a row the source
     * still holds, and the tables end equal.
     */
    private static void keepsServingWhileEachTableIsReadAgain(
            java.nio.file.Path file,
            Catalog catalog,
            ShopWorkload workload,
            Connection writer,
            Connection verifier,
            Map<String, TableIdentifier> targets)
            throws Exception {
        try (java.sql.Statement sql = writer.createStatement()) {
            sql.execute("DELETE FROM shop.orders WHERE id % 45 = 0");
            sql.execute("UPDATE shop.customers SET name = 'kept serving' WHERE id % 35 = 0");
        }
        workload.apply(100);
        KeptServing kept = KeptServing.note(catalog, verifier, targets);
        java.nio.file.Path log = file.resolveSibling("kept-serving.log");
        Process run = RunProcess.start(file, log, "--fresh", "--keep-serving");
        try {
            RunProcess.awaitOutput(
                    run,
                    log,
                    "every table is read again while the pipeline runs",
                    Duration.ofMinutes(3));
            assertThat(RunProcess.log(log)).contains("': the binlog is read from mysql-bin.");
            kept.awaitRereadAndCheck(
                    catalog, () -> RunProcess.assertAlive(run, log), Duration.ofMinutes(3));
            workload.apply(300);
            GroundTruth.awaitEqual(
                    () -> RunProcess.assertAlive(run, log),
                    verifier,
                    catalog,
                    targets,
                    Duration.ofMinutes(3));
        } finally {
            run.destroyForcibly();
            run.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
