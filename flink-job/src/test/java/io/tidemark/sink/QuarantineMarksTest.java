package io.tidemark.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.TableManager;
import io.tidemark.catalog.verify.CanonicalValues;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import io.tidemark.testing.IcebergFiles;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A quarantine table's rows marked replayed, on a real Iceberg table (a Hadoop catalog in a
 * temporary directory): only the rows chosen are marked, in a {@code replace} commit naming the
 * replay, every other row kept as it was; a table an earlier release made (without the replay
 * columns) gains them; a file replaced by another commit meanwhile makes the marking start again
 * from the newest snapshot. And the keys read back from the payload, as the re-read names them.
 */
class QuarantineMarksTest {

    private static final TableIdentifier QUARANTINE = TableIdentifier.of("ns", "t__quarantine");

    /** The quarantine table's columns before the replay columns came. */
    private static final Schema EARLIER =
            new Schema(QuarantineTable.SCHEMA.columns().subList(0, 14));

    @TempDir Path warehouse;

    private HadoopCatalog catalog;

    @BeforeEach
    void open() {
        catalog = new HadoopCatalog(new Configuration(), warehouse.toUri().toString());
    }

    @AfterEach
    void close() throws Exception {
        catalog.close();
    }

    @Test
    void marksTheChosenRowsInAReplaceCommitAndKeepsTheRest() throws Exception {
        Table table = catalog.createTable(QUARANTINE, EARLIER);
        table.newAppend().appendFile(file(table, 1, 2, 3)).commit();
        table.newAppend().appendFile(file(table, 4, 5)).commit();
        Table upgraded =
                new TableManager(catalog).ensureAppendOnly(QUARANTINE, QuarantineTable.SCHEMA);
        assertThat(upgraded.schema().findField(QuarantineTable.REPLAYED_BY)).isNotNull();
        assertThat(upgraded.schema().findField(QuarantineTable.REPLAYED_AT)).isNotNull();

        Instant at = Instant.parse("2026-12-05T08:00:00Z");
        long marked = QuarantineMarks.mark(upgraded, row -> id(row) % 2 == 1, "replay 7", at);

        assertThat(marked).isEqualTo(3);
        Map<Long, Record> rows = rows(upgraded);
        assertThat(rows).hasSize(5);
        for (long id = 1; id <= 5; id++) {
            Record row = rows.get(id);
            assertThat(row.getField("reasons")).isEqualTo("NOT_ALLOWED_VALUE");
            assertThat(row.getField("payload")).isEqualTo(payload(id));
            assertThat(row.getField(QuarantineTable.REPLAYED_BY))
                    .isEqualTo(id % 2 == 1 ? "replay 7" : null);
            assertThat(row.getField(QuarantineTable.REPLAYED_AT))
                    .isEqualTo(id % 2 == 1 ? at.atOffset(ZoneOffset.UTC) : null);
        }
        assertThat(upgraded.currentSnapshot().operation()).isEqualTo("replace");
        assertThat(upgraded.currentSnapshot().summary())
                .containsEntry(QuarantineMarks.SUMMARY, "replay 7");

        // marked rows stay as the first replay marked them
        assertThat(QuarantineMarks.mark(upgraded, row -> true, "replay 8", at)).isEqualTo(2);
        assertThat(rows(upgraded).get(1L).getField(QuarantineTable.REPLAYED_BY))
                .isEqualTo("replay 7");
        assertThat(rows(upgraded).get(2L).getField(QuarantineTable.REPLAYED_BY))
                .isEqualTo("replay 8");
        assertThat(QuarantineMarks.mark(upgraded, row -> true, "replay 9", at)).isZero();
    }

    @Test
    void aFileReplacedMeanwhileMakesTheMarkingStartAgain() throws Exception {
        Table table = catalog.createTable(QUARANTINE, QuarantineTable.SCHEMA);
        DataFile first = file(table, 1, 2);
        table.newAppend().appendFile(first).commit();
        Table other = catalog.loadTable(QUARANTINE);
        AtomicBoolean compacted = new AtomicBoolean();
        long marked =
                QuarantineMarks.mark(
                        table,
                        row -> {
                            // a compaction by another process while the first attempt reads
                            if (compacted.compareAndSet(false, true)) {
                                other.refresh();
                                other.newRewrite()
                                        .deleteFile(first)
                                        .addFile(file(other, 1, 2))
                                        .commit();
                            }
                            return id(row) == 2;
                        },
                        "replay 1",
                        Instant.now());
        assertThat(marked).isEqualTo(1);
        Map<Long, Record> rows = rows(table);
        assertThat(rows).hasSize(2);
        assertThat(rows.get(2L).getField(QuarantineTable.REPLAYED_BY)).isEqualTo("replay 1");
        assertThat(rows.get(1L).getField(QuarantineTable.REPLAYED_BY)).isNull();
    }

    @Test
    void readsEachImagesKeyAsTheReReadNamesIt() {
        Schema target =
                new Schema(
                        List.of(
                                Types.NestedField.required(1, "at", Types.TimestampType.withZone()),
                                Types.NestedField.optional(2, "v", Types.StringType.get()),
                                Types.NestedField.required(3, "id", Types.LongType.get()),
                                Types.NestedField.required(4, "d", Types.DateType.get()),
                                Types.NestedField.required(
                                        5, "amount", Types.DecimalType.of(10, 2)),
                                Types.NestedField.required(6, "b", Types.BinaryType.get()),
                                Types.NestedField.required(
                                        7, "local", Types.TimestampType.withoutZone())),
                        Set.of(1, 3, 4, 5, 6, 7));
        Map<String, Object> before = image(41, "x");
        Map<String, Object> after = image(42, "y");
        ChangeEvent update =
                new ChangeEvent(
                        "public.t",
                        Operation.UPDATE,
                        List.of(42),
                        before,
                        after,
                        new SourcePosition(10, 11, 12),
                        1_000);
        // the payload as the gate writes it
        org.apache.flink.table.data.RowData written =
                QuarantineTable.row(update, null, List.of(), "run-1");
        Record row = GenericRecord.create(QuarantineTable.SCHEMA);
        row.setField("operation", written.getString(6).toString());
        row.setField("payload", written.getString(13).toString());

        Set<List<Object>> keys = new QuarantinedKeys(target).of(row);

        List<Long> expected = new ArrayList<>();
        for (int id : new int[] {41, 42}) {
            expected.add(
                    CanonicalValues.keyFingerprint(
                            List.of(
                                    Instant.parse("2024-01-01T00:00:01.5Z"),
                                    (long) id,
                                    LocalDate.of(2024, 2, 29),
                                    new BigDecimal("12.50"),
                                    ByteBuffer.wrap(new byte[] {1, 2, (byte) id}),
                                    LocalDateTime.of(2024, 1, 1, 0, 0))));
        }
        assertThat(keys.stream().map(CanonicalValues::keyFingerprint).toList())
                .containsExactlyElementsOf(expected);

        row.setField("payload", "{\"before\":null,\"after\":{\"id\":null}}");
        assertThat(new QuarantinedKeys(target).of(row)).as("a key the contract refused").isEmpty();
        row.setField("operation", "MALFORMED");
        assertThat(new QuarantinedKeys(target).of(row)).isEmpty();
    }

    private static Map<String, Object> image(int id, String v) {
        Map<String, Object> image = new HashMap<>();
        image.put("at", OffsetDateTime.parse("2024-01-01T02:00:01.5+02:00").toInstant());
        image.put("v", v);
        image.put("id", id);
        image.put("d", LocalDate.of(2024, 2, 29));
        image.put("amount", new BigDecimal("12.5"));
        image.put("b", new byte[] {1, 2, (byte) id});
        image.put("local", LocalDateTime.of(2024, 1, 1, 0, 0));
        return image;
    }

    private static long id(Record row) {
        return Long.parseLong(String.valueOf(row.getField("key")));
    }

    private static String payload(long id) {
        return "{\"before\":null,\"after\":{\"id\":" + id + ",\"status\":\"refunded\"}}";
    }

    /** A data file of quarantine rows with keys {@code ids}, as the job appends them. */
    private static DataFile file(Table table, long... ids) {
        List<Record> records = new ArrayList<>();
        for (long id : ids) {
            Record row = GenericRecord.create(table.schema());
            row.setField("source_table", "public.t");
            row.setField("contract", "public.t v1");
            row.setField("contract_version", 1);
            row.setField("reasons", "NOT_ALLOWED_VALUE");
            row.setField("details", "NOT_ALLOWED_VALUE(status)");
            row.setField("key", Long.toString(id));
            row.setField("operation", "UPDATE");
            row.setField("run_id", "run-1");
            row.setField("detected_at", OffsetDateTime.parse("2026-12-05T07:00:00Z"));
            row.setField("payload", payload(id));
            records.add(row);
        }
        try {
            return IcebergFiles.parquet(table, records);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Map<Long, Record> rows(Table table) throws Exception {
        table.refresh();
        Map<Long, Record> rows = new HashMap<>();
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                assertThat(rows.put(id(record), record.copy())).as("one row per key").isNull();
            }
        }
        return rows;
    }
}
