package io.tidemark.testing;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testbed.ShopWorkload;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Pipeline files of the integration tests: the shop workload's two tables from one embedded
 * database into one Iceberg namespace of the JDBC catalog in database {@code iceberg_catalog}.
 */
public final class TestPipelines {

    private TestPipelines() {}

    /** One pipeline's names: its id, source database, replication slot and Iceberg namespace. */
    public record Names(String pipelineId, String database, String slot, String namespace) {

        /** The source table to Iceberg table pairs the ground-truth diff compares. */
        public Map<String, TableIdentifier> targets() {
            return targets(ShopWorkload.CUSTOMERS, ShopWorkload.ORDERS);
        }

        /** The pairs of a workload whose tables have other names (a MySQL database). */
        public Map<String, TableIdentifier> targets(ShopWorkload workload) {
            return targets(workload.customersTable(), workload.ordersTable());
        }

        private Map<String, TableIdentifier> targets(String customers, String orders) {
            Map<String, TableIdentifier> targets = new LinkedHashMap<>();
            targets.put(customers, TableIdentifier.of(namespace, "customers"));
            targets.put(orders, TableIdentifier.of(namespace, "orders"));
            return targets;
        }
    }

    /** The shop pipeline with 1 s checkpoints and 500-row snapshot chunks. */
    public static PipelineConfig shop(
            EmbeddedDatabase database, Path dir, Names names, int parallelism) {
        return shopPipeline(database, database, dir, names, parallelism).config();
    }

    /** The file of {@link #shop}, to change before use. */
    public static PipelineYaml shopPipeline(
            EmbeddedDatabase database, Path dir, Names names, int parallelism) {
        return shopPipeline(database, database, dir, names, parallelism);
    }

    /**
     * The shop pipeline from {@code source} with the Iceberg catalog in another server, {@code
     * catalog}: the source server's WAL then holds the source's changes only.
     */
    public static PipelineConfig shop(
            EmbeddedDatabase source,
            EmbeddedDatabase catalog,
            Path dir,
            Names names,
            int parallelism) {
        return shopPipeline(source, catalog, dir, names, parallelism).config();
    }

    private static PipelineYaml shopPipeline(
            EmbeddedDatabase source,
            EmbeddedDatabase catalog,
            Path dir,
            Names names,
            int parallelism) {
        return shopTables(
                PipelineYaml.postgres(source, catalog, names.database(), dir, names.pipelineId())
                        .set("source.slot.name", names.slot()),
                names,
                parallelism,
                ShopWorkload.CUSTOMERS,
                ShopWorkload.ORDERS);
    }

    /**
     * The shop pipeline on MariaDB database {@code names.database()} (its tables {@code
     * <database>.customers} and {@code <database>.orders}), catalog in {@code catalogDatabase}.
     */
    public static PipelineConfig shopMySql(
            EmbeddedMariaDb mariadb,
            EmbeddedDatabase catalogDatabase,
            Path dir,
            Names names,
            int parallelism) {
        return shopMySql(
                mariadb.port(),
                EmbeddedMariaDb.CDC_USER,
                EmbeddedMariaDb.CDC_PASSWORD,
                catalogDatabase,
                dir,
                names,
                parallelism);
    }

    /** The shop pipeline on any MySQL-family server on 127.0.0.1:{@code port}. */
    public static PipelineConfig shopMySql(
            int port,
            String user,
            String password,
            EmbeddedDatabase catalogDatabase,
            Path dir,
            Names names,
            int parallelism) {
        return shopMySqlPipeline(port, user, password, catalogDatabase, dir, names, parallelism)
                .config();
    }

    /** {@link #shopMySql} as the pipeline file, for commands that read one. */
    public static PipelineYaml shopMySqlPipeline(
            int port,
            String user,
            String password,
            EmbeddedDatabase catalogDatabase,
            Path dir,
            Names names,
            int parallelism) {
        return shopTables(
                PipelineYaml.mysql(
                        port,
                        user,
                        password,
                        names.database(),
                        catalogDatabase,
                        dir,
                        names.pipelineId()),
                names,
                parallelism,
                names.database() + ".customers",
                names.database() + ".orders");
    }

    private static PipelineYaml shopTables(
            PipelineYaml yaml, Names names, int parallelism, String customers, String orders) {
        return yaml.set("pipeline.parallelism", parallelism)
                .set("source.scan.incremental.snapshot.chunk.size", 500)
                .table(customers, names.namespace() + ".customers")
                .table(orders, names.namespace() + ".orders");
    }

    /**
     * The pipeline file {@code src/test/resources/pipelines/<file>} for a source database on {@code
     * database} (whose {@code iceberg_catalog} database holds the catalog), with what it marks
     * filled in: {@code @id@} the pipeline id, {@code @slot@} its slot, {@code @port@},
     * {@code @catalog@}, {@code @checkpoints@} and {@code @warehouse@} (under {@code dir}), and
     * {@code @contracts@} the test contracts ({@code src/test/resources/contracts}).
     */
    public static PipelineConfig fromResource(
            String file, EmbeddedDatabase database, Path dir, String id) throws IOException {
        return fromText(resource(file), database, dir, id);
    }

    /** The text of the test pipeline file {@code src/test/resources/pipelines/<file>}. */
    public static String resource(String file) throws IOException {
        try (InputStream in = TestPipelines.class.getResourceAsStream("/pipelines/" + file)) {
            if (in == null) {
                throw new IllegalArgumentException("no test pipeline file " + file);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /**
     * The pipeline file {@code src/test/resources/pipelines/<file>} with its marks filled in as
     * {@link #fromResource} fills them, written to {@code dir} for commands that read a file.
     */
    public static Path writeResource(String file, EmbeddedDatabase database, Path dir, String id)
            throws IOException {
        return writeText(resource(file), database, dir, id);
    }

    /** As {@link #writeResource}, from the text of a pipeline file with the same marks. */
    public static Path writeText(String yaml, EmbeddedDatabase database, Path dir, String id)
            throws IOException {
        Path written = dir.resolve(id + ".yaml");
        java.nio.file.Files.writeString(written, filled(yaml, database, dir, id));
        return written;
    }

    /** As {@link #fromResource}, from the text of a pipeline file with the same marks. */
    public static PipelineConfig fromText(
            String yaml, EmbeddedDatabase database, Path dir, String id) {
        return new PipelineConfigLoader().parse(filled(yaml, database, dir, id), id + ".yaml");
    }

    /** The text {@code yaml} with its marks filled in as {@link #fromResource} fills them. */
    static String filled(String yaml, EmbeddedDatabase database, Path dir, String id) {
        return yaml.replace("@id@", id)
                .replace("@slot@", id.replace('-', '_'))
                .replace("@port@", Integer.toString(database.port()))
                .replace("@catalog@", database.jdbcUrl("iceberg_catalog"))
                .replace("@checkpoints@", dir.resolve("checkpoints-" + id).toUri().toString())
                .replace("@warehouse@", dir.resolve("warehouse").toUri().toString())
                .replace("@contracts@", contracts().toString());
    }

    private static Path contracts() {
        try {
            return Path.of(TestPipelines.class.getResource("/contracts").toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The test's own view of a pipeline's Iceberg catalog; close it after use. */
    public static org.apache.iceberg.catalog.Catalog catalog(PipelineConfig config) {
        return io.tidemark.catalog.Catalogs.load(
                config.catalogName(),
                config.catalogProperties(),
                new org.apache.hadoop.conf.Configuration());
    }

    /** Restarts a failed job quickly, many times: the failover tests' restart strategy. */
    public static void restartQuickly(Configuration flink) {
        flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 100);
        flink.set(
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(300));
    }
}
