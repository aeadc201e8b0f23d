package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.config.PipelineConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Re-running and outages: a replay (a new job without state re-reads rows and changes already
 * committed) ends equal to the source with the replay's provenance; a catalog outage during commits
 * ends with nothing lost or duplicated.
 */
class RecoveryITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    @Test
    void replayWithoutStateEndsEqualAndShowsTheReplayRun() throws Exception {
        Names names = new Names("replay", "replay", "replay_first", "replay");
        // the replay: same pipeline and tables, no state, reading a slot made earlier
        Names again = new Names("replay", "replay", "replay_again", "replay");
        DATABASE.get().createDatabase(names.database());
        Catalog catalog = catalog(names);
        try (Connection writer = DATABASE.get().connect(names.database());
                Connection verifier = DATABASE.get().connect(names.database())) {
            ShopWorkload workload = new ShopWorkload(writer, 11L);
            workload.createAndSeed(1_500, 3_000);

            PipelineConfig first = TestPipelines.shop(DATABASE.get(), DATABASE.dir(), names, 2);
            JobClient job = start(first, RunContext.start(names.pipelineId(), "first-run"));
            GroundTruth.awaitEqual(job, verifier, catalog, names.targets(), Duration.ofMinutes(3));
            // the earlier source position the replay will start from
            long replayFrom = createSlot(verifier, again.slot());
            workload.apply(800);
            GroundTruth.awaitEqual(job, verifier, catalog, names.targets(), Duration.ofMinutes(3));
            GroundTruth.cancel(job);
            long committedThrough =
                    commitLsn(catalog.loadTable(names.targets().get(ShopWorkload.ORDERS)));
            // the replay re-reads changes already committed
            assertThat(replayFrom).isLessThan(committedThrough);

            // changes (deletes among them) while nothing runs; then a new job without state
            // replays from the earlier position while changes go on
            workload.apply(400);
            PipelineConfig replay =
                    TestPipelines.shopPipeline(DATABASE.get(), DATABASE.dir(), again, 2)
                            .set("source.scan.startup.mode", "committed-offset")
                            .config();
            JobClient replayJob = start(replay, RunContext.start(names.pipelineId(), "replay-run"));
            try {
                workload.apply(800);
                GroundTruth.awaitEqual(
                        replayJob, verifier, catalog, names.targets(), Duration.ofMinutes(3));
            } finally {
                GroundTruth.cancel(replayJob);
                DATABASE.get().dropSlot(names.database(), names.slot());
                DATABASE.get().dropSlot(again.database(), again.slot());
            }
            for (TableIdentifier target : names.targets().values()) {
                Table table = catalog.loadTable(target);
                assertThat(table.currentSnapshot().summary())
                        .containsEntry(Provenance.RUN_ID, "replay-run");
                // the first run's lineage, then the replay's own
                assertThat(CommitHistory.assertEachCheckpointOnce(table, names.pipelineId()))
                        .hasSize(2);
            }
        } finally {
            close(catalog);
        }
    }

    /**
     * The commit LSN the newest snapshot of {@code table} says it consumed through (-1 while only
     * snapshot rows, which carry none, were read).
     */
    private static long commitLsn(Table table) throws Exception {
        String positions = table.currentSnapshot().summary().get(Provenance.SOURCE_POSITIONS);
        String lsn =
                new ObjectMapper()
                        .readTree(positions)
                        .get(ChangeEvent.DEFAULT_SOURCE)
                        .get("commit_lsn")
                        .asText();
        return lsnValue(lsn);
    }

    /** Creates a logical replication slot now and returns its position. */
    private static long createSlot(Connection connection, String slot) throws Exception {
        try (Statement s = connection.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "SELECT lsn::text FROM pg_create_logical_replication_slot('"
                                        + slot
                                        + "', 'pgoutput')")) {
            assertThat(rs.next()).isTrue();
            return lsnValue(rs.getString(1));
        }
    }

    /** Postgres' {@code X/Y} LSN text as a number. */
    private static long lsnValue(String lsn) {
        if (lsn.equals("-")) {
            return -1L;
        }
        int slash = lsn.indexOf('/');
        return (Long.parseLong(lsn.substring(0, slash), 16) << 32)
                | Long.parseLong(lsn.substring(slash + 1), 16);
    }

    @Test
    void catalogOutageDuringCommitsLosesAndDuplicatesNothing() throws Exception {
        Names names = new Names("outage", "outage", "outage_slot", "outage");
        DATABASE.get().createDatabase(names.database());
        try (Connection writer = DATABASE.get().connect(names.database());
                Connection verifier = DATABASE.get().connect(names.database())) {
            ShopWorkload workload = new ShopWorkload(writer, 13L);
            workload.createAndSeed(1_500, 3_000);
            PipelineConfig config = TestPipelines.shop(DATABASE.get(), DATABASE.dir(), names, 2);
            RunContext run = RunContext.start(names.pipelineId(), "outage-run");
            JobClient job = start(config, run);
            try {
                Catalog before = catalog(names);
                try {
                    GroundTruth.awaitEqual(
                            job, verifier, before, names.targets(), Duration.ofMinutes(3));
                } finally {
                    close(before);
                }
                workload.apply(300);
                try (Connection admin = DATABASE.get().connect("postgres");
                        Statement s = admin.createStatement()) {
                    s.execute("ALTER DATABASE iceberg_catalog ALLOW_CONNECTIONS false");
                    s.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    + "WHERE datname = 'iceberg_catalog'");
                    // the outage lasts until a commit failed and a restart failed again on the
                    // dead catalog: the job has to ride out more than one attempt
                    workload.apply(300);
                    Awaitility.await("the job failing over on the dead catalog")
                            .atMost(Duration.ofMinutes(2))
                            .until(
                                    () ->
                                            TestClusters.exceptionHistory(MINI_CLUSTER, job).size()
                                                    >= 2);
                    s.execute("ALTER DATABASE iceberg_catalog ALLOW_CONNECTIONS true");
                }
                workload.apply(300);
                // a fresh view: the outage killed the connections of the one above
                Catalog catalog = catalog(names);
                try {
                    GroundTruth.awaitEqual(
                            job, verifier, catalog, names.targets(), Duration.ofMinutes(3));
                    for (TableIdentifier target : names.targets().values()) {
                        assertThat(
                                        CommitHistory.assertEachCheckpointOnce(
                                                catalog.loadTable(target), names.pipelineId()))
                                .hasSize(1);
                    }
                    // and it recovered without a restart left in the history since
                    assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                            .as("exception history of the job")
                            .hasSizeGreaterThanOrEqualTo(2);
                } finally {
                    close(catalog);
                }
            } finally {
                try (Connection admin = DATABASE.get().connect("postgres");
                        Statement s = admin.createStatement()) {
                    s.execute("ALTER DATABASE iceberg_catalog ALLOW_CONNECTIONS true");
                }
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot(names.database(), names.slot());
            }
        }
    }

    private static JobClient start(PipelineConfig config, RunContext run) throws Exception {
        List<ResolvedTable> tables = JobPreparation.prepare(config);
        Configuration flink = TidemarkJob.flinkConfiguration(config);
        TestPipelines.restartQuickly(flink);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        TidemarkJob.assemble(env, config, run, tables, SourceStage.cdc(config));
        JobClient job = env.executeAsync(config.jobName());
        Awaitility.await("job running")
                .atMost(Duration.ofMinutes(1))
                .until(() -> job.getJobStatus().get().name().equals("RUNNING"));
        return job;
    }

    /** The test's own view of the catalog; {@link #close} it after use. */
    private static Catalog catalog(Names names) {
        PipelineConfig config = TestPipelines.shop(DATABASE.get(), DATABASE.dir(), names, 1);
        return TestPipelines.catalog(config);
    }

    private static void close(Catalog catalog) throws Exception {
        if (catalog instanceof Closeable closeable) {
            closeable.close();
        }
    }
}
