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
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
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
 * Trino 476, started by {@link TrinoServer} from the distribution the build unpacked from Maven,
 * reads the pipeline's tables through the Trino JDBC driver: rows equal the source, deletes
 * applied, {@code $snapshots} shows the pipeline's commit metadata, and {@code FOR VERSION AS OF}
 * returns an earlier state.
 */
class TrinoITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    @Test
    void trinoReadsTheTablesTheirHistoryAndProvenance() throws Exception {
        EmbeddedDatabase database = DATABASE.get();
        Path dir = DATABASE.dir();
        Names names = new Names("trino-it", "trino_src", "trino_slot", "trino_it");
        database.createDatabase(names.database());
        PipelineConfig config = TestPipelines.shop(database, dir, names, 2);
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
            try {
                GroundTruth.awaitEqual(
                        job, source, catalog, names.targets(), Duration.ofMinutes(3));
                earlier = catalog.loadTable(customers).currentSnapshot().snapshotId();
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

            Path trinoHome = Path.of(System.getProperty("tidemark.trino.home"));
            long started = System.nanoTime();
            try (TrinoServer trino =
                    TrinoServer.start(
                            trinoHome,
                            TrinoServer.findJavaHome(),
                            dir.resolve("trino"),
                            TrinoServer.icebergJdbcCatalog(
                                    config.catalogName(),
                                    database.jdbcUrl("iceberg_catalog"),
                                    EmbeddedDatabase.USER,
                                    "",
                                    config.catalogProperties().get("warehouse")),
                            Duration.ofMinutes(3))) {
                System.out.printf(
                        "Trino started in %d ms%n", (System.nanoTime() - started) / 1_000_000);
                Properties user = new Properties();
                user.setProperty("user", "tidemark");
                try (Connection trinoConnection =
                        DriverManager.getConnection(trino.jdbcUrl(), user)) {
                    String ns = names.namespace();
                    // queries that scan a table fail with "No nodes available" until the
                    // coordinator's own worker has announced itself
                    Awaitility.await("Trino scans a table")
                            .atMost(Duration.ofMinutes(2))
                            .ignoreExceptions()
                            .until(
                                    () ->
                                            query(
                                                                    trinoConnection,
                                                                    "SELECT count(*) FROM "
                                                                            + ns
                                                                            + ".customers")
                                                            .size()
                                                    == 1);

                    // rows equal the source, deletes applied
                    assertThat(query(trinoConnection, "SELECT id, email FROM " + ns + ".customers"))
                            .containsExactlyInAnyOrderElementsOf(
                                    query(source, "SELECT id, email FROM public.customers"));
                    assertThat(
                                    query(
                                            trinoConnection,
                                            "SELECT id, status, quantity FROM " + ns + ".orders"))
                            .containsExactlyInAnyOrderElementsOf(
                                    query(
                                            source,
                                            "SELECT id, status, quantity FROM public.orders"));
                    assertThat(
                                    query(
                                            trinoConnection,
                                            "SELECT id FROM " + ns + ".customers WHERE id = 1"))
                            .isEmpty();

                    // $snapshots: the pipeline's provenance on every commit, in checkpoint order
                    List<List<String>> snapshots =
                            query(
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
                    for (List<String> snapshot : snapshots) {
                        assertThat(snapshot.get(0)).isEqualTo(names.pipelineId());
                        assertThat(snapshot.get(1)).isEqualTo("trino-run");
                        assertThat(Long.parseLong(snapshot.get(2))).isGreaterThan(previous);
                        assertThat(snapshot.get(3)).startsWith("{\"source\":{\"commit_lsn\":");
                        previous = Long.parseLong(snapshot.get(2));
                    }

                    // time travel: the state before the delete, as Iceberg's own reader sees it
                    List<List<String>> before =
                            query(
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

    private static List<List<String>> query(Connection connection, String sql) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>(columns);
                for (int i = 1; i <= columns; i++) {
                    row.add(String.valueOf(rs.getObject(i)));
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
