package io.tidemark.source;

import static io.tidemark.testing.ValueCorpus.equal;
import static io.tidemark.testing.ValueCorpus.quarantined;
import static io.tidemark.testing.ValueCorpus.quarantinedFromTheSnapshot;
import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.SharedMariaDb;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.ValueCorpus;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The value corpus on MariaDB (the binlog source): every value below is written once before the job
 * starts (its snapshot reads it) and once after (the binlog reads it), under a lax {@code sql_mode}
 * so that zero dates are legal, and each one's outcome is asserted: equal to the source as {@code
 * verify} reads it, or in the quarantine table with its reason, the same on both paths. The table
 * of outcomes in docs/sources.md lists these.
 */
class MariaDbValueCorpusITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    /** The Iceberg catalog's store. */
    @RegisterExtension static final SharedDatabase CATALOG = new SharedDatabase("iceberg_catalog");

    @RegisterExtension
    static final SharedMariaDb MARIADB = new SharedMariaDb(CATALOG, "corpus", "flags", "tkeys");

    private static final ValueCorpus CORPUS =
            new ValueCorpus("corpus", "mcorpus")
                    .table(
                            "dates",
                            "date",
                            equal("'2024-02-29'"),
                            equal("'1582-10-10'"),
                            equal("'1582-10-04'"),
                            equal("'0001-01-01'"),
                            equal("'1000-01-01'"),
                            equal("'9999-12-31'"),
                            equal("'0000-00-00'"),
                            equal("NULL"))
                    .table(
                            "stamps",
                            "datetime(6)",
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
                            equal("'0000-00-00 00:00:00'"))
                    .table(
                            "zoned",
                            "timestamp(6) NULL",
                            equal("'1970-01-01 00:00:01'"),
                            equal("'2038-01-19 03:14:07.999999'"),
                            equal("'2024-06-01 12:00:00.123456'"))
                    .table(
                            "times",
                            "time(6)",
                            equal("'10:00:00.123456'"),
                            equal("'00:00:00'"),
                            equal("'23:59:59.999999'"),
                            // MySQL's TIME is a duration: beyond a day, no Iceberg time
                            quarantined("'838:59:59'", "NOT_REPRESENTABLE"),
                            quarantined("'-01:00:01'", "NOT_REPRESENTABLE"),
                            // Debezium 1.9's snapshot reads a negative TIME under an hour as
                            // positive (the sign is the hours'); the sign is given back
                            quarantined("'-00:00:01'", "NOT_REPRESENTABLE"),
                            quarantined("'-00:30:00.5'", "NOT_REPRESENTABLE"),
                            // and not to its positive twin in the same chunk
                            equal("'00:30:00.5'"))
                    .table(
                            "numbers",
                            "decimal(12,2)",
                            equal("1.50"),
                            equal("9999999999.99"),
                            equal("-0.01"),
                            equal("0"),
                            equal("NULL"))
                    .table(
                            // BOOLEAN is tinyint(1), which holds any tinyint: read as int
                            "flags",
                            "tinyint(1)",
                            equal("0"),
                            equal("1"),
                            equal("2"),
                            equal("-1"),
                            equal("127"),
                            equal("-128"),
                            equal("NULL"))
                    .table(
                            "floats",
                            "double",
                            equal("1e308"),
                            equal("4.9e-324"),
                            equal("-1.5"),
                            equal("0"))
                    .table(
                            "texts",
                            "text",
                            equal("''"),
                            equal("NULL"),
                            equal("'line\\nbreak\\ttab'"),
                            equal("'emoji \uD83D\uDE00 quote '' backslash \\\\'"))
                    .table(
                            "uuids",
                            "char(36)",
                            equal("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
                            equal("NULL"));

    @Test
    void everyValueEndsEqualOrQuarantinedWithItsReasonOnBothPaths() throws Exception {
        try (Connection source = MARIADB.get().connect("corpus");
                Statement sql = source.createStatement()) {
            // zero dates are legal under a lax sql_mode, as in many old schemas
            sql.execute("SET SESSION sql_mode = ''");
            CORPUS.create(sql, " DEFAULT CHARSET utf8mb4");
            PipelineConfig config = TableDiscovery.resolve(pipeline());
            JobClient job = TestJobs.start(config);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                GroundTruth.awaitFirstCommit(job, catalog, CORPUS.targets());
                // the same values again, now through the binlog
                CORPUS.write(sql, 1);
                Map<String, TableIdentifier> views = CORPUS.equalViews(sql, Set.of());
                try (Connection verifier =
                        java.sql.DriverManager.getConnection(
                                config.source().jdbcUrl(),
                                config.source().username(),
                                config.source().password())) {
                    // read as verify reads the source (zero dates as null)
                    GroundTruth.awaitEqual(job, verifier, catalog, views, Duration.ofMinutes(2));
                }
                CORPUS.awaitQuarantine(catalog);
            } finally {
                GroundTruth.cancel(job);
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    @Test
    void aTinyint1ReadAsABooleanIsFalseOrTrueAndAnyOtherValueQuarantined() throws Exception {
        try (Connection source = MARIADB.get().connect("flags");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE flags.bools (id int PRIMARY KEY, v tinyint(1), b BOOLEAN)");
            sql.execute(
                    "INSERT INTO flags.bools VALUES (1, 0, 0), (2, 1, 1), (3, 2, 0), (4, NULL, 1),"
                            + " (5, -1, 1)");
            PipelineConfig config = flags(true);
            TableIdentifier target = TableIdentifier.of("mflags", "bools");
            JobClient job = TestJobs.start(config);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                GroundTruth.awaitFirstCommit(job, catalog, target);
                // through the binlog: 1 and 0, a 3, and the 2 of the snapshot updated to 1
                sql.execute("INSERT INTO flags.bools VALUES (6, 1, 0), (7, 3, 1)");
                sql.execute("UPDATE flags.bools SET v = 0 WHERE id = 2");
                sql.execute("UPDATE flags.bools SET v = 1 WHERE id = 3");
                Map<Object, java.util.List<Object>> expected = new java.util.HashMap<>();
                expected.put(1, java.util.Arrays.asList(false, false));
                expected.put(2, java.util.Arrays.asList(false, true));
                expected.put(3, java.util.Arrays.asList(true, false));
                expected.put(4, java.util.Arrays.asList(null, true));
                expected.put(6, java.util.Arrays.asList(true, false));
                org.awaitility.Awaitility.await("false, true or null; 3, 5 and 7 quarantined")
                        .atMost(Duration.ofMinutes(2))
                        .untilAsserted(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    assertThat(rows(catalog.loadTable(target))).isEqualTo(expected);
                                    assertThat(unroutedKeys(catalog, target))
                                            // 3's 2 from the snapshot too; its update to
                                            // 1 then applied
                                            .containsExactlyInAnyOrder(
                                                    "[3] NOT_REPRESENTABLE",
                                                    "[5] NOT_REPRESENTABLE",
                                                    "[7] NOT_REPRESENTABLE");
                                });
                org.apache.iceberg.Schema schema = catalog.loadTable(target).schema();
                assertThat(schema.findType("v")).isEqualTo(Types.BooleanType.get());
                assertThat(schema.findType("b")).isEqualTo(Types.BooleanType.get());
                // the setting turned off against the table it made: refused, naming it
                GroundTruth.cancel(job);
                org.assertj.core.api.Assertions.assertThatThrownBy(
                                () -> io.tidemark.job.JobPreparation.prepare(flags(false)))
                        .hasMessageContaining("table tidemark.mflags.bools column 'v' is boolean")
                        .hasMessageContaining("set it back to true");
            } finally {
                GroundTruth.cancel(job);
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    /** Key column types of the tables keyed by a date or time, and two keys of each. */
    private static final Map<String, String[]> TEMPORAL_KEYS =
            Map.of(
                    "by_date", new String[] {"date", "'2024-06-01'", "'1969-12-31'"},
                    "by_datetime",
                            new String[] {
                                "datetime", "'2024-06-01 12:00:00'", "'1960-01-01 00:00:01'"
                            },
                    "by_datetime3",
                            new String[] {
                                "datetime(3)",
                                "'2024-06-01 12:00:00.123'",
                                "'2024-06-01 12:00:00.124'"
                            },
                    "by_datetime6",
                            new String[] {
                                "datetime(6)",
                                "'2024-06-01 12:00:00.000001'",
                                "'0001-01-01 00:00:00'"
                            },
                    "by_stamp",
                            new String[] {
                                "timestamp(6)",
                                "'2024-06-01 12:00:00.123456'",
                                "'1970-01-01 00:00:01'"
                            },
                    "by_time", new String[] {"time(6)", "'10:00:00.5'", "'23:00:00'"});

    /**
     * A negative {@code TIME} under an hour whose sign the snapshot reader dropped is given back in
     * tables keyed by a date, a datetime of each precision, a timestamp or a time too (the row is
     * matched by its key as both the server and the reader give it), then quarantined; its positive
     * twin in the same chunk stays. It was written as positive, with a warning. A table keyed by a
     * YEAR first is refused by name (Flink CDC's chunk splitter failed on it, in a loop, and no
     * table of the pipeline was read).
     */
    @Test
    void aNegativeTimeUnderAnHourInATableKeyedByADateOrTimeIsQuarantined() throws Exception {
        try (Connection source = MARIADB.get().connect("tkeys");
                Statement sql = source.createStatement()) {
            PipelineYaml yaml =
                    PipelineYaml.mariaDb(
                            MARIADB.get(), "tkeys", CATALOG.get(), CATALOG.dir(), "tkeys-it");
            for (Map.Entry<String, String[]> table : TEMPORAL_KEYS.entrySet()) {
                String[] key = table.getValue();
                sql.execute(
                        "CREATE TABLE tkeys."
                                + table.getKey()
                                + " (k "
                                + key[0]
                                + " NOT NULL PRIMARY KEY, t time(6))");
                sql.execute(
                        "INSERT INTO tkeys."
                                + table.getKey()
                                + " VALUES ("
                                + key[1]
                                + ", '-00:30:00.5'), ("
                                + key[2]
                                + ", '00:30:00.5')");
                yaml.table("tkeys." + table.getKey(), "mtkeys." + table.getKey());
            }
            sql.execute("CREATE TABLE tkeys.by_year (k year NOT NULL PRIMARY KEY, t time(6))");
            sql.execute("INSERT INTO tkeys.by_year VALUES (2024, '00:30:00')");
            PipelineConfig withYear =
                    PipelineYaml.mariaDb(
                                    MARIADB.get(),
                                    "tkeys",
                                    CATALOG.get(),
                                    CATALOG.dir(),
                                    "tkeys-year")
                            .table("tkeys.by_year", "mtkeys.by_year")
                            .config();
            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> io.tidemark.job.JobPreparation.prepare(withYear))
                    .hasMessageContaining(
                            "table 'tkeys.by_year' cannot be read: its primary key starts with YEAR"
                                    + " column 'k'");
            PipelineConfig config = yaml.config();
            TableIdentifier[] targets =
                    TEMPORAL_KEYS.keySet().stream()
                            .map(t -> TableIdentifier.of("mtkeys", t))
                            .toArray(TableIdentifier[]::new);
            JobClient job = TestJobs.start(config);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                GroundTruth.awaitFirstCommit(job, catalog, targets);
                org.awaitility.Awaitility.await("each negative quarantined, each twin kept")
                        .atMost(Duration.ofMinutes(2))
                        .untilAsserted(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    for (TableIdentifier target : targets) {
                                        assertThat(times(catalog.loadTable(target)))
                                                .as(target.toString())
                                                // time(6) is kept exact as text
                                                .containsExactly("00:30:00.500000");
                                    }
                                    assertThat(unroutedKeys(catalog, targets[0]))
                                            .hasSize(TEMPORAL_KEYS.size())
                                            .allSatisfy(
                                                    k ->
                                                            assertThat(k)
                                                                    .endsWith("NOT_REPRESENTABLE"));
                                });
            } finally {
                GroundTruth.cancel(job);
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    /** The {@code t} of every row of {@code table}. */
    private static java.util.List<Object> times(org.apache.iceberg.Table table)
            throws java.io.IOException {
        java.util.List<Object> times = new java.util.ArrayList<>();
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> records =
                org.apache.iceberg.data.IcebergGenerics.read(table).build()) {
            for (org.apache.iceberg.data.Record record : records) {
                times.add(record.getField("t"));
            }
        }
        return times;
    }

    /** Table {@code flags.bools} with {@code source.treat-tinyint1-as-boolean.enabled: on}. */
    private static PipelineConfig flags(boolean on) {
        return PipelineYaml.mariaDb(
                        MARIADB.get(), "flags", CATALOG.get(), CATALOG.dir(), "flags-it")
                .set("source.treat-tinyint1-as-boolean.enabled", on)
                .table("flags.bools", "mflags.bools")
                .config();
    }

    /** {@code id} to ({@code v}, {@code b}) of every row. */
    private static Map<Object, java.util.List<Object>> rows(org.apache.iceberg.Table table)
            throws java.io.IOException {
        Map<Object, java.util.List<Object>> rows = new java.util.HashMap<>();
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> records =
                org.apache.iceberg.data.IcebergGenerics.read(table).build()) {
            for (org.apache.iceberg.data.Record record : records) {
                rows.put(
                        record.getField("id"),
                        java.util.Arrays.asList(record.getField("v"), record.getField("b")));
            }
        }
        return rows;
    }

    /** {@code "<key> <reasons>"} of each row the pipeline's unrouted quarantine holds. */
    private static java.util.List<String> unroutedKeys(Catalog catalog, TableIdentifier target)
            throws java.io.IOException {
        TableIdentifier unrouted = io.tidemark.sink.QuarantineTable.unrouted(target);
        java.util.List<String> keys = new java.util.ArrayList<>();
        if (!catalog.tableExists(unrouted)) {
            return keys;
        }
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> records =
                org.apache.iceberg.data.IcebergGenerics.read(catalog.loadTable(unrouted)).build()) {
            for (org.apache.iceberg.data.Record record : records) {
                keys.add(record.getField("key") + " " + record.getField("reasons"));
            }
        }
        return keys;
    }

    private static PipelineConfig pipeline() {
        return PipelineYaml.mariaDb(
                        MARIADB.get(), "corpus", CATALOG.get(), CATALOG.dir(), "mcorpus-it")
                .set("pipeline.parallelism", 2)
                .table("corpus.*", "mcorpus.*")
                .config();
    }
}
