package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.config.PipelineConfig;
import io.tidemark.deploy.TrinoServer;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A compaction run by another engine while the job streams (issue 20): Trino 476's {@code ALTER
 * TABLE ... EXECUTE optimize}, which rewrites the data files with their deletes applied, run again
 * and again against both tables while a workload of inserts, updates and deletes streams into them
 * through one-second checkpoints. The job must neither fail (the test cluster does not restart
 * jobs) nor lose an equality delete to a rewrite (a delete committed while Trino rewrote the rows
 * it removes would otherwise bring the old row back), so the tables end equal to the source in
 * every column, as Tidemark's reader and Trino both read them, with Trino's rewrites in their
 * history followed by the pipeline's commits.
 */
class TrinoCompactionITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    /** Rounds of optimize over both tables while the workload runs. */
    private static final int ROUNDS = 6;

    @Test
    void aCompactionByTrinoWhileTheJobStreamsLosesNoDeleteAndStopsNothing() throws Exception {
        EmbeddedDatabase database = DATABASE.get();
        Path dir = DATABASE.dir();
        Names names =
                new Names("trino-compaction", "compaction_src", "compaction_slot", "compaction");
        database.createDatabase(names.database());
        PipelineConfig config = TestPipelines.shop(database, dir, names, 2);
        Catalog catalog = TestPipelines.catalog(config);
        Path trinoHome = Path.of(System.getProperty("tidemark.trino.home"));
        try (Connection source = database.connect(names.database());
                TrinoServer trino =
                        TrinoServer.start(
                                trinoHome,
                                TrinoServer.findJavaHome(),
                                dir.resolve("trino-compaction"),
                                TrinoServer.icebergJdbcCatalog(
                                        config.catalogName(),
                                        database.jdbcUrl("iceberg_catalog"),
                                        EmbeddedDatabase.USER,
                                        "",
                                        config.catalogProperties().get("warehouse")),
                                Duration.ofMinutes(3))) {
            ShopWorkload workloadOnSource = new ShopWorkload(source, 33L);
            workloadOnSource.createAndSeed(2_000, 4_000);
            List<ResolvedTable> tables = JobPreparation.prepare(config);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(
                            TidemarkJob.flinkConfiguration(config));
            TidemarkJob.assemble(
                    env,
                    config,
                    RunContext.start(names.pipelineId(), "compaction-run"),
                    tables,
                    SourceStage.cdc(config));
            JobClient job = env.executeAsync(config.jobName());
            Properties user = new Properties();
            user.setProperty("user", "tidemark");
            try (Connection trinoConnection = DriverManager.getConnection(trino.jdbcUrl(), user)) {
                GroundTruth.awaitEqual(
                        job, source, catalog, names.targets(), Duration.ofMinutes(3));
                String ns = names.namespace();
                // scans fail with "No nodes available" until the coordinator's worker announced
                Awaitility.await("Trino scans a table")
                        .atMost(Duration.ofMinutes(2))
                        .ignoreExceptions()
                        .until(() -> count(trinoConnection, ns + ".orders") >= 0);

                // the workload on its own thread, over the source connection, which this one
                // leaves alone until it stops
                AtomicBoolean streaming = new AtomicBoolean(true);
                CompletableFuture<Long> workload =
                        CompletableFuture.supplyAsync(
                                () -> {
                                    try {
                                        while (streaming.get()) {
                                            workloadOnSource.apply(40);
                                        }
                                        return workloadOnSource.changes();
                                    } catch (SQLException e) {
                                        throw new IllegalStateException(e);
                                    }
                                });
                List<String> optimized = new ArrayList<>();
                List<String> refused = new ArrayList<>();
                try {
                    for (int round = 0; round < ROUNDS; round++) {
                        for (String table : List.of("customers", "orders")) {
                            // the job commits every second: each optimize races its commits
                            try (Statement s = trinoConnection.createStatement()) {
                                s.execute(
                                        "ALTER TABLE "
                                                + ns
                                                + "."
                                                + table
                                                + " EXECUTE optimize(file_size_threshold => '1GB')");
                                optimized.add(table + " round " + round);
                            } catch (SQLException e) {
                                // Trino gives up on a conflict with a concurrent commit: its
                                // rewrite is not committed, which loses nothing
                                refused.add(table + " round " + round + ": " + e.getMessage());
                            }
                            GroundTruth.assertJobRunning(job);
                        }
                    }
                } finally {
                    streaming.set(false);
                }
                long changes = workload.get(2, TimeUnit.MINUTES);
                System.out.printf(
                        "%d changes streamed; optimize committed %d times, refused %d: %s%n",
                        changes, optimized.size(), refused.size(), refused);

                GroundTruth.awaitEqual(
                        job, source, catalog, names.targets(), Duration.ofMinutes(3));
                GroundTruth.assertJobRunning(job);
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                        .as("the job never failed")
                        .isEmpty();
                assertThat(changes).isGreaterThan(0);
                assertThat(optimized).as("optimize runs that Trino committed").isNotEmpty();
                // Trino reads the compacted tables as the source holds them
                for (String table : List.of("customers", "orders")) {
                    assertThat(count(trinoConnection, ns + "." + table))
                            .as(table + " through Trino")
                            .isEqualTo(count(source, "public." + table));
                }
                // a rewrite by Trino sits in a table's history with the pipeline's commits after
                // it: the race the test is about took place
                boolean raced = false;
                for (TableIdentifier id : names.targets().values()) {
                    raced |= pipelineCommittedAfterARewrite(catalog.loadTable(id));
                }
                assertThat(raced).as("a pipeline commit after one of Trino's rewrites").isTrue();
            } finally {
                GroundTruth.cancel(job);
                database.dropSlot(names.database(), names.slot());
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    private static boolean pipelineCommittedAfterARewrite(Table table) {
        boolean rewritten = false;
        for (Snapshot snapshot : table.snapshots()) {
            if (DataOperations.REPLACE.equals(snapshot.operation())
                    && snapshot.summary().get(Provenance.PIPELINE_ID) == null) {
                rewritten = true;
            } else if (rewritten && snapshot.summary().get(Provenance.PIPELINE_ID) != null) {
                return true;
            }
        }
        return false;
    }

    private static long count(Connection connection, String table) throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
