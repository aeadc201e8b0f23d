package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.demo.EmbeddedMariaDb;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The value corpus on MariaDB (the binlog source): every value below is written once before the job
 * starts (its snapshot reads it) and once after (the binlog reads it), under a lax {@code sql_mode}
 * so that zero dates are legal, and each one's outcome is asserted: equal to the source as {@code
 * verify} reads it, or in the quarantine table with its reason, the same on both paths. The
 * README's table of outcomes lists these.
 */
class MariaDbValueCorpusITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    /** The Iceberg catalog's store. */
    @RegisterExtension static final SharedDatabase CATALOG = new SharedDatabase("iceberg_catalog");

    private static EmbeddedMariaDb mariadb;

    @BeforeAll
    static void startMariaDb() throws Exception {
        mariadb = EmbeddedMariaDb.start(CATALOG.dir().resolve("mariadb"));
        mariadb.createDatabase("corpus");
    }

    @AfterAll
    static void stopMariaDb() throws Exception {
        if (mariadb != null) {
            mariadb.close();
        }
    }

    /**
     * What must become of a value on each path (0 the snapshot, 1 the binlog): a null reason equal,
     * else the quarantine reason.
     */
    private record Value(String literal, String snapshotReason, String binlogReason) {

        String reason(int path) {
            return path == 0 ? snapshotReason : binlogReason;
        }
    }

    private static Value equal(String literal) {
        return new Value(literal, null, null);
    }

    private static Value quarantined(String literal, String reason) {
        return new Value(literal, reason, reason);
    }

    /** Quarantined when the snapshot reads it, equal when the binlog does. */
    private static Value quarantinedFromTheSnapshot(String literal, String reason) {
        return new Value(literal, reason, null);
    }

    /** Table name to (column type, values). */
    private static final Map<String, Map.Entry<String, List<Value>>> CORPUS = new LinkedHashMap<>();

    static {
        CORPUS.put(
                "dates",
                Map.entry(
                        "date",
                        List.of(
                                equal("'2024-02-29'"),
                                equal("'1582-10-10'"),
                                equal("'1582-10-04'"),
                                equal("'0001-01-01'"),
                                equal("'1000-01-01'"),
                                equal("'9999-12-31'"),
                                equal("'0000-00-00'"),
                                equal("NULL"))));
        CORPUS.put(
                "stamps",
                Map.entry(
                        "datetime(6)",
                        List.of(
                                equal("'0001-01-01 00:00:00'"),
                                equal("'9999-12-31 23:59:59.999999'"),
                                equal("'1582-09-24 12:00:00.000001'"),
                                // java.sql.Timestamp has no 1582-10-05 to 10-14: the snapshot
                                // cannot tell this value from ten days later
                                quarantinedFromTheSnapshot(
                                        "'1582-10-10 12:00:00.000001'", "NOT_REPRESENTABLE"),
                                quarantinedFromTheSnapshot(
                                        "'1582-10-20 12:00:00'", "NOT_REPRESENTABLE"),
                                equal("'1582-10-25 00:00:00'"),
                                equal("'2024-06-01 12:00:00.123456'"),
                                equal("'0000-00-00 00:00:00'"))));
        CORPUS.put(
                "zoned",
                Map.entry(
                        "timestamp(6) NULL",
                        List.of(
                                equal("'1970-01-01 00:00:01'"),
                                equal("'2038-01-19 03:14:07.999999'"),
                                equal("'2024-06-01 12:00:00.123456'"))));
        CORPUS.put(
                "times",
                Map.entry(
                        "time(6)",
                        List.of(
                                equal("'10:00:00.123456'"),
                                equal("'00:00:00'"),
                                equal("'23:59:59.999999'"),
                                // MySQL's TIME is a duration: beyond a day, no Iceberg time
                                quarantined("'838:59:59'", "NOT_REPRESENTABLE"),
                                // (not '-00:00:01': Debezium 1.9's snapshot reads a
                                // negative TIME under an hour as positive, see the README)
                                quarantined("'-01:00:01'", "NOT_REPRESENTABLE"))));
        CORPUS.put(
                "numbers",
                Map.entry(
                        "decimal(12,2)",
                        List.of(
                                equal("1.50"),
                                equal("9999999999.99"),
                                equal("-0.01"),
                                equal("0"),
                                equal("NULL"))));
        CORPUS.put(
                "floats",
                Map.entry(
                        "double",
                        List.of(equal("1e308"), equal("4.9e-324"), equal("-1.5"), equal("0"))));
        CORPUS.put(
                "texts",
                Map.entry(
                        "text",
                        List.of(
                                equal("''"),
                                equal("NULL"),
                                equal("'line\\nbreak\\ttab'"),
                                equal("'emoji \uD83D\uDE00 quote '' backslash \\\\'"))));
        CORPUS.put(
                "uuids",
                Map.entry(
                        "char(36)",
                        List.of(equal("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"), equal("NULL"))));
    }

    @Test
    void everyValueEndsEqualOrQuarantinedWithItsReasonOnBothPaths() throws Exception {
        try (Connection source = mariadb.connect("corpus");
                Statement sql = source.createStatement()) {
            // zero dates are legal under a lax sql_mode, as in many old schemas
            sql.execute("SET SESSION sql_mode = ''");
            for (Map.Entry<String, Map.Entry<String, List<Value>>> table : CORPUS.entrySet()) {
                sql.execute(
                        "CREATE TABLE corpus."
                                + table.getKey()
                                + " (id int PRIMARY KEY, v "
                                + table.getValue().getKey()
                                + ") DEFAULT CHARSET utf8mb4");
                insert(sql, table.getKey(), table.getValue().getValue(), 0);
            }
            PipelineConfig config = TableDiscovery.resolve(pipeline());
            JobClient job = TestJobs.start(config);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                TableIdentifier[] targets =
                        CORPUS.keySet().stream()
                                .map(t -> TableIdentifier.of("mcorpus", t))
                                .toArray(TableIdentifier[]::new);
                GroundTruth.awaitFirstCommit(job, catalog, targets);
                for (Map.Entry<String, Map.Entry<String, List<Value>>> table : CORPUS.entrySet()) {
                    // the same values again, now through the binlog
                    insert(sql, table.getKey(), table.getValue().getValue(), 1);
                }
                Map<String, TableIdentifier> views = new TreeMap<>();
                Map<String, List<String>> expectedQuarantine = new TreeMap<>();
                for (Map.Entry<String, Map.Entry<String, List<Value>>> table : CORPUS.entrySet()) {
                    List<Integer> held = new ArrayList<>();
                    List<Value> values = table.getValue().getValue();
                    for (int i = 0; i < values.size(); i++) {
                        for (int path = 0; path < 2; path++) {
                            if (values.get(i).reason(path) != null) {
                                held.add(2 * i + path);
                                expectedQuarantine
                                        .computeIfAbsent(table.getKey(), t -> new ArrayList<>())
                                        .add((2 * i + path) + " " + values.get(i).reason(path));
                            }
                        }
                    }
                    String view = "corpus." + table.getKey() + "_equal";
                    sql.execute(
                            "CREATE VIEW "
                                    + view
                                    + " AS SELECT * FROM corpus."
                                    + table.getKey()
                                    + (held.isEmpty()
                                            ? ""
                                            : " WHERE id NOT IN ("
                                                    + String.join(
                                                            ",",
                                                            held.stream()
                                                                    .map(String::valueOf)
                                                                    .toList())
                                                    + ")"));
                    views.put(view, TableIdentifier.of("mcorpus", table.getKey()));
                }
                try (Connection verifier =
                        java.sql.DriverManager.getConnection(
                                config.source().jdbcUrl(),
                                config.source().username(),
                                config.source().password())) {
                    // read as verify reads the source (zero dates as null)
                    GroundTruth.awaitEqual(job, verifier, catalog, views, Duration.ofMinutes(2));
                }
                Awaitility.await("the quarantined values")
                        .atMost(Duration.ofMinutes(2))
                        .untilAsserted(
                                () ->
                                        assertThat(quarantined(catalog))
                                                .isEqualTo(expectedQuarantine));
            } finally {
                GroundTruth.cancel(job);
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    private static PipelineConfig pipeline() {
        String yaml =
                String.join(
                        "\n",
                        "pipeline: {id: mcorpus-it, parallelism: 2}",
                        "checkpoint: {interval: 1s, dir: '"
                                + CATALOG.dir().resolve("checkpoints-mcorpus").toUri()
                                + "'}",
                        "source: {type: mysql, hostname: 127.0.0.1, port: "
                                + mariadb.port()
                                + ", database: corpus, username: "
                                + EmbeddedMariaDb.CDC_USER
                                + ", password: "
                                + EmbeddedMariaDb.CDC_PASSWORD
                                + "}",
                        "catalog: {type: jdbc, properties: {uri: '"
                                + CATALOG.get().jdbcUrl("iceberg_catalog")
                                + "', jdbc.user: postgres, jdbc.schema-version: V1, warehouse: '"
                                + CATALOG.dir().resolve("warehouse").toUri()
                                + "'}}",
                        "tables: [{source: corpus.*, target: mcorpus.*}]");
        return new PipelineConfigLoader().parse(yaml, "mcorpus.yaml");
    }

    /** Value i of {@code values} as row 2i + path. */
    private static void insert(Statement sql, String table, List<Value> values, int path)
            throws Exception {
        for (int i = 0; i < values.size(); i++) {
            sql.execute(
                    "INSERT INTO corpus."
                            + table
                            + " VALUES ("
                            + (2 * i + path)
                            + ", "
                            + values.get(i).literal()
                            + ")");
        }
    }

    /** Per table, "id reason" of each quarantined row (none: an empty map). */
    private static Map<String, List<String>> quarantined(Catalog catalog) throws Exception {
        TableIdentifier unrouted = QuarantineTable.unrouted(TableIdentifier.of("mcorpus", "dates"));
        Map<String, List<String>> rows = new TreeMap<>();
        if (!catalog.tableExists(unrouted)) {
            return rows;
        }
        Table quarantine = catalog.loadTable(unrouted);
        quarantine.refresh();
        try (CloseableIterable<Record> records = IcebergGenerics.read(quarantine).build()) {
            for (Record record : records) {
                String table = String.valueOf(record.getField("source_table")).substring(7);
                String key = String.valueOf(record.getField("key"));
                rows.computeIfAbsent(table, t -> new ArrayList<>())
                        .add(key.replaceAll("[\\[\\]]", "") + " " + record.getField("reasons"));
            }
        }
        rows.values().forEach(l -> l.sort(null));
        return rows;
    }
}
