package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.deploy.FlinkCluster;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.CliOutput;
import io.tidemark.testing.ClusterJobs;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.iceberg.catalog.Catalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The source database's password never reaches a log line or a printed configuration: a pipeline
 * with a password runs on the standalone cluster (its JVMs log with {@link
 * FlinkCluster#LOG_CONFIGURATION}, the file the Docker image and the FlinkDeployment ship), and
 * every line of the JobManager's and TaskManager's logs and of {@code run --print-config} is
 * searched for it. Flink CDC logs the source's whole Debezium configuration at INFO; the test also
 * checks that this line was written (masked), so it has teeth.
 */
class SecretsITCase {

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    /** The embedded server trusts loopback, so any password is accepted; this one must not leak. */
    private static final String PASSWORD = "tidemark-s3cret-7f3a";

    private static final String CATALOG_PASSWORD = "catalog-s3cret-91bd";

    private static final String URI_PASSWORD = "uri-s3cret-5c2e";

    @Test
    void thePasswordAppearsInNoLogLineAndNoPrintedConfig() throws Exception {
        Names names = new Names("secrets-it", "secrets_src", "secrets_slot", "secrets_it");
        DATABASE.get().createDatabase(names.database());
        // the source's password, the catalog's, and one inside the catalog's URI
        PipelineYaml pipeline =
                TestPipelines.shopPipeline(DATABASE.get(), DATABASE.dir(), names, 1)
                        .set("source.password", PASSWORD)
                        .set("catalog.properties.jdbc\\.password", CATALOG_PASSWORD);
        String yaml =
                pipeline.set(
                                "catalog.properties.uri",
                                pipeline.get("catalog.properties.uri")
                                        + "?password="
                                        + URI_PASSWORD)
                        .text();
        assertThat(yaml).contains(PASSWORD).contains(CATALOG_PASSWORD).contains(URI_PASSWORD);
        Path file = DATABASE.dir().resolve("secrets.yaml");
        Files.writeString(file, yaml);

        CliOutput printed = CliOutput.run("run", "--config", file.toString(), "--print-config");
        assertThat(printed.exitCode()).isZero();
        assertThat(printed.out())
                .contains("password: ***")
                .contains("iceberg_catalog?password=***")
                .doesNotContain(PASSWORD)
                .doesNotContain(CATALOG_PASSWORD)
                .doesNotContain(URI_PASSWORD);

        Catalog catalog =
                TestPipelines.catalog(TestPipelines.shop(DATABASE.get(), DATABASE.dir(), names, 1));
        Path logs;
        try (Connection source = DATABASE.get().connect(names.database());
                FlinkCluster cluster = ClusterJobs.start(DATABASE.dir().resolve("flink"))) {
            logs = cluster.workDir().resolve("log");
            new ShopWorkload(source, 53L).createAndSeed(200, 300);
            String jar = ClusterJobs.uploadJobJar(cluster);
            String job = ClusterJobs.run(cluster, jar, file, "secrets-run", null);
            try {
                GroundTruth.awaitEqual(
                        ClusterJobs.running(cluster, job),
                        source,
                        catalog,
                        names.targets(),
                        Duration.ofMinutes(3));
            } finally {
                ClusterJobs.cancel(cluster, job);
                DATABASE.get().dropSlot(names.database(), names.slot());
            }
            List<String> leaks = new ArrayList<>();
            long masked = 0;
            try (Stream<Path> files = Files.list(logs)) {
                for (Path log : files.toList()) {
                    for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                        if (line.contains(PASSWORD)
                                || line.contains(CATALOG_PASSWORD)
                                || line.contains(URI_PASSWORD)) {
                            leaks.add(log.getFileName() + ": " + line);
                        }
                        if (line.contains("database.password=****")) {
                            masked++;
                        }
                    }
                }
            }
            assertThat(leaks).as("log lines holding the password").isEmpty();
            assertThat(masked)
                    .as("Flink CDC's configuration line, with the password masked")
                    .isPositive();
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }
}
