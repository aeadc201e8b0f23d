package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.testing.CollectingReporter;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.SharedMariaDb;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link MySqlBinlogLag} against a real MariaDB server: the bytes of binlog ahead of a position,
 * across a rotation to a new binlog file; and on a running pipeline the gauge {@code
 * tidemark_source_logBytesBehind} of the source's reader, labelled with the source, near zero while
 * the reader keeps up, also while another database writes and the captured table does not (the
 * heartbeat, sent on an event once its interval passed, moves the reader's position past what it
 * filters out).
 */
class MySqlBinlogLagITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniClusterWithMetrics();

    @RegisterExtension static final SharedDatabase CATALOG = new SharedDatabase("iceberg_catalog");

    @RegisterExtension
    static final SharedMariaDb MARIADB = new SharedMariaDb(CATALOG, "lagged", "other");

    private static final String GAUGE =
            "taskmanager_job_task_operator_tidemark_source_logBytesBehind";

    private static String[] end(Statement sql) throws Exception {
        try (ResultSet rs = sql.executeQuery("SHOW MASTER STATUS")) {
            rs.next();
            return new String[] {rs.getString(1), Long.toString(rs.getLong(2))};
        }
    }

    private static PipelineConfig config() {
        return PipelineYaml.mariaDb(MARIADB.get(), "lagged", CATALOG.get(), CATALOG.dir(), "lag-m")
                .set("source.heartbeat.interval", "1s")
                .table("lagged.t", "mlag.t")
                .config();
    }

    @Test
    void theBinlogAheadOfAPositionAcrossARotation() throws Exception {
        try (Connection admin = MARIADB.get().connect("other");
                Statement sql = admin.createStatement()) {
            sql.execute("CREATE TABLE IF NOT EXISTS filler (id int PRIMARY KEY, v text)");
            MySqlBinlogLag lag = new MySqlBinlogLag(config().source());
            // no position read yet: unknown
            assertThat(lag.bytesBehind()).isEqualTo(-1);

            String[] start = end(sql);
            lag.readTo(start[0], Long.parseLong(start[1]));
            sql.execute("INSERT INTO filler SELECT seq, REPEAT('x', 1000) FROM seq_1_to_3000");
            sql.execute("FLUSH BINARY LOGS");
            sql.execute(
                    "INSERT INTO filler SELECT seq + 3000, REPEAT('y', 1000) FROM seq_1_to_1000");
            String[] now = end(sql);
            assertThat(now[0]).isNotEqualTo(start[0]);
            Map<String, Long> logs = MySqlBinlogLag.logs(admin);
            long expected = logs.get(start[0]) - Long.parseLong(start[1]) + logs.get(now[0]);
            assertThat(expected).isGreaterThan(4_000_000);
            Awaitility.await("the cached value refreshed")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> lag.bytesBehind() == expected);

            lag.readTo(now[0], Long.parseLong(now[1]));
            Awaitility.await("none once the reader stands at the end")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> lag.bytesBehind() == 0);
            // a file purged under the reader: unknown, not zero
            assertThat(MySqlBinlogLag.behind(logs, "no-such-binlog.000001", 4)).isEqualTo(-1);
        }
    }

    @Test
    void aRunningReadersGaugeStaysNearZeroWhileAnotherDatabaseWrites() throws Exception {
        PipelineConfig config = config();
        try (Connection source = MARIADB.get().connect("lagged");
                Statement sql = source.createStatement();
                Connection other = MARIADB.get().connect("other");
                Statement otherSql = other.createStatement()) {
            sql.execute("CREATE TABLE t (id int PRIMARY KEY, v varchar(20))");
            sql.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')");
            otherSql.execute("CREATE TABLE IF NOT EXISTS busy (id int PRIMARY KEY, v text)");
            Catalog catalog = TestPipelines.catalog(config);
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null);
            try {
                GroundTruth.awaitEqual(
                        job,
                        source,
                        catalog,
                        Map.of("lagged.t", TableIdentifier.of("mlag", "t")),
                        Duration.ofMinutes(2));
                assertThat(CollectingReporter.labels(GAUGE))
                        .anySatisfy(
                                labels -> assertThat(labels).containsEntry("<source>", "source"));
                // another database writes 3 MB, then goes on writing a row a second, the captured
                // table nothing: the reader's position follows (changes filtered out, a heartbeat
                // on the next event after its interval), the gauge stays far below that
                otherSql.execute(
                        "INSERT INTO busy SELECT seq, REPEAT('z', 1000) FROM seq_1_to_3000");
                java.util.concurrent.atomic.AtomicInteger next =
                        new java.util.concurrent.atomic.AtomicInteger(3001);
                Awaitility.await("the reader's gauge known and near zero")
                        .atMost(Duration.ofMinutes(1))
                        .pollInterval(Duration.ofSeconds(1))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    otherSql.execute(
                                            "INSERT INTO busy VALUES ("
                                                    + next.getAndIncrement()
                                                    + ", 'z')");
                                    // this job's readers (the reporter keeps earlier jobs')
                                    long max =
                                            CollectingReporter.gaugeValues(GAUGE)
                                                    .entrySet()
                                                    .stream()
                                                    .filter(
                                                            e ->
                                                                    job.getJobID()
                                                                            .toString()
                                                                            .equals(
                                                                                    e.getKey()
                                                                                            .get(
                                                                                                    "<job_id>")))
                                                    .mapToLong(
                                                            e ->
                                                                    ((Number) e.getValue())
                                                                            .longValue())
                                                    .max()
                                                    .orElse(-1);
                                    return max >= 0 && max < 100_000;
                                });
            } finally {
                GroundTruth.cancel(job);
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
    }
}
