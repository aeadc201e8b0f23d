package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.TableLayout;
import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.deploy.TrinoServer;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.HistoryTable;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import io.tidemark.testing.TrinoQueries;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Trino 476, started by {@link TrinoServer} from the distribution the build unpacked from Maven
 * (one server for the class), reads the pipeline's tables through the Trino JDBC driver: rows equal
 * the source, deletes applied, {@code $snapshots} shows the pipeline's commit metadata, and {@code
 * FOR VERSION AS OF} returns an earlier state; and compacts them while the job streams.
 */
class TrinoITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    /** One Trino server for the class, over the JDBC catalog every test's pipeline writes to. */
    private static TrinoServer trino;

    private static TrinoServer trino(PipelineConfig config) throws Exception {
        if (trino == null) {
            long started = System.nanoTime();
            trino =
                    TrinoServer.start(
                            Path.of(System.getProperty("tidemark.trino.home")),
                            TrinoServer.findJavaHome(),
                            DATABASE.dir().resolve("trino"),
                            TrinoServer.icebergJdbcCatalog(
                                    config.catalogName(),
                                    DATABASE.get().jdbcUrl("iceberg_catalog"),
                                    EmbeddedDatabase.USER,
                                    "",
                                    config.catalogProperties().get("warehouse")),
                            Duration.ofMinutes(3));
            System.out.printf(
                    "Trino started in %d ms%n", (System.nanoTime() - started) / 1_000_000);
        }
        return trino;
    }

    @AfterAll
    static void stopTrino() {
        if (trino != null) {
            trino.close();
        }
    }

    @Test
    void trinoReadsTheTablesTheirHistoryAndProvenance() throws Exception {
        EmbeddedDatabase database = DATABASE.get();
        Path dir = DATABASE.dir();
        Names names = new Names("trino-it", "trino_src", "trino_slot", "trino_it");
        database.createDatabase(names.database());
        // customers partitioned by a bucket of its key, orders with a table property of its own
        // (issue 23): both made so, written through the stream, read by Trino
        String customersTarget = names.namespace() + ".customers";
        String ordersTarget = names.namespace() + ".orders";
        PipelineConfig config =
                TestPipelines.shopPipeline(database, dir, names, 2)
                        .tableKey(customersTarget, "partition-by", List.of("bucket(4, id)"))
                        .tableKey(customersTarget, "sort-order", List.of("id"))
                        .tableKey(customersTarget, "history", "scd2")
                        .tableKey(
                                ordersTarget,
                                "table-properties",
                                Map.of("write.parquet.compression-codec", "zstd"))
                        .set("points.table", names.namespace() + ".tidemark_points")
                        .config();
        Catalog catalog = TestPipelines.catalog(config);
        try (Connection source = database.connect(names.database())) {
            ShopWorkload workload = new ShopWorkload(source, 21L);
            workload.createAndSeed(1_000, 2_000);
            RunContext run = RunContext.start(names.pipelineId(), "trino-run");
            List<ResolvedTable> tables = JobPreparation.prepare(config);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(
                            TidemarkJob.flinkConfiguration(config));
            TidemarkJob.assemble(env, config, run, tables, SourceStage.cdc(config));
            JobClient job = env.executeAsync(config.jobName());
            TableIdentifier customers = names.targets().get(ShopWorkload.CUSTOMERS);
            long earlier;
            java.time.Instant beforeDelete;
            try {
                GroundTruth.awaitEqual(
                        job, source, catalog, names.targets(), Duration.ofMinutes(3));
                earlier = catalog.loadTable(customers).currentSnapshot().snapshotId();
                beforeDelete = java.time.Instant.now();
                try (Statement s = source.createStatement()) {
                    s.execute("DELETE FROM public.orders WHERE customer_id = 1");
                    s.execute("DELETE FROM public.customers WHERE id = 1");
                }
                workload.apply(500);
                GroundTruth.awaitEqual(
                        job, source, catalog, names.targets(), Duration.ofMinutes(3));
            } finally {
                GroundTruth.cancel(job);
                database.dropSlot(names.database(), names.slot());
            }

            TrinoServer trino = trino(config);
            {
                String ns = names.namespace();
                try (Connection trinoConnection =
                        TrinoQueries.connectWhenScanning(trino, ns + ".customers")) {
                    // rows equal the source, deletes applied
                    TrinoQueries.assertShopTablesEqual(trinoConnection, source, ns);
                    // the partitioned table: its rows in 4 buckets of the key, as Trino sees them
                    assertThat(
                                    TrinoQueries.query(
                                            trinoConnection,
                                            "SELECT count(*) FROM "
                                                    + ns
                                                    + ".\"customers$partitions\""))
                            .containsExactly(List.of("4"));
                    Table partitioned = catalog.loadTable(TableIdentifier.parse(customersTarget));
                    assertThat(TableLayout.describe(partitioned.spec()))
                            .containsExactly("bucket[4](id)");
                    assertThat(partitioned.sortOrder().fields()).hasSize(1);
                    assertThat(catalog.loadTable(TableIdentifier.parse(ordersTarget)).properties())
                            .containsEntry("write.parquet.compression-codec", "zstd");
                    assertThat(
                                    TrinoQueries.query(
                                            trinoConnection,
                                            "SELECT id FROM " + ns + ".customers WHERE id = 1"))
                            .isEmpty();

                    // $snapshots: the pipeline's provenance on every commit, in checkpoint order
                    List<List<String>> snapshots =
                            TrinoQueries.query(
                                    trinoConnection,
                                    "SELECT element_at(summary, '"
                                            + Provenance.PIPELINE_ID
                                            + "'), element_at(summary, '"
                                            + Provenance.RUN_ID
                                            + "'), element_at(summary, '"
                                            + Provenance.CHECKPOINT_ID
                                            + "'), element_at(summary, '"
                                            + Provenance.SOURCE_POSITIONS
                                            + "') FROM "
                                            + ns
                                            + ".\"customers$snapshots\" ORDER BY committed_at");
                    assertThat(snapshots).hasSizeGreaterThan(1);
                    long previous = -1;
                    boolean logRead = false;
                    for (List<String> snapshot : snapshots) {
                        assertThat(snapshot.get(0)).isEqualTo(names.pipelineId());
                        assertThat(snapshot.get(1)).isEqualTo("trino-run");
                        assertThat(Long.parseLong(snapshot.get(2))).isGreaterThan(previous);
                        // the snapshot's commits name no log position; every later one does
                        logRead |= !snapshot.get(3).equals("{}");
                        if (logRead) {
                            assertThat(snapshot.get(3)).startsWith("{\"source\":{\"commit_lsn\":");
                        }
                        previous = Long.parseLong(snapshot.get(2));
                    }
                    assertThat(logRead).as("commits naming log positions").isTrue();

                    // time travel: the state before the delete, as Iceberg's own reader sees it
                    List<List<String>> before =
                            TrinoQueries.query(
                                    trinoConnection,
                                    "SELECT id, email FROM "
                                            + ns
                                            + ".customers FOR VERSION AS OF "
                                            + earlier);
                    // customer 1 as seeded, before its delete
                    assertThat(before).contains(List.of("1", "c1@example.com"));
                    assertThat(before)
                            .containsExactlyInAnyOrderElementsOf(
                                    readAt(catalog.loadTable(customers), earlier));

                    // the history table, by the README's queries: the current rows are the
                    // source's, and customer 1 as it was before its delete, gone after it
                    String history = customersTarget + HistoryTable.SUFFIX;
                    assertThat(
                                    TrinoQueries.query(
                                            trinoConnection,
                                            "SELECT id, email FROM "
                                                    + history
                                                    + " WHERE valid_to IS NULL AND operation <> 'delete'"
                                                    + " ORDER BY id"))
                            .isEqualTo(
                                    TrinoQueries.query(
                                            source,
                                            "SELECT id, email FROM public.customers ORDER BY id"));
                    String asOf =
                            " WHERE id = 1 AND operation <> 'delete' AND valid_from <= TIMESTAMP '%s UTC'"
                                    + " AND (valid_to IS NULL OR valid_to > TIMESTAMP '%s UTC')";
                    String then =
                            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
                                    .withZone(java.time.ZoneOffset.UTC)
                                    .format(beforeDelete);
                    String now =
                            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
                                    .withZone(java.time.ZoneOffset.UTC)
                                    .format(java.time.Instant.now());
                    assertThat(
                                    TrinoQueries.query(
                                            trinoConnection,
                                            "SELECT id, email FROM "
                                                    + history
                                                    + String.format(asOf, then, then)))
                            .containsExactly(List.of("1", "c1@example.com"));
                    assertThat(
                                    TrinoQueries.query(
                                            trinoConnection,
                                            "SELECT id, email FROM "
                                                    + history
                                                    + String.format(asOf, now, now)))
                            .isEmpty();
                    // the documented fix after a start without state: versions of rows the
                    // replica no longer holds closed from Trino (none here: the history is exact)
                    try (Statement update = trinoConnection.createStatement()) {
                        assertThat(
                                        update.executeUpdate(
                                                "UPDATE "
                                                        + history
                                                        + " SET valid_to = current_timestamp WHERE valid_to IS NULL"
                                                        + " AND operation <> 'delete' AND id NOT IN (SELECT id FROM "
                                                        + customersTarget
                                                        + ")"))
                                .isZero();
                    }

                    // the newest consistent point, and both tables joined at its snapshots: the
                    // query pattern of the README (the job is stopped equal to the source)
                    Map<String, String> point = new java.util.HashMap<>();
                    for (List<String> row :
                            TrinoQueries.query(
                                    trinoConnection,
                                    "SELECT table_name, snapshot_id FROM "
                                            + ns
                                            + ".tidemark_points WHERE pipeline_id = '"
                                            + names.pipelineId()
                                            + "' AND point_id = (SELECT max(point_id) FROM "
                                            + ns
                                            + ".tidemark_points WHERE pipeline_id = '"
                                            + names.pipelineId()
                                            + "')")) {
                        point.put(row.get(0), row.get(1));
                    }
                    assertThat(point).containsOnlyKeys(customersTarget, ordersTarget);
                    String join =
                            " c JOIN %s o ON o.customer_id = c.id GROUP BY c.id, c.email"
                                    + " ORDER BY c.id";
                    assertThat(
                                    TrinoQueries.query(
                                            trinoConnection,
                                            "SELECT c.id, c.email, count(*) FROM "
                                                    + customersTarget
                                                    + " FOR VERSION AS OF "
                                                    + point.get(customersTarget)
                                                    + String.format(
                                                            join,
                                                            ordersTarget
                                                                    + " FOR VERSION AS OF "
                                                                    + point.get(ordersTarget))))
                            .isEqualTo(
                                    TrinoQueries.query(
                                            source,
                                            "SELECT c.id, c.email, count(*) FROM public.customers"
                                                    + String.format(join, "public.orders")));
                }
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    private static List<List<String>> readAt(Table table, long snapshotId) throws Exception {
        List<List<String>> rows = new ArrayList<>();
        try (CloseableIterable<Record> records =
                IcebergGenerics.read(table).useSnapshot(snapshotId).select("id", "email").build()) {
            for (Record record : records) {
                rows.add(
                        List.of(
                                String.valueOf(record.getField("id")),
                                String.valueOf(record.getField("email"))));
            }
        }
        return rows;
    }

    /** Rounds of optimize over both tables while the workload runs. */
    private static final int ROUNDS = 6;

    /**
     * A compaction run by another engine while the job streams (issue 20): Trino 476's {@code ALTER
     * TABLE ... EXECUTE optimize}, which rewrites the data files with their deletes applied, run
     * again and again against both tables while a workload of inserts, updates and deletes streams
     * into them through one-second checkpoints. The job must neither fail (the test cluster does
     * not restart jobs) nor lose an equality delete to a rewrite (a delete committed while Trino
     * rewrote the rows it removes would otherwise bring the old row back), so the tables end equal
     * to the source in every column, as Tidemark's reader and Trino both read them, with Trino's
     * rewrites in their history followed by the pipeline's commits.
     */
    @Test
    void aCompactionByTrinoWhileTheJobStreamsLosesNoDeleteAndStopsNothing() throws Exception {
        EmbeddedDatabase database = DATABASE.get();
        Path dir = DATABASE.dir();
        Names names =
                new Names("trino-compaction", "compaction_src", "compaction_slot", "compaction");
        database.createDatabase(names.database());
        PipelineConfig config = TestPipelines.shop(database, dir, names, 2);
        Catalog catalog = TestPipelines.catalog(config);
        TrinoServer trino = trino(config);
        try (Connection source = database.connect(names.database())) {
            ShopWorkload workloadOnSource = new ShopWorkload(source, 33L);
            workloadOnSource.createAndSeed(2_000, 4_000);
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(names.pipelineId(), "compaction-run"),
                            CommitListener.NONE,
                            null);
            GroundTruth.awaitEqual(job, source, catalog, names.targets(), Duration.ofMinutes(3));
            String ns = names.namespace();
            try (Connection trinoConnection =
                    TrinoQueries.connectWhenScanning(trino, ns + ".orders")) {

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
