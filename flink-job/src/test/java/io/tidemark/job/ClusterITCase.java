package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.cli.Tidemark;
import io.tidemark.config.PipelineConfig;
import io.tidemark.deploy.FlinkCluster;
import io.tidemark.deploy.S3Server;
import io.tidemark.testbed.ShopWorkload;
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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The shaded job jar on a real standalone Flink session cluster (JobManager and TaskManager JVMs
 * from the jars Maven assembled, RocksDB state), submitted through the REST API the way users
 * submit to a remote cluster, against embedded PostgreSQL and the JDBC catalog: the tables end
 * equal to the source and carry the run's provenance. Its checkpoints and savepoints are on an S3
 * API (S3Proxy from Maven) through Flink's S3 file system loaded as a plugin, in a class loader of
 * its own, as the Docker image and the FlinkDeployment enable it. Then the whole cluster is killed
 * (SIGKILL to both JVMs), the source changes while none runs, and the same submission to a new
 * cluster, without a savepoint, resumes from the pipeline's retained checkpoint in the bucket:
 * equal again, in the same lineage.
 */
class ClusterITCase {

    private static final String BUCKET = "lake";

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    @Test
    void jobJarOnAStandaloneClusterReplicatesExactly() throws Exception {
        Names names = new Names("cluster-it", "cluster_src", "cluster_slot", "cluster_it");
        DATABASE.get().createDatabase(names.database());
        Path bucket = DATABASE.dir().resolve("s3-data").resolve(BUCKET);
        S3Server s3 =
                S3Server.start(
                        Path.of(System.getProperty("tidemark.s3proxy.lib")),
                        Path.of(System.getProperty("java.home")),
                        bucket.getParent(),
                        List.of(BUCKET),
                        "tidemark",
                        "s3proxy-secret-2",
                        Duration.ofMinutes(1));
        String checkpoints = "checkpoints-" + names.pipelineId();
        String yaml =
                TestPipelines.shopPipeline(DATABASE.get(), DATABASE.dir(), names, 2)
                        .set("checkpoint.dir", "s3://" + BUCKET + "/" + checkpoints)
                        .set("checkpoint.savepoint-dir", "s3://" + BUCKET + "/savepoints")
                        .text();
        Path pipelineFile = DATABASE.dir().resolve("cluster-pipeline.yaml");
        Files.writeString(pipelineFile, yaml);
        PipelineConfig config = TestPipelines.shop(DATABASE.get(), DATABASE.dir(), names, 2);
        Catalog catalog = TestPipelines.catalog(config);
        Map<String, String> onS3 = new TreeMap<>(s3.flinkProperties());
        onS3.put("state.checkpoints.dir", "s3://" + BUCKET + "/cluster-checkpoints");
        onS3.put("execution.checkpointing.savepoint-dir", "s3://" + BUCKET + "/savepoints");
        long started = System.nanoTime();
        FlinkCluster cluster = ClusterJobs.start(DATABASE.dir().resolve("flink"), onS3);
        try (s3;
                Connection source = DATABASE.get().connect(names.database())) {
            System.out.printf(
                    "Flink cluster started in %d ms (%s)%n",
                    (System.nanoTime() - started) / 1_000_000, cluster.restUrl());
            ShopWorkload workload = new ShopWorkload(source, 31L);
            workload.createAndSeed(1_000, 2_000);

            String jobId =
                    ClusterJobs.run(
                            cluster,
                            ClusterJobs.uploadJobJar(cluster),
                            pipelineFile,
                            "on-cluster",
                            null);
            try {
                // the file names the interval; it is silent on the state backend, which the
                // cluster's configuration then decides (state.backend.type: rocksdb)
                assertThat(ClusterJobs.checkpointConfig(cluster, jobId))
                        .contains("\"interval\":1000")
                        .contains("\"state_backend\":\"EmbeddedRocksDBStateBackend\"");
                workload.apply(1_000);
                GroundTruth.awaitEqual(
                        ClusterJobs.running(cluster, jobId),
                        source,
                        catalog,
                        names.targets(),
                        Duration.ofMinutes(3));
                assertBloomFilters(DATABASE.dir().resolve("flink").resolve("log"));
                // its completed checkpoints lie in the bucket, written by the plugin
                assertThat(objects(bucket.resolve(checkpoints), "_metadata")).isPositive();
                for (TableIdentifier target : names.targets().values()) {
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
                // changes the cluster may or may not commit before it dies
                workload.apply(300);
            } finally {
                // the whole cluster killed (SIGKILL to both JVMs): nothing is cancelled
                cluster.kill();
                cluster.close();
            }

            // while no cluster runs: deletes and updates; then a new cluster and the same
            // submission, without a savepoint: run finds the pipeline's retained checkpoint
            try (Statement sql = source.createStatement()) {
                sql.execute(
                        "DELETE FROM public.orders WHERE id IN "
                                + "(SELECT id FROM public.orders ORDER BY id LIMIT 10)");
            }
            workload.apply(300);
            cluster = ClusterJobs.start(DATABASE.dir().resolve("flink-again"), onS3);
            String resumed =
                    ClusterJobs.run(
                            cluster,
                            ClusterJobs.uploadJobJar(cluster),
                            pipelineFile,
                            "resumed",
                            null);
            try {
                workload.apply(300);
                GroundTruth.awaitEqual(
                        ClusterJobs.running(cluster, resumed),
                        source,
                        catalog,
                        names.targets(),
                        Duration.ofMinutes(3));
                assertThat(ClusterJobs.jobManagerLog(cluster))
                        .contains("Start: resuming from the newest retained checkpoint")
                        .contains(
                                "checkpoints-"
                                        + names.pipelineId()
                                        + "/"
                                        + names.pipelineId()
                                        + "/");
                for (TableIdentifier target : names.targets().values()) {
                    // restored: the first run's lineage goes on, no checkpoint committed twice
                    assertThat(
                                    CommitHistory.assertEachCheckpointOnce(
                                            catalog.loadTable(target), names.pipelineId()))
                            .hasSize(1);
                    assertThat(catalog.loadTable(target).currentSnapshot().summary())
                            .containsEntry(Provenance.RUN_ID, "resumed")
                            .containsEntry(Provenance.FLINK_JOB_ID, resumed);
                }
            } finally {
                ClusterJobs.cancel(cluster, resumed);
            }

            // cancelled (flink cancel, a REST cancel): changes while it is down, then the same
            // submission resumes from the checkpoint the cancel retained
            try (Statement sql = source.createStatement()) {
                sql.execute(
                        "DELETE FROM public.orders WHERE id IN "
                                + "(SELECT id FROM public.orders ORDER BY id DESC LIMIT 5)");
            }
            workload.apply(200);
            String afterCancel =
                    ClusterJobs.run(
                            cluster,
                            ClusterJobs.uploadJobJar(cluster),
                            pipelineFile,
                            "after-cancel",
                            null);
            try {
                GroundTruth.awaitEqual(
                        ClusterJobs.running(cluster, afterCancel),
                        source,
                        catalog,
                        names.targets(),
                        Duration.ofMinutes(3));
                assertThat(
                                ClusterJobs.jobManagerLog(cluster)
                                        .split(
                                                "Start: resuming from the newest retained checkpoint",
                                                -1))
                        .as("the resubmission after the cancel resumed too")
                        .hasSizeGreaterThanOrEqualTo(3);
                for (TableIdentifier target : names.targets().values()) {
                    assertThat(
                                    CommitHistory.assertEachCheckpointOnce(
                                            catalog.loadTable(target), names.pipelineId()))
                            .hasSize(1);
                    assertThat(catalog.loadTable(target).currentSnapshot().summary())
                            .containsEntry(Provenance.RUN_ID, "after-cancel");
                }
            } finally {
                ClusterJobs.cancel(cluster, afterCancel);
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
            cluster.close();
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    private static long objects(Path dir, String suffix) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(suffix)).count();
        }
    }

    /**
     * RocksDB's own logs, which Flink writes beside the TaskManager's while the job runs: every
     * state instance of the job filters its files with bloom filters ({@link
     * TidemarkJob#rocksDbSettings}, given with the job, not by the cluster).
     */
    private static void assertBloomFilters(Path logDir) throws java.io.IOException {
        List<Path> logs;
        try (java.util.stream.Stream<Path> files = Files.list(logDir)) {
            logs = files.filter(f -> f.getFileName().toString().endsWith("_LOG")).toList();
        }
        assertThat(logs).as("RocksDB's logs in " + logDir).isNotEmpty();
        for (Path log : logs) {
            assertThat(Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1))
                    .as(log.toString())
                    .contains("filter_policy: rocksdb.BuiltinBloomFilter");
        }
    }
}
