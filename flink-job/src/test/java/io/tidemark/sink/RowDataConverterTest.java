package io.tidemark.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.types.RowKind;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class RowDataConverterTest {

    private static final Schema SCHEMA =
            new Schema(
                    Types.NestedField.required(1, "id", Types.LongType.get()),
                    Types.NestedField.required(2, "name", Types.StringType.get()),
                    Types.NestedField.optional(3, "amount", Types.DecimalType.of(12, 2)),
                    Types.NestedField.optional(4, "day", Types.DateType.get()),
                    Types.NestedField.optional(5, "at", Types.TimestampType.withoutZone()),
                    Types.NestedField.optional(6, "at_tz", Types.TimestampType.withZone()),
                    Types.NestedField.optional(7, "qty", Types.IntegerType.get()));

    private final RowDataConverter converter =
            new RowDataConverter("public.t", SCHEMA, List.of("id"));

    private static Map<String, Object> row(long id, String name) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", id);
        row.put("name", name);
        row.put("amount", new BigDecimal("3.5"));
        row.put("day", LocalDate.of(2024, 1, 2));
        row.put("at", LocalDateTime.of(2024, 1, 2, 3, 4, 5, 6_000));
        row.put("at_tz", Instant.parse("2024-01-02T03:04:05.000006Z"));
        row.put("qty", 7);
        return row;
    }

    private static ChangeEvent event(
            Operation op, Map<String, Object> before, Map<String, Object> after) {
        Map<String, Object> image = op == Operation.DELETE ? before : after;
        return new ChangeEvent(
                "public.t", op, List.of(image.get("id")), before, after, SourcePosition.NONE, 0L);
    }

    private List<RowData> convert(ChangeEvent event) {
        List<RowData> rows = new ArrayList<>();
        converter.convert(event, rows::add);
        return rows;
    }

    @Test
    void insertsReadsAndUpdatesBecomeOneUpsertRow() {
        for (Operation op : List.of(Operation.READ, Operation.INSERT, Operation.UPDATE)) {
            List<RowData> rows =
                    convert(event(op, op == Operation.UPDATE ? row(1, "old") : null, row(1, "a")));
            assertThat(rows).hasSize(1);
            RowData row = rows.get(0);
            assertThat(row.getRowKind()).isEqualTo(RowKind.INSERT);
            assertThat(row.getLong(0)).isEqualTo(1L);
            assertThat(row.getString(1)).isEqualTo(StringData.fromString("a"));
            assertThat(row.getDecimal(2, 12, 2))
                    .isEqualTo(DecimalData.fromBigDecimal(new BigDecimal("3.50"), 12, 2));
            assertThat(row.getInt(3)).isEqualTo((int) LocalDate.of(2024, 1, 2).toEpochDay());
            assertThat(row.getTimestamp(4, 6))
                    .isEqualTo(
                            TimestampData.fromLocalDateTime(
                                    LocalDateTime.of(2024, 1, 2, 3, 4, 5, 6_000)));
            assertThat(row.getTimestamp(5, 6))
                    .isEqualTo(
                            TimestampData.fromInstant(
                                    Instant.parse("2024-01-02T03:04:05.000006Z")));
            assertThat(row.getInt(6)).isEqualTo(7);
        }
    }

    @Test
    void deleteIsADeleteRowOfTheBeforeImage() {
        List<RowData> rows = convert(event(Operation.DELETE, row(9, "gone"), null));
        assertThat(rows)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getRowKind()).isEqualTo(RowKind.DELETE);
                            assertThat(r.getLong(0)).isEqualTo(9L);
                        });
    }

    @Test
    void aDeleteTakesItsKeyOnlyWhateverTheOldRowHolds() {
        // the source added a column and retyped another since the Iceberg table was made
        Map<String, Object> old = row(9, "gone");
        old.put("added_later", "x");
        old.put("qty", "retyped");
        List<RowData> rows = convert(event(Operation.DELETE, old, null));
        assertThat(rows)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getRowKind()).isEqualTo(RowKind.DELETE);
                            assertThat(r.getLong(0)).isEqualTo(9L);
                            assertThat(r.isNullAt(6)).isTrue();
                        });
    }

    @Test
    void anUpdateOfABinaryKeyWithTheSameBytesIsOneUpsert() {
        Schema schema =
                new Schema(
                        Types.NestedField.required(1, "id", Types.BinaryType.get()),
                        Types.NestedField.optional(2, "v", Types.StringType.get()));
        RowDataConverter binary = new RowDataConverter("public.b", schema, List.of("id"));
        List<RowData> rows = new ArrayList<>();
        binary.convert(
                new ChangeEvent(
                        "public.b",
                        Operation.UPDATE,
                        List.of(new byte[] {1, 2}),
                        Map.of("id", new byte[] {1, 2}, "v", "a"),
                        Map.of("id", new byte[] {1, 2}, "v", "b"),
                        SourcePosition.NONE,
                        0L),
                rows::add);
        assertThat(rows).singleElement().extracting(RowData::getRowKind).isEqualTo(RowKind.INSERT);
    }

    @Test
    void aUuidColumnTakesTheTextOfAUuidAsItsBytes() {
        Schema schema =
                new Schema(
                        Types.NestedField.required(1, "id", Types.LongType.get()),
                        Types.NestedField.optional(2, "token", Types.UUIDType.get()));
        RowDataConverter uuids = new RowDataConverter("public.u", schema, List.of("id"));
        List<RowData> rows = new ArrayList<>();
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("id", 1L);
        after.put("token", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        uuids.convert(
                new ChangeEvent(
                        "public.u",
                        Operation.INSERT,
                        List.of(1L),
                        null,
                        after,
                        SourcePosition.NONE,
                        0L),
                rows::add);
        java.util.UUID expected = java.util.UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(rows.get(0).getBinary(1));
        assertThat(new java.util.UUID(bytes.getLong(), bytes.getLong())).isEqualTo(expected);
        assertThat(RowDataConverter.accepts(Types.UUIDType.get(), "not a uuid")).isFalse();
        // java.util.UUID.fromString would pad it into 00000001-0002-0003-0004-000000000005
        assertThat(RowDataConverter.accepts(Types.UUIDType.get(), "1-2-3-4-5")).isFalse();
        assertThat(RowDataConverter.accepts(Types.UUIDType.get(), expected.toString())).isTrue();
    }

    @Test
    void deleteWithOnlyTheKeyInTheBeforeImage() {
        Map<String, Object> keyOnly = new LinkedHashMap<>();
        keyOnly.put("id", 9L);
        List<RowData> rows = convert(event(Operation.DELETE, keyOnly, null));
        assertThat(rows)
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getRowKind()).isEqualTo(RowKind.DELETE);
                            assertThat(r.getLong(0)).isEqualTo(9L);
                            assertThat(r.isNullAt(1)).isTrue();
                        });
    }

    @Test
    void primaryKeyUpdateDeletesTheOldKeyThenInsertsTheNew() {
        List<RowData> rows = convert(event(Operation.UPDATE, row(1, "a"), row(2, "a")));
        assertThat(rows)
                .extracting(RowData::getRowKind)
                .containsExactly(RowKind.DELETE, RowKind.INSERT);
        assertThat(rows).extracting(r -> r.getLong(0)).containsExactly(1L, 2L);
    }

    @Test
    void unknownColumnFailsNamingIt() {
        Map<String, Object> wider = row(1, "a");
        wider.put("loyalty", 3);
        assertThatThrownBy(() -> convert(event(Operation.INSERT, null, wider)))
                .hasMessage(
                        "table 'public.t': the source has column 'loyalty' that the Iceberg table "
                                + "[id, name, amount, day, at, at_tz, qty] lacks; add the column to the Iceberg table, then restart");
    }

    @Test
    void wrongTypeFailsNamingTheColumn() {
        Map<String, Object> odd = row(1, "a");
        odd.put("qty", "seven");
        assertThatThrownBy(() -> convert(event(Operation.INSERT, null, odd)))
                .hasMessage(
                        "table 'public.t' column 'qty' is int in Iceberg but the change carries a String");
    }

    @Test
    void requiredColumnWithoutValueFails() {
        Map<String, Object> noName = row(1, "a");
        noName.put("name", null);
        assertThatThrownBy(() -> convert(event(Operation.INSERT, null, noName)))
                .hasMessage(
                        "table 'public.t' column 'name' is required but the INSERT change has no value for it");
    }

    @Test
    void decimalThatDoesNotFitFails() {
        Map<String, Object> big = row(1, "a");
        big.put("amount", new BigDecimal("1.234"));
        assertThatThrownBy(() -> convert(event(Operation.INSERT, null, big)))
                .hasMessage("table 'public.t' column 'amount': value does not fit decimal(12, 2)");
    }
}
