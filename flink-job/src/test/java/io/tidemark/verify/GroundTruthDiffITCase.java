package io.tidemark.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.verify.CanonicalValues;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.catalog.verify.KeyFingerprints;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testing.IcebergFiles;
import java.io.Closeable;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checker must have teeth: each kind of difference is found and counted exactly. */
class GroundTruthDiffITCase {

    private static final Schema SCHEMA =
            new Schema(
                    List.of(
                            Types.NestedField.required(1, "id", Types.LongType.get()),
                            Types.NestedField.optional(2, "name", Types.StringType.get()),
                            Types.NestedField.optional(3, "amount", Types.DecimalType.of(10, 2)),
                            Types.NestedField.optional(4, "at", Types.TimestampType.withZone())),
                    java.util.Set.of(1));

    @TempDir static Path dir;

    private static EmbeddedDatabase database;
    private static Catalog catalog;

    @BeforeAll
    static void start() throws Exception {
        database = EmbeddedDatabase.start(dir.resolve("postgres"));
        database.createDatabase("src");
        database.createDatabase("cat");
        catalog =
                Catalogs.load(
                        "diff",
                        Map.of(
                                "type",
                                "jdbc",
                                "uri",
                                database.jdbcUrl("cat"),
                                "jdbc.user",
                                "postgres",
                                "jdbc.schema-version",
                                "V1",
                                "warehouse",
                                dir.resolve("wh").toUri().toString()),
                        new org.apache.hadoop.conf.Configuration());
        ((SupportsNamespaces) catalog).createNamespace(Namespace.of("t"));
        try (Connection c = database.connect("src");
                Statement s = c.createStatement()) {
            s.execute(
                    "CREATE TABLE public.items (id bigint PRIMARY KEY, name text, amount numeric(10,2), at timestamptz)");
            s.execute(
                    "INSERT INTO public.items VALUES "
                            + "(1, 'same', 1.50, '2024-01-01 00:00:00+00'), "
                            + "(2, 'changed in source', 2.00, '2024-01-01 00:00:00+00'), "
                            + "(3, 'missing in table', 3.00, NULL), "
                            + "(4, 'duplicated in table', 4.00, NULL), "
                            + "(5, NULL, NULL, '2024-01-01 02:00:00+02')");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (catalog instanceof Closeable) {
            ((Closeable) catalog).close();
        }
        database.close();
    }

    private static Record record(long id, String name, String amount, OffsetDateTime at) {
        GenericRecord r = GenericRecord.create(SCHEMA);
        r.setField("id", id);
        r.setField("name", name);
        r.setField("amount", amount == null ? null : new BigDecimal(amount));
        r.setField("at", at);
        return r;
    }

    private static void append(Table table, List<Record> records) throws Exception {
        table.newAppend().appendFile(IcebergFiles.parquet(table, records)).commit();
    }

    @Test
    void countsMissingExtraDuplicateAndStaleRows() throws Exception {
        OffsetDateTime midnight = OffsetDateTime.of(2024, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC);
        Table table = catalog.createTable(TableIdentifier.of("t", "items"), SCHEMA);
        append(
                table,
                List.of(
                        record(1, "same", "1.50", midnight),
                        record(2, "old value", "2.00", midnight),
                        record(4, "duplicated in table", "4.00", null),
                        record(4, "duplicated in table", "4.00", null),
                        record(5, null, null, midnight), // same instant as 02:00+02
                        record(6, "extra", "6.00", null)));

        DiffReport report;
        try (Connection source = database.connect("src")) {
            report = GroundTruthDiff.diff(source, "public.items", table);
        }

        assertThat(report.sourceRows()).isEqualTo(5);
        assertThat(report.tableRows()).isEqualTo(6);
        assertThat(report.missing()).isEqualTo(1);
        assertThat(report.extra()).isEqualTo(1);
        assertThat(report.duplicate()).isEqualTo(1);
        assertThat(report.stale()).isEqualTo(1);
        assertThat(report.isClean()).isFalse();
        assertThat(report.examples())
                .anyMatch(e -> e.startsWith("missing [3]"))
                .anyMatch(e -> e.startsWith("extra [6]"))
                .anyMatch(e -> e.startsWith("duplicate [4]"))
                .anyMatch(e -> e.startsWith("stale [2]"));
        // what verify --repair asks the pipeline to read again, key by key
        assertThat(report.differingKeys())
                .isEqualTo(
                        KeyFingerprints.of(
                                CanonicalValues.keyFingerprint(List.of(2L)),
                                CanonicalValues.keyFingerprint(List.of(3L)),
                                CanonicalValues.keyFingerprint(List.of(4L)),
                                CanonicalValues.keyFingerprint(List.of(6L))));
    }

    @Test
    void differencesSpreadOverManyBucketsAreCountedExactlyInPassesOfBoundedRows() throws Exception {
        try (Connection c = database.connect("src");
                Statement s = c.createStatement()) {
            s.execute(
                    "CREATE TABLE public.many (id bigint PRIMARY KEY, name text, amount numeric(10,2), at timestamptz)");
            s.execute(
                    "INSERT INTO public.many SELECT g, 'row ' || g, g / 100.0, NULL FROM generate_series(1, 3000) g");
        }
        Table table = catalog.createTable(TableIdentifier.of("t", "many"), SCHEMA);
        List<Record> rows = new java.util.ArrayList<>();
        for (long id = 1; id <= 3000; id++) {
            if (id % 30 == 0) {
                continue; // 100 missing
            }
            String name = id % 3 == 0 ? "old " + id : "row " + id; // 900 stale (30s are missing)
            rows.add(record(id, name, new BigDecimal(id).movePointLeft(2).toPlainString(), null));
        }
        for (long id = 5001; id <= 5050; id++) {
            rows.add(record(id, "extra", "1.00", null)); // 50 extra
        }
        append(table, rows);

        DiffReport bounded;
        DiffReport whole;
        try (Connection source = database.connect("src")) {
            // about 100 rows of differing buckets in memory at a time: many passes
            bounded = GroundTruthDiff.diff(source, "public.many", table, 100);
            whole = GroundTruthDiff.diff(source, "public.many", table);
            assertThat(source.getAutoCommit()).as("the caller's connection is restored").isTrue();
        }
        for (DiffReport report : List.of(bounded, whole)) {
            assertThat(report.sourceRows()).isEqualTo(3000);
            assertThat(report.tableRows()).isEqualTo(2950);
            assertThat(report.missing()).isEqualTo(100);
            assertThat(report.stale()).isEqualTo(900);
            assertThat(report.extra()).isEqualTo(50);
            assertThat(report.duplicate()).isZero();
            assertThat(report.bucketsCompared()).isEqualTo(GroundTruthDiff.BUCKETS);
            // every differing key's bucket, and no other: the equal rows' buckets sum alike
            assertThat(report.differingBuckets()).hasSizeBetween(900, 1050);
            // 1,050 keys differ: each named, a repair reads just their rows (a file of keys)
            assertThat(report.differingKeys().size()).isEqualTo(1_050);
        }
        assertThat(whole.sourceAt()).contains("WAL ");
        assertThat(whole.tableAt()).startsWith(Long.toString(table.currentSnapshot().snapshotId()));
    }

    @Test
    void moreThanAHundredThousandDifferingKeysAreEachNamedForARepair() throws Exception {
        try (Connection c = database.connect("src");
                Statement s = c.createStatement()) {
            s.execute(
                    "CREATE TABLE public.wide (id bigint PRIMARY KEY, name text, amount numeric(10,2), at timestamptz)");
            s.execute(
                    "INSERT INTO public.wide SELECT g, 'row ' || g, 1, NULL FROM generate_series(1, 160000) g");
        }
        Table table = catalog.createTable(TableIdentifier.of("t", "wide"), SCHEMA);
        List<Record> rows = new java.util.ArrayList<>();
        for (long id = 1; id <= 160_000; id++) {
            // 150,000 stale: beyond the 100,000 a report named before, when a repair re-read
            // the whole table; every key is named now, and a repair reads just their ranges
            rows.add(record(id, id <= 150_000 ? "old " + id : "row " + id, "1.00", null));
        }
        append(table, rows);
        DiffReport report;
        try (Connection source = database.connect("src")) {
            report = GroundTruthDiff.diff(source, "public.wide", table);
        }
        assertThat(report.stale()).isEqualTo(150_000);
        assertThat(report.differingKeys().size()).isEqualTo(150_000);
        assertThat(report.differingKeys().contains(CanonicalValues.keyFingerprint(List.of(1L))))
                .isTrue();
        assertThat(
                        report.differingKeys()
                                .contains(CanonicalValues.keyFingerprint(List.of(150_001L))))
                .isFalse();
    }

    @Test
    void aRecheckComparesOnlyTheDifferingBucketsAndSettlesChangesInFlight() throws Exception {
        try (Connection c = database.connect("src");
                Statement s = c.createStatement()) {
            s.execute(
                    "CREATE TABLE public.moving (id bigint PRIMARY KEY, name text, amount numeric(10,2), at timestamptz)");
            s.execute(
                    "INSERT INTO public.moving SELECT g, 'row ' || g, 1.00, NULL FROM generate_series(1, 500) g");
        }
        Table table = catalog.createTable(TableIdentifier.of("t", "moving"), SCHEMA);
        List<Record> rows = new java.util.ArrayList<>();
        for (long id = 1; id <= 499; id++) {
            rows.add(record(id, id == 7 ? "wrong" : "row " + id, "1.00", null));
        }
        append(table, rows); // 500 not yet committed, 7 really stale

        try (Connection source = database.connect("src")) {
            DiffReport first = GroundTruthDiff.diff(source, "public.moving", table);
            assertThat(first.missing()).isEqualTo(1);
            assertThat(first.stale()).isEqualTo(1);
            assertThat(first.differingBuckets()).hasSize(2);

            append(table, List.of(record(500, "row 500", "1.00", null))); // the change lands
            DiffReport again = GroundTruthDiff.recheck(source, "public.moving", table, first);
            assertThat(again.bucketsCompared()).isEqualTo(2);
            assertThat(again.missing()).isZero();
            assertThat(again.stale()).isEqualTo(1);
            assertThat(again.examples()).anyMatch(e -> e.startsWith("stale [7]"));
            assertThat(again.differingBuckets()).hasSize(1);
            assertThat(again.sourceRows()).as("the full read's totals").isEqualTo(500);

            try (Statement s = source.createStatement()) {
                s.execute("UPDATE public.moving SET name = 'wrong' WHERE id = 7");
            }
            DiffReport settled = GroundTruthDiff.recheck(source, "public.moving", table, again);
            assertThat(settled.isClean()).isTrue();
            assertThat(settled.differingBuckets()).isEmpty();
        }
    }
}
