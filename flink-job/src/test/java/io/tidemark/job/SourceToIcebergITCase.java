package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.config.PipelineConfig;
import io.tidemark.demo.EmbeddedDatabase;
import io.tidemark.demo.EmbeddedMariaDb;
import io.tidemark.demo.ShopWorkload;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.TestClusters;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The walking skeleton end to end, over both source kinds: embedded PostgreSQL, and MariaDB (the
 * MySQL binlog source); two tables, the job on a MiniCluster with parallelism 2 and 1 s
 * checkpoints; thousands of rows before the start, then inserts, updates, deletes, delete +
 * re-insert and primary-key updates while the snapshot runs and after it. The Iceberg tables must
 * end equal to the source, row by row, and every commit must carry the run's provenance. One
 * Postgres (also the Iceberg catalog's store) and one MariaDB serve both runs.
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

    @AfterAll
    static void stopDatabases() throws Exception {
        if (mariadb != null) {
            mariadb.close();
        }
        if (database != null) {
            database.close();
        }
    }

    @ParameterizedTest(name = "from {0}")
    @ValueSource(strings = {"postgres", "mysql"})
    void replicatesSnapshotAndChangesExactly(String kind) throws Exception {
        boolean mysql = kind.equals("mysql");
        Names names = new Names("it-skeleton-" + kind, "shop", "skeleton_" + kind, "shop_" + kind);
        PipelineConfig config =
                mysql
                        ? TestPipelines.shopMySql(mariadb, database, dir, names, 2)
                        : TestPipelines.shop(database, dir, names, 2);
        try (Connection writer = mysql ? mariadb.connect("shop") : database.connect("shop");
                Connection verifier =
                        DriverManager.getConnection(
                                config.source().jdbcUrl(),
                                config.source().username(),
                                config.source().password())) {
            ShopWorkload workload =
                    mysql ? ShopWorkload.mysql(writer, 7L, "shop") : new ShopWorkload(writer, 7L);
            workload.createAndSeed(3_000, 6_000);

            RunContext run = RunContext.start(config.pipelineId(), null);
            List<ResolvedTable> tables = TidemarkJob.prepare(config);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(
                            TidemarkJob.flinkConfiguration(config));
            TidemarkJob.assemble(env, config, run, tables, TidemarkJob.cdc(config));
            JobClient job = env.executeAsync(config.jobName());

            Catalog catalog = TestPipelines.catalog(config);
            Map<String, TableIdentifier> targets = names.targets(workload);
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
                }
            } finally {
                GroundTruth.cancel(job);
                if (!mysql) {
                    database.dropSlot("shop", config.source().slotName());
                }
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }
}
