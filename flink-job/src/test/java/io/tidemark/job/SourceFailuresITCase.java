package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A source failure no restart can cure stops the job once, saying what happened and what to do,
 * instead of restarting in a loop or skipping changes: a Postgres pipeline whose replication slot
 * was dropped while it was stopped, and a MariaDB pipeline stopped with a savepoint whose binlog is
 * purged while it is stopped (as {@code binlog_expire_logs_seconds} does to a long stop) fails at
 * its restore, once, despite a restart strategy of 100 attempts, naming the purge and {@code run
 * --fresh}; the fresh start it advises ends equal to the source, the changes made while it was
 * stopped included.
 */
class SourceFailuresITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    /** The Iceberg catalog's store, and the Postgres source. */
    @RegisterExtension
    static final SharedDatabase CATALOG = new SharedDatabase("iceberg_catalog", "slots");

    /**
     * A Postgres pipeline stopped with a savepoint whose replication slot is dropped while it is
     * stopped (a DBA freeing the WAL it held): Flink CDC would create a new slot at the server's
     * current position and Postgres would stream from there, skipping every change made while it
     * was down. The restore stops once, naming the slot and the fresh start, which then converges.
     */
    @Test
    void droppedSlotStopsTheRestoreInsteadOfSkippingChanges() throws Exception {
        PipelineConfig config =
                PipelineYaml.postgres(CATALOG.get(), "slots", CATALOG.dir(), "slots-it")
                        .table("public.items", "slotted.items")
                        .config();
        try (Connection source = CATALOG.get().connect("slots");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE public.items (id bigint PRIMARY KEY, v text NOT NULL)");
            sql.execute(
                    "INSERT INTO public.items SELECT g, 'v' || g FROM generate_series(1, 300) g");
            try {
                restoreStopsOnceThenAFreshStartConverges(
                        config,
                        source,
                        Map.of("public.items", TableIdentifier.of("slotted", "items")),
                        "UPDATE public.items SET v = 'changed' WHERE id % 7 = 0",
                        () -> {
                            sql.execute("DELETE FROM public.items WHERE id % 10 = 0");
                            sql.execute(
                                    "INSERT INTO public.items SELECT g, 'new' "
                                            + "FROM generate_series(301, 320) g");
                            CATALOG.get().dropSlot("slots", config.source().slotName());
                        },
                        "replication slot '"
                                + config.source().slotName()
                                + "' no longer exists on the server",
                        "tidemark run --fresh");
            } finally {
                CATALOG.get().dropSlot("slots", config.source().slotName());
            }
        }
    }

    @Test
    void purgedBinlogStopsOnceNamingTheFreshStart() throws Exception {
        try (EmbeddedMariaDb mariadb = EmbeddedMariaDb.start(CATALOG.dir().resolve("mariadb"))) {
            mariadb.createDatabase("purge");
            try (Connection source = mariadb.connect("purge");
                    Statement sql = source.createStatement()) {
                sql.execute("CREATE TABLE items (id bigint PRIMARY KEY, v varchar(40) NOT NULL)");
                sql.execute("INSERT INTO items SELECT seq, CONCAT('v', seq) FROM seq_1_to_500");
                restoreStopsOnceThenAFreshStartConverges(
                        pipeline(mariadb),
                        source,
                        Map.of("purge.items", TableIdentifier.of("purged", "items")),
                        "UPDATE items SET v = 'changed' WHERE id % 7 = 0",
                        () -> {
                            // changes, then the binlog holding them is purged
                            sql.execute("DELETE FROM items WHERE id % 10 = 0");
                            sql.execute("INSERT INTO items SELECT seq, 'new' FROM seq_501_to_520");
                            sql.execute("FLUSH BINARY LOGS");
                            String current;
                            try (ResultSet rs = sql.executeQuery("SHOW MASTER STATUS")) {
                                assertThat(rs.next()).isTrue();
                                current = rs.getString(1);
                            }
                            // the server keeps a log a binlog reader still has open (the stopped
                            // job's connection may take a moment to go): purge until it is gone
                            Awaitility.await("binlogs before " + current + " purged")
                                    .atMost(TIMEOUT)
                                    .until(
                                            () -> {
                                                sql.execute(
                                                        "PURGE BINARY LOGS TO '" + current + "'");
                                                try (ResultSet rs =
                                                        sql.executeQuery("SHOW BINARY LOGS")) {
                                                    return rs.next()
                                                            && rs.getString(1).equals(current);
                                                }
                                            });
                        },
                        "the source (mysql 127.0.0.1:"
                                + mariadb.port()
                                + ") failed in a way no restart can cure",
                        "no longer holds the binlog",
                        "tidemark run --fresh");
            }
        }
    }

    /** What happens to the source while the pipeline is stopped. */
    @FunctionalInterface
    private interface WhileStopped {
        void run() throws Exception;
    }

    /**
     * Runs {@code config}'s pipeline until its tables equal the source, and again after {@code
     * changeAfterTheSnapshot}, stops it with a savepoint, runs {@code whileStopped}, restores the
     * savepoint and asserts that the job fails once, without restarts (the test jobs' strategy
     * allows 100), with every one of {@code messages} in its failure; then starts the pipeline
     * afresh, as the message advises, and asserts that it ends equal to the source.
     */
    private static void restoreStopsOnceThenAFreshStartConverges(
            PipelineConfig config,
            Connection source,
            Map<String, TableIdentifier> targets,
            String changeAfterTheSnapshot,
            WhileStopped whileStopped,
            String... messages)
            throws Exception {
        Catalog catalog = TestPipelines.catalog(config);
        try {
            RunContext run = RunContext.start(config.pipelineId(), null);
            JobClient job = TestJobs.start(config, run, CommitListener.NONE, null);
            String savepoint;
            try {
                // a change of the log committed: the log reader has started
                GroundTruth.awaitEqual(job, source, catalog, targets, TIMEOUT);
                try (Statement sql = source.createStatement()) {
                    sql.execute(changeAfterTheSnapshot);
                }
                GroundTruth.awaitEqual(job, source, catalog, targets, TIMEOUT);
                savepoint =
                        job.stopWithSavepoint(
                                        false,
                                        CATALOG.dir()
                                                .resolve("savepoints-" + config.pipelineId())
                                                .toUri()
                                                .toString(),
                                        SavepointFormatType.CANONICAL)
                                .get();
            } catch (Throwable e) {
                GroundTruth.cancel(job);
                throw e;
            }
            whileStopped.run();

            JobClient restored =
                    TestJobs.submit(
                            config,
                            run,
                            CommitListener.NONE,
                            Path.of(URI.create(savepoint)),
                            SourceStage.cdc(config));
            var failure =
                    assertThatThrownBy(
                            () ->
                                    restored.getJobExecutionResult()
                                            .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            for (String message : messages) {
                failure.hasStackTraceContaining(message);
            }
            assertThat(restored.getJobStatus().get().name()).isEqualTo("FAILED");
            assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, restored))
                    .as("one failure, no restarts")
                    .hasSize(1);

            // the advice: a fresh start, which converges (rows deleted meanwhile go)
            JobClient fresh = TestJobs.start(config);
            try {
                GroundTruth.awaitEqual(fresh, source, catalog, targets, TIMEOUT);
            } finally {
                GroundTruth.cancel(fresh);
            }
        } finally {
            if (catalog instanceof Closeable) {
                ((Closeable) catalog).close();
            }
        }
    }

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private static PipelineConfig pipeline(EmbeddedMariaDb mariadb) {
        return PipelineYaml.mariaDb(mariadb, "purge", CATALOG.get(), CATALOG.dir(), "purge-it")
                .set("pipeline.parallelism", 1)
                .table("purge.items", "purged.items")
                .config();
    }
}
