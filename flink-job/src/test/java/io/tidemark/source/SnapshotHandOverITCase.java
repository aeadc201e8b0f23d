package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.TidemarkJob;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.HookedSources;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.cdc.connectors.base.source.meta.split.SnapshotSplit;
import org.apache.flink.cdc.connectors.base.source.utils.hooks.SnapshotPhaseHooks;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.catalog.Catalog;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The snapshot-to-log hand-over of the Postgres source, driven deterministically through Flink
 * CDC's snapshot phase hooks: each case commits a new row of the first snapshot chunk read in one
 * of the interleavings that Flink CDC 3.5's own hand-over loses (issue 17), and the Iceberg table
 * must end equal to the source. The chunk is the one of the lowest keys, never the last read, so a
 * later chunk of the same table holds the table's highest watermark (the log phase emits everything
 * after that one regardless).
 *
 * <ul>
 *   <li>{@link Interleaving#AT_HIGH_WATERMARK}: the row's insert is the first WAL record after the
 *       last flushed commit when the high watermark is read, so under Flink CDC's watermark (the
 *       WAL write position) its LSN equals the watermark: Flink CDC's backfill stops at the commit
 *       before it, and its log phase emits only positions strictly after the watermark. This is the
 *       demo's lost key 2007 ({@code synchronous_commit = off} leaves the write position at the end
 *       of the last commit often).
 *   <li>{@link Interleaving#STRADDLING}: the row's transaction writes below the high watermark and
 *       commits after another transaction that writes above it: Flink CDC's backfill stops at the
 *       other transaction's first message, and its log phase skips the row as below the watermark.
 *   <li>{@link Interleaving#STRADDLING_COMMITS_LATER}: the same transaction commits 2 s after the
 *       high watermark, with nothing in between: Flink CDC's backfill ends as soon as the server
 *       reports a position past the watermark (the watermark's own commit), before the row commits.
 * </ul>
 */
class SnapshotHandOverITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    /** The Iceberg catalog's server; the source has a server of its own (see {@link #source}). */
    @RegisterExtension static final SharedDatabase CATALOG = new SharedDatabase("iceberg_catalog");

    /**
     * The source server, apart from the catalog's, so that its WAL holds only what the test writes
     * and what the source itself writes: the catalog's commits would otherwise land between the
     * hook's records.
     */
    private static EmbeddedDatabase source;

    @BeforeAll
    static void startSource() throws Exception {
        source = EmbeddedDatabase.start(CATALOG.dir().resolve("source"));
        source.createDatabase("shop");
    }

    @AfterAll
    static void stopSource() throws Exception {
        if (source != null) {
            source.close();
        }
    }

    /** What the hooks do around the high watermark of the first chunk read. */
    enum Interleaving {
        AT_HIGH_WATERMARK,
        STRADDLING,
        STRADDLING_COMMITS_LATER
    }

    /** The case the hooks play; null when no case is armed (or it has played). */
    private static final AtomicReference<Interleaving> ARMED = new AtomicReference<>();

    /** The source database's JDBC URL, for the hooks (they run in the TaskManager's threads). */
    private static volatile String url;

    /** The open transaction that writes the chunk's new row, between the two hooks. */
    private static volatile Connection straddler;

    /** The keys the hooks inserted, and the chunk they were in. */
    private static final List<Long> INSERTED = new ArrayList<>();

    private static volatile String chunk;

    /** Where the commit of a late-committing transaction runs. */
    private static volatile CompletableFuture<Void> lateCommit;

    @ParameterizedTest(name = "{0}")
    @EnumSource(Interleaving.class)
    void changeMadeWhileAChunkIsReadReachesIceberg(Interleaving interleaving) throws Exception {
        String id = interleaving.name().toLowerCase(Locale.ROOT).replace('_', '-');
        Names names =
                new Names(
                        "handover-" + id,
                        "shop",
                        "handover_" + id.replace('-', '_'),
                        "handover_" + id.replace('-', '_'));
        PipelineConfig config = TestPipelines.shop(source, CATALOG.get(), CATALOG.dir(), names, 1);
        url = config.source().jdbcUrl();
        try (Connection writer = source.connect("shop");
                Connection verifier = DriverManager.getConnection(url, "postgres", "")) {
            new ShopWorkload(writer, 11L).createAndSeed(2_000, 1_000);
            synchronized (INSERTED) {
                INSERTED.clear();
            }
            ARMED.set(interleaving);
            long auditedBefore = ChunkAudit.AUDITED.get();

            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null,
                            hookedSource(config));
            Catalog catalog = TestPipelines.catalog(config);
            try {
                GroundTruth.awaitEqual(
                        job, verifier, catalog, names.targets(), Duration.ofMinutes(2));
                assertThat(ARMED.get()).as("the hooks played their case").isNull();
                // every chunk of both tables was audited against the source, and none differed
                assertThat(ChunkAudit.AUDITED.get() - auditedBefore).isGreaterThanOrEqualTo(6);
                assertThat(ChunkAudit.DIFFERED.get()).isZero();
                if (lateCommit != null) {
                    lateCommit.get();
                }
                synchronized (INSERTED) {
                    assertThat(INSERTED)
                            .as("rows inserted in chunk %s", chunk)
                            .hasSize(interleaving == Interleaving.STRADDLING ? 2 : 1);
                    for (long key : INSERTED) {
                        assertThat(
                                        TestJobs.field(
                                                catalog.loadTable(
                                                        names.targets()
                                                                .get(ShopWorkload.CUSTOMERS)),
                                                key,
                                                "name"))
                                .isEqualTo("straddler " + key);
                    }
                }
            } finally {
                GroundTruth.cancel(job);
                source.dropSlot("shop", config.source().slotName());
                lateCommit = null;
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    /** The pipeline's Postgres source with the hooks of the armed case. */
    private static TidemarkJob.ChangeSource hookedSource(PipelineConfig config) {
        SnapshotPhaseHooks hooks = new SnapshotPhaseHooks();
        hooks.setPreHighWatermarkAction(SnapshotHandOverITCase::beforeHighWatermark);
        hooks.setPostHighWatermarkAction(SnapshotHandOverITCase::afterHighWatermark);
        return HookedSources.postgres(
                config, List.of(ShopWorkload.CUSTOMERS, ShopWorkload.ORDERS), hooks);
    }

    /** After the chunk's {@code SELECT}, before its high watermark is read. */
    private static void beforeHighWatermark(
            org.apache.flink.cdc.connectors.base.config.SourceConfig config, SourceSplit split)
            throws SQLException {
        Interleaving interleaving = ARMED.get();
        SnapshotSplit chunkSplit = (SnapshotSplit) split;
        // the chunk of the lowest keys: never the table's last chunk read (Flink CDC reads the
        // unbounded chunk of the highest keys first or last), whose high watermark is the
        // table's highest, past which the log phase emits everything
        if (interleaving == null
                || !chunkSplit.getTableId().table().equals("customers")
                || chunkSplit.getSplitStart() != null) {
            return;
        }
        chunk = chunkSplit.splitId();
        long key = keyInside(chunkSplit, 0);
        straddler = DriverManager.getConnection(url, "postgres", "");
        straddler.setAutoCommit(false);
        if (interleaving == Interleaving.AT_HIGH_WATERMARK) {
            placeAtWritePosition(key);
        } else {
            // a record below the watermark, written to disk by the flushed commit after it
            insert(straddler, key);
            flushedCommit();
        }
    }

    /**
     * Inserts the row so that its record starts at the WAL write position and stays unwritten:
     * after a flushed commit the WAL is written to its end, where the next record goes. Checked
     * (the insert position before the row equals the write position after it) and retried.
     */
    private static void placeAtWritePosition(long key) throws SQLException {
        try (Connection probe = DriverManager.getConnection(url, "postgres", "");
                Statement s = probe.createStatement()) {
            for (int attempt = 1; ; attempt++) {
                flushedCommit();
                String before = lsn(s, "pg_current_wal_insert_lsn()");
                insert(straddler, key);
                String written = lsn(s, "pg_current_wal_lsn()");
                if (before.equals(written)) {
                    return;
                }
                straddler.rollback();
                synchronized (INSERTED) {
                    INSERTED.remove(Long.valueOf(key));
                }
                if (attempt == 20) {
                    throw new IllegalStateException(
                            "could not place a record at the WAL write position: "
                                    + before
                                    + " vs "
                                    + written);
                }
            }
        }
    }

    private static String lsn(Statement s, String function) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT " + function)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** After the chunk's high watermark is read, before its backfill. */
    private static void afterHighWatermark(
            org.apache.flink.cdc.connectors.base.config.SourceConfig config, SourceSplit split)
            throws SQLException {
        Interleaving interleaving = ARMED.get();
        if (interleaving == null || !((SnapshotSplit) split).splitId().equals(chunk)) {
            return;
        }
        ARMED.set(null);
        switch (interleaving) {
            case AT_HIGH_WATERMARK:
                straddler.commit();
                straddler.close();
                break;
            case STRADDLING:
                try (Connection other = DriverManager.getConnection(url, "postgres", "")) {
                    insert(other, keyInside((SnapshotSplit) split, 1));
                }
                straddler.commit();
                straddler.close();
                break;
            default:
                Connection late = straddler;
                // the case itself: a commit 2 s after the watermark, with nothing in between
                lateCommit =
                        CompletableFuture.runAsync(
                                () -> {
                                    try {
                                        late.commit();
                                        late.close();
                                    } catch (SQLException e) {
                                        throw new IllegalStateException(e);
                                    }
                                },
                                CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS));
        }
    }

    private static void insert(Connection connection, long key) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute(
                    "INSERT INTO public.customers VALUES ("
                            + key
                            + ", 'straddler "
                            + key
                            + "', NULL, false, 1.00, NULL, now())");
        }
        synchronized (INSERTED) {
            INSERTED.add(key);
        }
    }

    private static void flushedCommit() throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
                Statement s = c.createStatement()) {
            s.execute("SET synchronous_commit TO on");
            // a change of a captured table: its COMMIT message ends where the WAL is written to
            s.execute("UPDATE public.orders SET quantity = quantity + 1 WHERE id = 1");
        }
    }

    /** A key below the seeded ones: in the chunk of the lowest keys. */
    private static long keyInside(SnapshotSplit split, int nth) {
        return -1L - nth;
    }
}
