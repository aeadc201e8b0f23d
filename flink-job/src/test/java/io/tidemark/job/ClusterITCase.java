package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.cli.Tidemark;
import io.tidemark.config.PipelineConfig;
import io.tidemark.demo.ShopWorkload;
import io.tidemark.deploy.FlinkCluster;
import io.tidemark.testing.ClusterJobs;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The shaded job jar on a real standalone Flink session cluster (JobManager and TaskManager JVMs
 * from the jars Maven assembled, RocksDB state), submitted through the REST API the way users
 * submit to a remote cluster, against embedded PostgreSQL and the JDBC catalog: the tables end
 * equal to the source and carry the run's provenance; the cluster stops cleanly.
 */
class ClusterITCase {

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    @Test
    void jobJarOnAStandaloneClusterReplicatesExactly() throws Exception {
        Names names = new Names("cluster-it", "cluster_src", "cluster_slot", "cluster_it");
        DATABASE.get().createDatabase(names.database());
        String yaml = TestPipelines.shopYaml(DATABASE.get(), DATABASE.dir(), names, 2);
        Path pipelineFile = DATABASE.dir().resolve("cluster-pipeline.yaml");
        Files.writeString(pipelineFile, yaml);
        PipelineConfig config = TestPipelines.shop(DATABASE.get(), DATABASE.dir(), names, 2);
        Catalog catalog = TestPipelines.catalog(config);
        long started = System.nanoTime();
        try (Connection source = DATABASE.get().connect(names.database());
                FlinkCluster cluster = ClusterJobs.start(DATABASE.dir().resolve("flink"))) {
            System.out.printf(
                    "Flink cluster started in %d ms (%s)%n",
                    (System.nanoTime() - started) / 1_000_000, cluster.restUrl());
            ShopWorkload workload = new ShopWorkload(source, 31L);
            workload.createAndSeed(1_000, 2_000);

            String jar = ClusterJobs.uploadJobJar(cluster);
            String jobId = ClusterJobs.run(cluster, jar, pipelineFile, "on-cluster", null);
            try {
                workload.apply(1_000);
                GroundTruth.awaitEqual(
                        ClusterJobs.running(cluster, jobId),
                        source,
                        catalog,
                        names.targets(),
                        Duration.ofMinutes(3));
                for (TableIdentifier target : names.targets().values()) {
                    assertThat(
                                    CommitHistory.assertEachCheckpointOnce(
                                            catalog.loadTable(target), names.pipelineId()))
                            .hasSize(1);
                    assertThat(catalog.loadTable(target).currentSnapshot().summary())
                            .containsEntry(Provenance.RUN_ID, "on-cluster")
                            .containsEntry(Provenance.FLINK_JOB_ID, jobId);
                }
                // the operator's check, as a command: equal, exit code 0
                assertThat(
                                Tidemark.execute(
                                        "verify",
                                        "--config",
                                        pipelineFile.toString(),
                                        "--wait",
                                        "60s"))
                        .isZero();
            } finally {
                ClusterJobs.cancel(cluster, jobId);
                DATABASE.get().dropSlot(names.database(), names.slot());
            }
            // nothing replicates any more: a deleted customer is a difference verify reports
            try (Statement sql = source.createStatement()) {
                sql.execute("DELETE FROM public.customers WHERE id = 1");
            }
            assertThat(
                            Tidemark.execute(
                                    "verify",
                                    "--config",
                                    pipelineFile.toString(),
                                    "--table",
                                    names.targets().get(ShopWorkload.CUSTOMERS).toString()))
                    .isEqualTo(1);
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }
}
