package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.deploy.S3Server;
import io.tidemark.deploy.TrinoServer;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import io.tidemark.testing.TrinoQueries;
import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The pipeline with everything it keeps on an S3 API: S3Proxy from Maven ({@link S3Server}, a child
 * process over a directory) serves the warehouse (Iceberg's {@code S3FileIO}), the checkpoints and
 * the savepoints (Flink's {@code flink-s3-fs-hadoop}). Snapshot, stream, stop with a savepoint on
 * S3, changes while stopped, the next version (another parallelism and run id) restored from it:
 * the tables equal the source; then Trino 476 reads the same warehouse through its native S3 file
 * system and finds the source's rows and the pipeline's provenance.
 */
class ObjectStorageITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    private static final String BUCKET = "lake";

    static {
        // AWS SDK 2.30+ signs uploads with a trailing checksum by default, which S3Proxy (like
        // other S3-compatible servers) rejects: checksums only where an operation requires them
        // (docs/operations.md, "Object storage", says so for users of such servers)
        System.setProperty("aws.requestChecksumCalculation", "when_required");
        System.setProperty("aws.responseChecksumValidation", "when_required");
    }

    @AfterAll
    static void forgetS3() {
        // the JVM's file systems as the other test classes expect them
        FileSystem.initialize(new Configuration(), null);
    }

    @Test
    void snapshotStreamSavepointAndUpgradeOnS3ThenTrinoReadsIt() throws Exception {
        EmbeddedDatabase database = DATABASE.get();
        Path dir = DATABASE.dir();
        Names names = new Names("s3-it", "s3_src", "s3_slot", "s3_it");
        database.createDatabase(names.database());
        Path data = dir.resolve("s3-data");
        try (S3Server s3 =
                        S3Server.start(
                                Path.of(System.getProperty("tidemark.s3proxy.lib")),
                                Path.of(System.getProperty("java.home")),
                                data,
                                List.of(BUCKET),
                                "tidemark",
                                "s3proxy-secret-1",
                                Duration.ofMinutes(1));
                Connection source = database.connect(names.database())) {
            // Flink's S3 file system, configured as a cluster's config.yaml would
            FileSystem.initialize(Configuration.fromMap(s3.flinkProperties()), null);
            PipelineConfig first = onS3(names, s3, 2);
            assertThat(first.checkpointDir()).startsWith("s3://");
            Catalog catalog = TestPipelines.catalog(first);
            ShopWorkload workload = new ShopWorkload(source, 61L);
            workload.createAndSeed(1_000, 2_000);
            JobClient job =
                    TestJobs.start(
                            first,
                            RunContext.start(names.pipelineId(), "s3-a"),
                            CommitListener.NONE,
                            null);
            String savepoint;
            try {
                workload.apply(500);
                GroundTruth.awaitEqual(
                        job, source, catalog, names.targets(), Duration.ofMinutes(3));
                // the job's completed checkpoints lie in the bucket while it runs (a stop with a
                // savepoint finishes the job, which discards them)
                assertThat(objects(data.resolve(BUCKET + "/checkpoints"), "_metadata"))
                        .isPositive();
                savepoint =
                        job.stopWithSavepoint(
                                        false,
                                        "s3://" + BUCKET + "/savepoints",
                                        SavepointFormatType.CANONICAL)
                                .get(2, TimeUnit.MINUTES);
            } catch (Exception e) {
                GroundTruth.cancel(job);
                throw e;
            }
            assertThat(savepoint).startsWith("s3://" + BUCKET + "/savepoints/");
            // what lies where: the tables, the checkpoints and the savepoint in the bucket
            for (TableIdentifier target : names.targets().values()) {
                assertThat(catalog.loadTable(target).location())
                        .startsWith("s3://" + BUCKET + "/warehouse/");
            }
            assertThat(objects(data.resolve(BUCKET + "/warehouse"), "metadata.json")).isPositive();
            assertThat(objects(data.resolve(BUCKET + "/savepoints"), "_metadata")).isEqualTo(1);

            // changes while stopped, then the next version restored from the savepoint on S3
            workload.apply(300);
            PipelineConfig next = onS3(names, s3, 1);
            JobClient upgraded =
                    restore(next, RunContext.start(names.pipelineId(), "s3-b"), savepoint);
            try {
                workload.apply(300);
                GroundTruth.awaitEqual(
                        upgraded, source, catalog, names.targets(), Duration.ofMinutes(3));
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, upgraded)).isEmpty();
            } finally {
                GroundTruth.cancel(upgraded);
                database.dropSlot(names.database(), names.slot());
            }
            for (TableIdentifier target : names.targets().values()) {
                Table table = catalog.loadTable(target);
                assertThat(table.currentSnapshot().summary())
                        .containsEntry(Provenance.RUN_ID, "s3-b");
            }

            readByTrino(s3, first, names, source);
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /** Trino over the same catalog and bucket: the source's rows, the pipeline's commits. */
    private static void readByTrino(
            S3Server s3, PipelineConfig config, Names names, Connection source) throws Exception {
        Map<String, String> catalog =
                TrinoServer.icebergJdbcCatalog(
                        config.catalogName(),
                        DATABASE.get().jdbcUrl("iceberg_catalog"),
                        EmbeddedDatabase.USER,
                        "",
                        config.catalogProperties().get("warehouse"));
        catalog.putAll(s3.trinoProperties());
        try (TrinoServer trino =
                TrinoServer.start(
                        Path.of(System.getProperty("tidemark.trino.home")),
                        TrinoServer.findJavaHome(),
                        DATABASE.dir().resolve("trino"),
                        catalog,
                        Duration.ofMinutes(3))) {
            String ns = names.namespace();
            try (Connection trinoConnection =
                    TrinoQueries.connectWhenScanning(trino, ns + ".customers")) {
                TrinoQueries.assertShopTablesEqual(trinoConnection, source, ns);
                assertThat(
                                TrinoQueries.query(
                                        trinoConnection,
                                        "SELECT DISTINCT element_at(summary, '"
                                                + Provenance.RUN_ID
                                                + "') FROM "
                                                + ns
                                                + ".\"orders$snapshots\""))
                        .contains(List.of("s3-a"), List.of("s3-b"));
            }
        }
    }

    /** The shop pipeline with its warehouse, checkpoints and savepoints in the bucket. */
    private static PipelineConfig onS3(Names names, S3Server s3, int parallelism) throws Exception {
        PipelineYaml pipeline =
                TestPipelines.shopPipeline(DATABASE.get(), DATABASE.dir(), names, parallelism)
                        .set("checkpoint.dir", "s3://" + BUCKET + "/checkpoints")
                        .set("checkpoint.savepoint-dir", "s3://" + BUCKET + "/savepoints")
                        .set("catalog.properties.warehouse", "s3://" + BUCKET + "/warehouse");
        s3.icebergProperties()
                .forEach((k, v) -> pipeline.set("catalog.properties." + k.replace(".", "\\."), v));
        String yaml = pipeline.text();
        Path file = DATABASE.dir().resolve("s3-pipeline-" + parallelism + ".yaml");
        Files.writeString(file, yaml);
        return new io.tidemark.config.PipelineConfigLoader().load(file);
    }

    private static JobClient restore(PipelineConfig config, RunContext run, String savepoint)
            throws Exception {
        Configuration flink = TidemarkJob.flinkConfiguration(config);
        TestPipelines.restartQuickly(flink);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        TidemarkJob.assemble(
                env, config, run, JobPreparation.prepare(config), SourceStage.cdc(config));
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName(config.jobName());
        graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(savepoint, false));
        JobClient job = env.executeAsync(graph);
        Awaitility.await("restored job running")
                .atMost(Duration.ofMinutes(1))
                .until(() -> job.getJobStatus().get().name().equals("RUNNING"));
        return job;
    }

    /**
     * Files under {@code dir} (objects of the S3 server's store) whose name ends with {@code
     * suffix}.
     */
    private static long objects(Path dir, String suffix) throws Exception {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(suffix)).count();
        }
    }
}
