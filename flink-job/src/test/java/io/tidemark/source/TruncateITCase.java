package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.TidemarkJob;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.HookedSources;
import io.tidemark.testing.SharedDatabase;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.cdc.connectors.base.source.utils.hooks.SnapshotPhaseHooks;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Postgres {@code TRUNCATE} of a captured table is applied in commit order: rows written after it
 * (in its own transaction too) survive, rows and changes before it are gone; under {@code truncate:
 * quarantine} it is not applied and the quarantine table holds it with its reason. A truncate made
 * while the job is stopped is applied after the restore. A truncate made while the table's snapshot
 * chunks are read (some before it, some after) is applied too, and the table read again (a
 * re-snapshot asked for in the commit that empties it): chunks read after the truncate were written
 * before it reached the writer.
 */
class TruncateITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("trunc", "iceberg_catalog");

    private static final TableIdentifier LOGS = TableIdentifier.of("trunc", "logs");
    private static final TableIdentifier EVENTS = TableIdentifier.of("trunc", "events");

    @Test
    void truncateIsAppliedInCommitOrderAndSurvivesARestart() throws Exception {
        try (Connection source = DATABASE.get().connect("trunc");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE public.logs (id bigint PRIMARY KEY, line text NOT NULL)");
            sql.execute(
                    "INSERT INTO public.logs SELECT g, 'line ' || g FROM generate_series(1, 1000) g");
            sql.execute("CREATE TABLE public.events (id bigint PRIMARY KEY, kind text)");
            sql.execute(
                    "INSERT INTO public.events SELECT g, 'k' || g FROM generate_series(1, 300) g");

            PipelineConfig config = pipeline();
            RunContext run = RunContext.start(config.pipelineId(), null);
            JobClient job = TestJobs.start(config, run, CommitListener.NONE, null);
            Catalog catalog = TestPipelines.catalog(config);
            Path savepoint;
            try {
                GroundTruth.awaitFirstCommit(job, catalog, LOGS, EVENTS);
                // changes before the truncate in other transactions, then truncate and re-insert
                // in one transaction: only the re-inserted rows survive
                sql.execute("UPDATE public.logs SET line = 'changed' WHERE id <= 10");
                source.setAutoCommit(false);
                sql.execute("INSERT INTO public.logs VALUES (4000, 'gone with the truncate')");
                sql.execute("UPDATE public.logs SET line = 'also gone' WHERE id = 20");
                sql.execute("TRUNCATE public.logs");
                sql.execute(
                        "INSERT INTO public.logs SELECT g, 'after ' || g "
                                + "FROM generate_series(5000, 5009) g");
                source.commit();
                source.setAutoCommit(true);
                sql.execute("INSERT INTO public.logs VALUES (6000, 'later')");
                sql.execute("UPDATE public.logs SET line = 'updated after' WHERE id = 5001");
                sql.execute("DELETE FROM public.logs WHERE id = 5002");
                // the quarantine policy: the truncate is held back, the rows stay
                sql.execute("TRUNCATE public.events");
                sql.execute("INSERT INTO public.events VALUES (1000, 'after')");

                GroundTruth.awaitEqual(job, source, catalog, Map.of("public.logs", LOGS), TIMEOUT);
                // the quarantined truncate's table keeps its rows and takes the new one
                Awaitility.await("the row inserted after the held truncate")
                        .atMost(TIMEOUT)
                        .until(() -> CommitHistory.ids(catalog.loadTable(EVENTS)).contains(1000L));
                assertThat(CommitHistory.ids(catalog.loadTable(EVENTS)))
                        .hasSize(301)
                        .contains(1L, 300L, 1000L);
                assertThat(quarantineReasons(catalog)).containsExactly("TRUNCATE");
                assertThat(CommitHistory.truncateSnapshots(catalog.loadTable(LOGS))).isEqualTo(1);

                savepoint =
                        Path.of(
                                java.net.URI.create(
                                        job.stopWithSavepoint(
                                                        false,
                                                        DATABASE.dir()
                                                                .resolve("savepoint")
                                                                .toUri()
                                                                .toString(),
                                                        SavepointFormatType.CANONICAL)
                                                .get()));
            } catch (Throwable e) {
                GroundTruth.cancel(job);
                throw e;
            }

            // while the job is stopped: new rows, a truncate, newer rows
            sql.execute("INSERT INTO public.logs VALUES (7000, 'before the second truncate')");
            sql.execute("TRUNCATE public.logs");
            sql.execute("INSERT INTO public.logs VALUES (8000, 'after the second truncate')");
            job = TestJobs.start(config, run, CommitListener.NONE, savepoint);
            try {
                GroundTruth.awaitEqual(job, source, catalog, Map.of("public.logs", LOGS), TIMEOUT);
                assertThat(CommitHistory.ids(catalog.loadTable(LOGS))).containsExactly(8000L);
                assertThat(CommitHistory.truncateSnapshots(catalog.loadTable(LOGS))).isEqualTo(2);
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("trunc", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
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
        TableIdentifier target = TableIdentifier.of("trunc", "chunked");
        try (Connection source = DATABASE.get().connect("trunc");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE public.chunked (id bigint PRIMARY KEY, v text NOT NULL)");
            sql.execute(
                    "INSERT INTO public.chunked SELECT g, 'v' || g FROM generate_series(1, 600) g");
            PipelineConfig config =
                    TestPipelines.fromResource(
                            "truncate-snapshot.yaml",
                            DATABASE.get(),
                            DATABASE.dir(),
                            "trunc-snap-it");
            url = config.source().jdbcUrl();
            TRUNCATED.set(false);
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null,
                            hookedSource(config));
            Catalog catalog = TestPipelines.catalog(config);
            try {
                // chunks read before the truncate held rows it removed, chunks read after it rows
                // written after it: the truncate empties the table and the table is read again
                GroundTruth.awaitEqual(
                        job, source, catalog, Map.of("public.chunked", target), TIMEOUT);
                assertThat(TRUNCATED).isTrue();
                assertThat(CommitHistory.ids(catalog.loadTable(target)))
                        .hasSize(50)
                        .startsWith(1001L)
                        .endsWith(1050L);
                // the commit that emptied the table asked for the re-read, and a later one holds it
                CommitHistory.awaitReadAgainAfterTruncate(catalog.loadTable(target), TIMEOUT);
                assertThat(CommitHistory.truncatesQuarantined(catalog, target, "public.chunked"))
                        .isEmpty();
                GroundTruth.awaitEqual(
                        job, source, catalog, Map.of("public.chunked", target), TIMEOUT);
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("trunc", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    /** The pipeline's Postgres source, truncating the table after its first chunk is read. */
    private static TidemarkJob.ChangeSource hookedSource(PipelineConfig config) {
        SnapshotPhaseHooks hooks = new SnapshotPhaseHooks();
        hooks.setPostHighWatermarkAction(TruncateITCase::afterHighWatermark);
        return HookedSources.postgres(config, List.of("public.chunked"), hooks);
    }

    /**
     * After the first chunk's high watermark: truncates the table from another session, as a user
     * would; it waits for the chunk reads that hold the table, so the later chunks are read after
     * it. Not on the reader's thread: its own chunk transaction holds the lock the truncate waits
     * for.
     */
    private static void afterHighWatermark(
            org.apache.flink.cdc.connectors.base.config.SourceConfig config, SourceSplit split) {
        if (!TRUNCATED.compareAndSet(false, true)) {
            return;
        }
        CompletableFuture.runAsync(
                () -> {
                    try (Connection c = DriverManager.getConnection(url, "postgres", "");
                            Statement s = c.createStatement()) {
                        s.execute("TRUNCATE public.chunked");
                        s.execute(
                                "INSERT INTO public.chunked SELECT g, 'after ' || g "
                                        + "FROM generate_series(1001, 1050) g");
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private static List<String> quarantineReasons(Catalog catalog) throws Exception {
        Table quarantine = catalog.loadTable(QuarantineTable.unrouted(EVENTS));
        List<String> reasons = new ArrayList<>();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(quarantine).build()) {
            for (Record row : rows) {
                // the namespace's unrouted quarantine table is shared with the other test
                if ("public.events".equals(row.getField("source_table"))) {
                    reasons.add(String.valueOf(row.getField("reasons")));
                }
            }
        }
        return reasons;
    }

    private static PipelineConfig pipeline() throws Exception {
        return TestPipelines.fromResource(
                "truncate.yaml", DATABASE.get(), DATABASE.dir(), "trunc-it");
    }
}
