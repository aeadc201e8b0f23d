package io.tidemark.source;

import static io.tidemark.testing.ValueCorpus.equal;
import static io.tidemark.testing.ValueCorpus.quarantined;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.config.PipelineConfig;
import io.tidemark.job.JobPreparation;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.ValueCorpus;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The value corpus on PostgreSQL: every value below is written once before the job starts (its
 * snapshot reads it) and once after (its log reads it), and each one's outcome is asserted: equal
 * to the source in Iceberg, or in the quarantine table with its reason, never a different value and
 * never a different outcome on the two paths. The table of outcomes in docs/sources.md is this
 * list.
 */
class ValueCorpusITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("corpus", "iceberg_catalog");

    /** The snapshot's row of date 'infinity', updated to a finite date through the log. */
    private static final int INFINITE_DATE = 14;

    private static final ValueCorpus CORPUS =
            new ValueCorpus("public", "corpus")
                    .table(
                            "dates",
                            "date",
                            equal("'2024-02-29'"),
                            equal("'0044-03-15 BC'"),
                            equal("'1582-10-10'"),
                            equal("'1582-10-04'"),
                            equal("'1582-10-15'"),
                            equal("'0001-01-01'"),
                            equal("'9999-12-31'"),
                            quarantined("'infinity'", "NOT_REPRESENTABLE"),
                            quarantined("'-infinity'", "NOT_REPRESENTABLE"))
                    .table(
                            "stamps",
                            "timestamp",
                            equal("'0001-01-01 00:00:00'"),
                            equal("'9999-12-31 23:59:59.999999'"),
                            equal("'0044-03-15 10:00:00 BC'"),
                            equal("'1582-10-10 12:00:00.000001'"),
                            quarantined("'infinity'", "NOT_REPRESENTABLE"),
                            quarantined("'-infinity'", "NOT_REPRESENTABLE"))
                    .table(
                            "zoned",
                            "timestamptz",
                            equal("'0001-01-01 00:00:00+00'"),
                            equal("'2024-06-01 12:00:00.123456+02'"),
                            equal("'1582-10-10 12:00:00+00'"),
                            quarantined("'infinity'", "NOT_REPRESENTABLE"),
                            quarantined("'-infinity'", "NOT_REPRESENTABLE"))
                    .table(
                            "numbers",
                            "numeric(12,2)",
                            equal("1.50"),
                            equal("9999999999.99"),
                            equal("-0.01"),
                            equal("0"),
                            equal("NULL"),
                            quarantined("'NaN'", "NOT_REPRESENTABLE"))
                    .table(
                            "floats",
                            "double precision",
                            equal("'NaN'"),
                            equal("'Infinity'"),
                            equal("'-Infinity'"),
                            equal("1e308"),
                            equal("4.9e-324"))
                    .table(
                            "texts",
                            "text",
                            equal("''"),
                            equal("NULL"),
                            equal("E'line\\nbreak\\ttab'"),
                            equal("'emoji \\uD83D\\uDE00 quote '' backslash \\\\'"))
                    .table(
                            "uuids",
                            "uuid",
                            equal("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
                            equal("NULL"));

    @Test
    void everyValueEndsEqualOrQuarantinedWithItsReasonOnBothPaths() throws Exception {
        try (Connection source = DATABASE.get().connect("corpus");
                Statement sql = source.createStatement()) {
            CORPUS.create(sql, "");
            for (String table : CORPUS.sourceTables()) {
                sql.execute("ALTER TABLE " + table + " REPLICA IDENTITY FULL");
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
                GroundTruth.awaitFirstCommit(job, catalog, CORPUS.targets());
                // the same values again, now through the log
                CORPUS.write(sql, 1);
                sql.execute(
                        "INSERT INTO public.numkey SELECT g, g / 7.0 FROM generate_series(21, 30) g");
                sql.execute("UPDATE public.numkey SET v = 0.5 WHERE id = 3");
                // an update away from infinity applies (the old row's value is not needed)
                sql.execute("UPDATE public.dates SET v = '2020-01-01' WHERE id = " + INFINITE_DATE);
                // the values expected equal: the source without the quarantined ones
                Map<String, TableIdentifier> views =
                        CORPUS.equalViews(sql, Set.of("dates " + INFINITE_DATE));
                views.put("public.numkey", TableIdentifier.of("corpus", "numkey"));
                GroundTruth.awaitEqual(job, source, catalog, views, Duration.ofMinutes(2));
                CORPUS.awaitQuarantine(catalog);
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

            assertThatThrownBy(() -> JobPreparation.prepare(declaredKey("loose")))
                    .hasMessageContaining("declared primary-key [code] is not a key")
                    .hasMessageContaining("ALTER TABLE keys.loose ALTER COLUMN code SET NOT NULL")
                    .hasMessageContaining(
                            "ALTER TABLE keys.loose ADD CONSTRAINT loose_tidemark_key UNIQUE (code)");
            assertThat(JobPreparation.prepare(declaredKey("tight")))
                    .singleElement()
                    .satisfies(t -> assertThat(t.primaryKey()).containsExactly("code"));
        }
    }

    @Test
    void aUuidContractColumnIsAnIcebergUuidEqualToTheSourceInEveryNotationPostgresReads()
            throws Exception {
        try (Connection source = DATABASE.get().connect("corpus");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE SCHEMA contracted");
            // uuids held as text: the notations PostgreSQL's uuid input reads, one it does not
            sql.execute("CREATE TABLE contracted.tokens (id integer PRIMARY KEY, token text)");
            sql.execute(
                    "INSERT INTO contracted.tokens VALUES (1,"
                            + " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), (2,"
                            + " 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12'), (3,"
                            + " '{a0eebc999c0b4ef8bb6d6bb9bd380a13}'), (4, NULL)");
            PipelineConfig uuid = contracted(1);
            TableIdentifier target = TableIdentifier.of("contracted", "tokens");
            JobClient job = TestJobs.start(uuid);
            Catalog catalog = TestPipelines.catalog(uuid);
            try {
                GroundTruth.awaitFirstCommit(job, catalog, target);
                // and through the log: inserted, updated, deleted, and a text that is no uuid
                sql.execute(
                        "INSERT INTO contracted.tokens VALUES (5,"
                                + " 'a0eebc999c0b4ef8bb6d6bb9bd380a15'), (6, '1-2-3-4-5')");
                sql.execute(
                        "UPDATE contracted.tokens SET token ="
                                + " '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A22}' WHERE id = 2");
                sql.execute("DELETE FROM contracted.tokens WHERE id = 3");
                sql.execute(
                        "CREATE VIEW contracted.tokens_equal AS SELECT * FROM contracted.tokens"
                                + " WHERE id <> 6");
                GroundTruth.awaitEqual(
                        job,
                        source,
                        catalog,
                        Map.of("contracted.tokens_equal", target),
                        Duration.ofMinutes(2));
                Table table = catalog.loadTable(target);
                assertThat(table.schema().findType("token")).isEqualTo(Types.UUIDType.get());
                Map<Object, Object> tokens = new java.util.HashMap<>();
                try (org.apache.iceberg.io.CloseableIterable<Record> rows =
                        IcebergGenerics.read(table).build()) {
                    rows.forEach(row -> tokens.put(row.getField("id"), row.getField("token")));
                }
                // Iceberg's own reader reads what Flink's Parquet writer wrote as the same uuids
                assertThat(tokens)
                        .containsEntry(
                                1,
                                java.util.UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
                        .containsEntry(
                                2,
                                java.util.UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a22"))
                        .containsEntry(
                                5,
                                java.util.UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a15"))
                        .containsEntry(4, null)
                        .doesNotContainKeys(3, 6);
                Table quarantine = catalog.loadTable(io.tidemark.sink.QuarantineTable.of(target));
                List<String> held = new java.util.ArrayList<>();
                try (org.apache.iceberg.io.CloseableIterable<Record> rows =
                        IcebergGenerics.read(quarantine).build()) {
                    rows.forEach(
                            row -> held.add(row.getField("key") + " " + row.getField("reasons")));
                }
                assertThat(held).singleElement().asString().startsWith("[6] ");
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("corpus", uuid.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    /** The table under contract {@code version}, or without a contract (0). */
    private static PipelineConfig contracted(int version) throws Exception {
        String yaml = TestPipelines.resource("uuid-contract.yaml");
        return TestPipelines.fromText(
                version == 0
                        ? yaml.replace("    contract: @version@\n", "")
                        : yaml.replace("@version@", Integer.toString(version)),
                DATABASE.get(),
                DATABASE.dir(),
                "contracted-v" + version);
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
}
