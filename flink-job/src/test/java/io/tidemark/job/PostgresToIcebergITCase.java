package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.demo.EmbeddedDatabase;
import io.tidemark.demo.ShopWorkload;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.TestClusters;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.LinkedHashMap;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The walking skeleton end to end: embedded PostgreSQL, two tables, the job on a MiniCluster with
 * parallelism 2 and 1 s checkpoints; thousands of rows before the start, then inserts, updates,
 * deletes, delete + re-insert and primary-key updates while the snapshot runs and after it. The
 * Iceberg tables must end equal to the source, row by row, and every commit must carry the run's
 * provenance.
 */
class PostgresToIcebergITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @TempDir static Path dir;

    private static EmbeddedDatabase database;

    @BeforeAll
    static void startDatabase() throws Exception {
        database = EmbeddedDatabase.start(dir.resolve("postgres"));
        database.createDatabase("shop");
        database.createDatabase("iceberg_catalog");
    }

    @AfterAll
    static void stopDatabase() throws Exception {
        if (database != null) {
            database.close();
        }
    }

    static String pipelineYaml(Path dir, int port, String id) {
        return String.join(
                "\n",
                "pipeline:",
                "  id: " + id,
                "  parallelism: 2",
                "checkpoint:",
                "  interval: 1s",
                "  dir: " + dir.resolve("checkpoints").toUri(),
                "source:",
                "  type: postgres",
                "  hostname: 127.0.0.1",
                "  port: " + port,
                "  database: shop",
                "  username: postgres",
                "  snapshot:",
                "    split-size: 500",
                "catalog:",
                "  type: jdbc",
                "  properties:",
                "    uri: jdbc:postgresql://127.0.0.1:" + port + "/iceberg_catalog",
                "    jdbc.user: postgres",
                "    jdbc.schema-version: V1",
                "    warehouse: " + dir.resolve("warehouse").toUri(),
                "tables:",
                "  - source: public.customers",
                "    target: shop.customers",
                "  - source: public.orders",
                "    target: shop.orders",
                "");
    }

    @Test
    void replicatesSnapshotAndChangesExactly() throws Exception {
        try (Connection writer = database.connect("shop");
                Connection verifier = database.connect("shop")) {
            ShopWorkload workload = new ShopWorkload(writer, 7L);
            workload.createAndSeed(3_000, 6_000);

            PipelineConfig config =
                    new PipelineConfigLoader()
                            .parse(
                                    pipelineYaml(dir, database.port(), "it-skeleton"),
                                    "it-skeleton.yaml");
            RunContext run = RunContext.start(config.pipelineId(), null);
            List<ResolvedTable> tables = TidemarkJob.prepare(config);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(
                            TidemarkJob.flinkConfiguration(config));
            TidemarkJob.assemble(env, config, run, tables, TidemarkJob.postgres(config));
            JobClient job = env.executeAsync(config.jobName());

            Catalog catalog =
                    Catalogs.load(
                            config.catalogName(),
                            config.catalogProperties(),
                            new org.apache.hadoop.conf.Configuration());
            Map<String, TableIdentifier> targets = new LinkedHashMap<>();
            targets.put(ShopWorkload.CUSTOMERS, TableIdentifier.of("shop", "customers"));
            targets.put(ShopWorkload.ORDERS, TableIdentifier.of("shop", "orders"));
            try {
                // while the snapshot runs (30 chunks of 500 rows, each with its own backfill)
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
                                .containsEntry(Provenance.PIPELINE_ID, "it-skeleton")
                                .containsEntry(Provenance.RUN_ID, run.runId())
                                .containsEntry(Provenance.CODE_VERSION, run.codeVersion());
                    }
                }
            } finally {
                GroundTruth.cancel(job);
                database.dropSlot("shop", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }
}
