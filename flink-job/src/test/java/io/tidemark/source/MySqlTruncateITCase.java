package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.HookedSources;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.SharedMariaDb;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.cdc.connectors.mysql.source.utils.hooks.SnapshotPhaseHooks;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A MySQL {@code TRUNCATE TABLE} (here on MariaDB) is applied in its place in the binlog: rows
 * written before it are gone, rows written after it (in the same checkpoint too) survive, and a
 * truncate made while the job is stopped is applied after the restore. One made while the table's
 * snapshot chunks are read (some before it, some after) empties the table, and the table is read
 * again while the job runs (a re-snapshot), ending equal to the source.
 */
class MySqlTruncateITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    /** The Iceberg catalog's store. */
    @RegisterExtension static final SharedDatabase CATALOG = new SharedDatabase("iceberg_catalog");

    @RegisterExtension static final SharedMariaDb MARIADB = new SharedMariaDb(CATALOG, "trunc");

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @Test
    void truncateIsAppliedInBinlogOrderAndSurvivesARestart() throws Exception {
        TableIdentifier logs = TableIdentifier.of("mtrunc", "logs");
        try (Connection source = MARIADB.get().connect("trunc");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE logs (id bigint PRIMARY KEY, line varchar(60) NOT NULL)");
            sql.execute("INSERT INTO logs SELECT seq, CONCAT('line ', seq) FROM seq_1_to_1000");
            PipelineConfig config =
                    PipelineYaml.mariaDb(
                                    MARIADB.get(),
                                    "trunc",
                                    CATALOG.get(),
                                    CATALOG.dir(),
                                    "mtrunc-it")
                            .set("pipeline.parallelism", 2)
                            .table("trunc.logs", "mtrunc.logs")
                            .config();
            Map<String, TableIdentifier> tables = Map.of("trunc.logs", logs);
            RunContext run = RunContext.start(config.pipelineId(), null);
            Catalog catalog = TestPipelines.catalog(config);
            JobClient job = TestJobs.start(config, run, CommitListener.NONE, null);
            String savepoint;
            try {
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                // changes before the truncate, the truncate, and changes after it, written faster
                // than a checkpoint: the ones before are gone, the ones after stay
                sql.execute("UPDATE logs SET line = 'changed' WHERE id <= 10");
                sql.execute("INSERT INTO logs VALUES (4000, 'gone with the truncate')");
                sql.execute("TRUNCATE TABLE logs");
                sql.execute(
                        "INSERT INTO logs SELECT seq, CONCAT('after ', seq) FROM seq_5000_to_5009");
                sql.execute("INSERT INTO logs VALUES (6000, 'later')");
                sql.execute("UPDATE logs SET line = 'updated after' WHERE id = 5001");
                sql.execute("DELETE FROM logs WHERE id = 5002");
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                assertThat(CommitHistory.ids(catalog.loadTable(logs)))
                        .hasSize(10)
                        .contains(5000L, 5009L, 6000L)
                        .doesNotContain(1L, 4000L, 5002L);
                assertThat(CommitHistory.truncateSnapshots(catalog.loadTable(logs))).isEqualTo(1);
                savepoint =
                        job.stopWithSavepoint(
                                        false,
                                        CATALOG.dir()
                                                .resolve("savepoints-mtrunc")
                                                .toUri()
                                                .toString(),
                                        SavepointFormatType.CANONICAL)
                                .get();
            } catch (Throwable e) {
                GroundTruth.cancel(job);
                throw e;
            }
            // while the job is stopped: a row, a truncate, a newer row
            sql.execute("INSERT INTO logs VALUES (7000, 'before the second truncate')");
            sql.execute("TRUNCATE TABLE logs");
            sql.execute("INSERT INTO logs VALUES (8000, 'after the second truncate')");
            job =
                    TestJobs.start(
                            config,
                            run,
                            CommitListener.NONE,
                            Path.of(java.net.URI.create(savepoint)));
            try {
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                assertThat(CommitHistory.ids(catalog.loadTable(logs))).containsExactly(8000L);
                assertThat(CommitHistory.truncateSnapshots(catalog.loadTable(logs))).isEqualTo(2);
            } finally {
                GroundTruth.cancel(job);
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
    }

    /** The source database's JDBC URL, for the hook (it runs in a TaskManager thread). */
    private static volatile String url;

    /** Whether the hook has truncated the table (once, after the first chunk read). */
    private static final AtomicBoolean TRUNCATED = new AtomicBoolean();

    @Test
    void aTruncateWhileTheTablesChunksAreReadIsAppliedAndTheTableReadAgain() throws Exception {
        TableIdentifier target = TableIdentifier.of("mtrunc", "chunked");
        try (Connection source = MARIADB.get().connect("trunc");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE chunked (id bigint PRIMARY KEY, v varchar(40) NOT NULL)");
            sql.execute("INSERT INTO chunked SELECT seq, CONCAT('v', seq) FROM seq_1_to_600");
            PipelineConfig config =
                    PipelineYaml.mariaDb(
                                    MARIADB.get(),
                                    "trunc",
                                    CATALOG.get(),
                                    CATALOG.dir(),
                                    "mtrunc-snap-it")
                            .set("pipeline.parallelism", 1)
                            .set("source.scan.incremental.snapshot.chunk.size", 100)
                            .table("trunc.chunked", "mtrunc.chunked")
                            .config();
            url = MARIADB.get().jdbcUrl("trunc");
            TRUNCATED.set(false);
            SnapshotPhaseHooks hooks = new SnapshotPhaseHooks();
            hooks.setPostHighWatermarkAction(MySqlTruncateITCase::afterHighWatermark);
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null,
                            HookedSources.mysql(config, List.of("trunc.chunked"), hooks));
            Catalog catalog = TestPipelines.catalog(config);
            try {
                // chunks read before the truncate held rows it removed, chunks read after it rows
                // written after it: the truncate empties the table and the table is read again
                GroundTruth.awaitEqual(
                        job, source, catalog, Map.of("trunc.chunked", target), TIMEOUT);
                assertThat(TRUNCATED).isTrue();
                assertThat(CommitHistory.ids(catalog.loadTable(target)))
                        .hasSize(50)
                        .startsWith(1001L)
                        .endsWith(1050L);
                CommitHistory.awaitReadAgainAfterTruncate(catalog.loadTable(target), TIMEOUT);
                assertThat(CommitHistory.truncatesQuarantined(catalog, target, "trunc.chunked"))
                        .isEmpty();
                GroundTruth.awaitEqual(
                        job, source, catalog, Map.of("trunc.chunked", target), TIMEOUT);
            } finally {
                GroundTruth.cancel(job);
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
    }

    /**
     * After the first chunk's high watermark: truncates the table and writes new rows from another
     * session, so the later chunks are read after the truncate.
     */
    private static void afterHighWatermark(Object connection, SourceSplit split) {
        if (!TRUNCATED.compareAndSet(false, true)) {
            return;
        }
        CompletableFuture.runAsync(
                        () -> {
                            try (Connection c =
                                            DriverManager.getConnection(
                                                    url,
                                                    EmbeddedMariaDb.USER,
                                                    EmbeddedMariaDb.PASSWORD);
                                    Statement s = c.createStatement()) {
                                s.execute("TRUNCATE TABLE chunked");
                                s.execute(
                                        "INSERT INTO chunked SELECT seq, CONCAT('after ', seq) "
                                                + "FROM seq_1001_to_1050");
                            } catch (SQLException e) {
                                throw new IllegalStateException(e);
                            }
                        })
                // waited for, so the next chunks are read after it (the reader holds no lock
                // between chunks); bounded, so a lock it did hold fails the test instead of hanging
                .orTimeout(30, java.util.concurrent.TimeUnit.SECONDS)
                .join();
    }
}
