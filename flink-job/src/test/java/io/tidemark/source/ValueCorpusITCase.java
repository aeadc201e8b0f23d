package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.config.PipelineConfig;
import io.tidemark.job.TidemarkJob;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The value corpus on PostgreSQL: every value below is written once before the job starts (its
 * snapshot reads it) and once after (its log reads it), and each one's outcome is asserted: equal
 * to the source in Iceberg, or in the quarantine table with its reason, never a different value and
 * never a different outcome on the two paths. The README's table of outcomes is this list.
 */
class ValueCorpusITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("corpus", "iceberg_catalog");

    /** What must become of a value: {@code null} equal, else the quarantine reason. */
    private record Value(String literal, String reason) {}

    private static Value equal(String literal) {
        return new Value(literal, null);
    }

    private static Value quarantined(String literal, String reason) {
        return new Value(literal, reason);
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
                                equal("'0044-03-15 BC'"),
                                equal("'1582-10-10'"),
                                equal("'1582-10-04'"),
                                equal("'1582-10-15'"),
                                equal("'0001-01-01'"),
                                equal("'9999-12-31'"),
                                quarantined("'infinity'", "NOT_REPRESENTABLE"),
                                quarantined("'-infinity'", "NOT_REPRESENTABLE"))));
        CORPUS.put(
                "stamps",
                Map.entry(
                        "timestamp",
                        List.of(
                                equal("'0001-01-01 00:00:00'"),
                                equal("'9999-12-31 23:59:59.999999'"),
                                equal("'0044-03-15 10:00:00 BC'"),
                                equal("'1582-10-10 12:00:00.000001'"),
                                quarantined("'infinity'", "NOT_REPRESENTABLE"),
                                quarantined("'-infinity'", "NOT_REPRESENTABLE"))));
        CORPUS.put(
                "zoned",
                Map.entry(
                        "timestamptz",
                        List.of(
                                equal("'0001-01-01 00:00:00+00'"),
                                equal("'2024-06-01 12:00:00.123456+02'"),
                                equal("'1582-10-10 12:00:00+00'"),
                                quarantined("'infinity'", "NOT_REPRESENTABLE"),
                                quarantined("'-infinity'", "NOT_REPRESENTABLE"))));
        CORPUS.put(
                "numbers",
                Map.entry(
                        "numeric(12,2)",
                        List.of(
                                equal("1.50"),
                                equal("9999999999.99"),
                                equal("-0.01"),
                                equal("0"),
                                equal("NULL"),
                                quarantined("'NaN'", "NOT_REPRESENTABLE"))));
        CORPUS.put(
                "floats",
                Map.entry(
                        "double precision",
                        List.of(
                                equal("'NaN'"),
                                equal("'Infinity'"),
                                equal("'-Infinity'"),
                                equal("1e308"),
                                equal("4.9e-324"))));
        CORPUS.put(
                "texts",
                Map.entry(
                        "text",
                        List.of(
                                equal("''"),
                                equal("NULL"),
                                equal("E'line\\nbreak\\ttab'"),
                                equal("'emoji \\uD83D\\uDE00 quote '' backslash \\\\'"))));
        CORPUS.put(
                "uuids",
                Map.entry(
                        "uuid",
                        List.of(equal("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"), equal("NULL"))));
    }

    @Test
    void everyValueEndsEqualOrQuarantinedWithItsReasonOnBothPaths() throws Exception {
        try (Connection source = DATABASE.get().connect("corpus");
                Statement sql = source.createStatement()) {
            for (Map.Entry<String, Map.Entry<String, List<Value>>> table : CORPUS.entrySet()) {
                sql.execute(
                        "CREATE TABLE public."
                                + table.getKey()
                                + " (id integer PRIMARY KEY, v "
                                + table.getValue().getKey()
                                + ")");
                sql.execute("ALTER TABLE public." + table.getKey() + " REPLICA IDENTITY FULL");
                insert(sql, table.getKey(), table.getValue().getValue(), 0);
            }
            // a numeric key keeps Debezium's decimals: Flink CDC splits chunks by it
            sql.execute(
                    "CREATE TABLE public.numkey (id numeric(10,0) PRIMARY KEY, v numeric(6,3))");
            sql.execute(
                    "INSERT INTO public.numkey SELECT g, g / 7.0 FROM generate_series(1, 20) g");
            PipelineConfig config =
                    TableDiscovery.resolve(
                            TestPipelines.fromResource(
                                    "corpus.yaml", DATABASE.get(), DATABASE.dir(), "corpus-it"));
            JobClient job = TestJobs.start(config);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                TableIdentifier[] targets =
                        CORPUS.keySet().stream()
                                .map(t -> TableIdentifier.of("corpus", t))
                                .toArray(TableIdentifier[]::new);
                GroundTruth.awaitFirstCommit(job, catalog, targets);
                for (Map.Entry<String, Map.Entry<String, List<Value>>> table : CORPUS.entrySet()) {
                    // the same values again, now through the log
                    insert(sql, table.getKey(), table.getValue().getValue(), 1);
                }
                sql.execute(
                        "INSERT INTO public.numkey SELECT g, g / 7.0 FROM generate_series(21, 30) g");
                sql.execute("UPDATE public.numkey SET v = 0.5 WHERE id = 3");
                // an update away from infinity applies (the old row's value is not needed)
                sql.execute("UPDATE public.dates SET v = '2020-01-01' WHERE id = " + INFINITE_DATE);
                // the values expected equal: the source without the quarantined ones
                Map<String, TableIdentifier> views = new TreeMap<>();
                Map<String, List<String>> expectedQuarantine = new TreeMap<>();
                for (Map.Entry<String, Map.Entry<String, List<Value>>> table : CORPUS.entrySet()) {
                    List<Integer> held = new ArrayList<>();
                    List<Value> values = table.getValue().getValue();
                    for (int i = 0; i < values.size(); i++) {
                        if (values.get(i).reason() != null) {
                            if (!(table.getKey().equals("dates") && 2 * i == INFINITE_DATE)) {
                                held.add(2 * i);
                            }
                            held.add(2 * i + 1);
                            for (int path = 0; path < 2; path++) {
                                expectedQuarantine
                                        .computeIfAbsent(table.getKey(), t -> new ArrayList<>())
                                        .add((2 * i + path) + " " + values.get(i).reason());
                            }
                        }
                    }
                    String view = "public." + table.getKey() + "_equal";
                    sql.execute(
                            "CREATE VIEW "
                                    + view
                                    + " AS SELECT * FROM public."
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
                    views.put(view, TableIdentifier.of("corpus", table.getKey()));
                }
                views.put("public.numkey", TableIdentifier.of("corpus", "numkey"));
                expectedQuarantine.values().forEach(l -> l.sort(null));
                GroundTruth.awaitEqual(job, source, catalog, views, Duration.ofMinutes(2));
                Awaitility.await("the quarantined values")
                        .atMost(Duration.ofMinutes(2))
                        .untilAsserted(
                                () ->
                                        assertThat(quarantined(catalog))
                                                .isEqualTo(expectedQuarantine));
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("corpus", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    @Test
    void aDeclaredPrimaryKeyMustBeAKeyOfTheSourceTable() throws Exception {
        try (Connection source = DATABASE.get().connect("corpus");
                Statement sql = source.createStatement()) {
            // no unique index, a nullable column: duplicates would merge, nulls could not delete
            sql.execute("CREATE SCHEMA keys");
            sql.execute("CREATE TABLE keys.loose (code text, v text)");
            sql.execute("ALTER TABLE keys.loose REPLICA IDENTITY FULL");
            // a unique constraint over the declared column, not null: a key
            sql.execute("CREATE TABLE keys.tight (code text NOT NULL UNIQUE, v text)");
            sql.execute("ALTER TABLE keys.tight REPLICA IDENTITY FULL");

            assertThatThrownBy(() -> TidemarkJob.prepare(declaredKey("loose")))
                    .hasMessageContaining("declared primary-key [code] is not a key")
                    .hasMessageContaining("ALTER TABLE keys.loose ALTER COLUMN code SET NOT NULL")
                    .hasMessageContaining(
                            "ALTER TABLE keys.loose ADD CONSTRAINT loose_tidemark_key UNIQUE (code)");
            assertThat(TidemarkJob.prepare(declaredKey("tight")))
                    .singleElement()
                    .satisfies(t -> assertThat(t.primaryKey()).containsExactly("code"));
        }
    }

    private static PipelineConfig declaredKey(String table) throws Exception {
        String yaml;
        try (java.io.InputStream in =
                ValueCorpusITCase.class.getResourceAsStream("/pipelines/declared-key.yaml")) {
            yaml = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        return TestPipelines.fromText(
                yaml.replace("@table@", table), DATABASE.get(), DATABASE.dir(), "key-" + table);
    }

    /** The snapshot's row of date 'infinity', updated to a finite date through the log. */
    private static final int INFINITE_DATE = 14;

    /** Value i of {@code values} as row 2i + path. */
    private static void insert(Statement sql, String table, List<Value> values, int path)
            throws Exception {
        for (int i = 0; i < values.size(); i++) {
            sql.execute(
                    "INSERT INTO public."
                            + table
                            + " VALUES ("
                            + (2 * i + path)
                            + ", "
                            + values.get(i).literal()
                            + ")");
        }
    }

    /** Per table, "id reason" of each quarantined row. */
    private static Map<String, List<String>> quarantined(Catalog catalog) throws Exception {
        Table quarantine =
                catalog.loadTable(QuarantineTable.unrouted(TableIdentifier.of("corpus", "dates")));
        quarantine.refresh();
        Map<String, List<String>> rows = new TreeMap<>();
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
