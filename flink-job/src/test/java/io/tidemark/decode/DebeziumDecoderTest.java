package io.tidemark.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.source.LiveTables;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Decimal;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Schema;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

/** Records shaped exactly like Debezium's Postgres envelope (before, after, source, op, ts_ms). */
class DebeziumDecoderTest {

    private static final Schema ROW =
            SchemaBuilder.struct()
                    .name("shop.public.orders.Value")
                    .field("id", Schema.INT64_SCHEMA)
                    .field("qty", Schema.OPTIONAL_INT16_SCHEMA)
                    .field("amount", Decimal.builder(2).optional().build())
                    .field("paid", Schema.OPTIONAL_BOOLEAN_SCHEMA)
                    .field("note", Schema.OPTIONAL_STRING_SCHEMA)
                    .field(
                            "day",
                            SchemaBuilder.int32().name("io.debezium.time.Date").optional().build())
                    .field(
                            "at",
                            SchemaBuilder.int64()
                                    .name("io.debezium.time.MicroTimestamp")
                                    .optional()
                                    .build())
                    .field(
                            "at_tz",
                            SchemaBuilder.string()
                                    .name("io.debezium.time.ZonedTimestamp")
                                    .optional()
                                    .build())
                    .field(
                            "t",
                            SchemaBuilder.int64()
                                    .name("io.debezium.time.MicroTime")
                                    .optional()
                                    .build())
                    .field("raw", Schema.OPTIONAL_BYTES_SCHEMA)
                    .optional()
                    .build();

    private static final Schema SOURCE =
            SchemaBuilder.struct()
                    .name("io.debezium.connector.postgresql.Source")
                    .field("ts_ms", Schema.INT64_SCHEMA)
                    .field("schema", Schema.STRING_SCHEMA)
                    .field("table", Schema.STRING_SCHEMA)
                    .field("txId", Schema.OPTIONAL_INT64_SCHEMA)
                    .field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
                    .field("sequence", Schema.OPTIONAL_STRING_SCHEMA)
                    .build();

    private static final Schema ENVELOPE =
            SchemaBuilder.struct()
                    .field("before", ROW)
                    .field("after", ROW)
                    .field("source", SOURCE)
                    .field("op", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA)
                    .build();

    private final DebeziumDecoder decoder =
            new DebeziumDecoder(Map.of("public.orders", List.of("id")));

    private static Struct row(long id, String note) {
        return new Struct(ROW)
                .put("id", id)
                .put("qty", (short) 3)
                .put("amount", new BigDecimal("12.34"))
                .put("paid", true)
                .put("note", note)
                .put("day", 19_000)
                .put("at", 1_700_000_000_123_456L)
                .put("at_tz", "2024-03-01T10:15:30.123456Z")
                .put("t", 3_723_000_001L)
                .put("raw", new byte[] {1, 2, 3});
    }

    private static SourceRecord record(String op, Struct before, Struct after) {
        Struct source =
                new Struct(SOURCE)
                        .put("ts_ms", 1_700_000_000_000L)
                        .put("schema", "public")
                        .put("table", "orders")
                        .put("txId", 77L)
                        .put("lsn", 5000L)
                        .put("sequence", "[\"4096\",\"5000\"]");
        Struct value =
                new Struct(ENVELOPE)
                        .put("before", before)
                        .put("after", after)
                        .put("source", source)
                        .put("op", op);
        return new SourceRecord(Map.of(), Map.of(), "t", null, null, ENVELOPE, value);
    }

    @Test
    void aMySqlSnapshotDatetimeInTheTenDaysTheDriverMovesIsQuarantined() {
        Schema row =
                SchemaBuilder.struct()
                        .field(
                                "at",
                                SchemaBuilder.int64()
                                        .name("io.debezium.time.MicroTimestamp")
                                        .optional()
                                        .build())
                        .build();
        for (String ok : List.of("1582-10-04T23:59:59.999999", "1582-10-25T00:00:00")) {
            Map<String, Object> image = new java.util.HashMap<>();
            image.put("at", LocalDateTime.parse(ok));
            ImageChecks.refuseCalendarGap("shop.t", image, row);
            assertThat(image.get("at")).isEqualTo(LocalDateTime.parse(ok));
        }
        // 1582-10-10 arrives as 10-20 from the snapshot: a 10-20 there may be either
        Map<String, Object> moved = new java.util.HashMap<>();
        moved.put("at", LocalDateTime.parse("1582-10-20T12:00:00.000001"));
        assertThatThrownBy(() -> ImageChecks.refuseCalendarGap("shop.t", moved, row))
                .hasMessageContaining("table 'shop.t' column 'at': the snapshot read DATETIME")
                .hasMessageContaining("update it in the source");
    }

    @Test
    void zonedTimestampsParseExactlyAsIsoOffsetDateTimeDoes() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        java.time.format.DateTimeFormatter iso =
                java.time.format.DateTimeFormatter.ISO_OFFSET_DATE_TIME;
        for (int i = 0; i < 20_000; i++) {
            java.time.LocalDateTime local =
                    java.time.LocalDateTime.ofEpochSecond(
                            random.nextLong(-62_135_596_800L, 253_402_300_799L),
                            0,
                            java.time.ZoneOffset.UTC);
            int offsetMinutes = random.nextInt(-18 * 60, 18 * 60 + 1);
            int digits = random.nextInt(10);
            StringBuilder text = new StringBuilder(local.toString().substring(0, 16));
            text.append(String.format(":%02d", local.getSecond()));
            if (digits > 0) {
                text.append('.');
                for (int d = 0; d < digits; d++) {
                    text.append(random.nextInt(10));
                }
            }
            text.append(
                    offsetMinutes == 0 && random.nextBoolean()
                            ? "Z"
                            : String.format(
                                    "%s%02d:%02d",
                                    offsetMinutes < 0 ? "-" : "+",
                                    Math.abs(offsetMinutes) / 60,
                                    Math.abs(offsetMinutes) % 60));
            String value = text.toString();
            assertThat(ValueConversion.zonedTimestamp(value))
                    .as(value)
                    .isEqualTo(java.time.OffsetDateTime.parse(value, iso).toInstant());
        }
        assertThat(ValueConversion.zonedTimestamp("2024-02-29T23:59:59.999999Z"))
                .isEqualTo(Instant.parse("2024-02-29T23:59:59.999999Z"));
        // shapes the fast path leaves to the formatter
        assertThat(ValueConversion.zonedTimestamp("0000-01-01T00:00:00Z"))
                .isEqualTo(Instant.parse("0000-01-01T00:00:00Z"));
        assertThat(ValueConversion.zonedTimestamp("2026-01-01T10:15:30.Z"))
                .isEqualTo(Instant.parse("2026-01-01T10:15:30Z"));
        assertThat(ValueConversion.zonedTimestamp("2026-01-01T10:15:30+05:30:15"))
                .isEqualTo(Instant.parse("2026-01-01T04:45:15Z"));
        for (String invalid :
                List.of(
                        "2026-02-29T00:00:00Z",
                        "2026-13-01T00:00:00Z",
                        "2026-01-01T24:00:00Z",
                        "2026-01-01T10:60:00Z",
                        "2026-01-01T10:15:30.1234567891Z",
                        "2026-01-01T10:15:30+18:30",
                        "2026-01-01 10:15:30Z")) {
            assertThatThrownBy(() -> ValueConversion.zonedTimestamp(invalid))
                    .as(invalid)
                    .isInstanceOf(java.time.format.DateTimeParseException.class);
        }
    }

    @Test
    void decodesAnInsertWithEveryTypeIntoCanonicalValues() {
        ChangeEvent event = decoder.decode(record("c", null, row(42L, "hello")));

        assertThat(event.table()).isEqualTo("public.orders");
        assertThat(event.operation()).isEqualTo(Operation.INSERT);
        assertThat(event.key()).containsExactly(42L);
        assertThat(event.before()).isNull();
        assertThat(event.position()).isEqualTo(new SourcePosition(4096L, 5000L, 77L));
        assertThat(event.sourceTimeMillis()).isEqualTo(1_700_000_000_000L);
        Map<String, Object> after = event.after();
        assertThat(after.keySet())
                .containsExactly(
                        "id", "qty", "amount", "paid", "note", "day", "at", "at_tz", "t", "raw");
        assertThat(after.get("qty")).isEqualTo(3);
        assertThat(after.get("amount")).isEqualTo(new BigDecimal("12.34"));
        assertThat(after.get("paid")).isEqualTo(true);
        assertThat(after.get("day")).isEqualTo(LocalDate.ofEpochDay(19_000));
        assertThat(after.get("at")).isEqualTo(LocalDateTime.parse("2023-11-14T22:13:20.123456"));
        assertThat(after.get("at_tz")).isEqualTo(Instant.parse("2024-03-01T10:15:30.123456Z"));
        assertThat(after.get("t")).isEqualTo(LocalTime.parse("01:02:03.000001"));
        assertThat((byte[]) after.get("raw")).containsExactly(1, 2, 3);
    }

    @Test
    void mapsEveryOperation() {
        assertThat(decoder.decode(record("r", null, row(1, "a"))).operation())
                .isEqualTo(Operation.READ);
        assertThat(decoder.decode(record("u", row(1, "a"), row(1, "b"))).operation())
                .isEqualTo(Operation.UPDATE);
        ChangeEvent delete = decoder.decode(record("d", row(7, "a"), null));
        assertThat(delete.operation()).isEqualTo(Operation.DELETE);
        assertThat(delete.key()).containsExactly(7L);
        assertThat(delete.image()).isSameAs(delete.before());
    }

    @Test
    void aTruncateIsTheTablesChangeWithoutKeyOrImages() {
        ChangeEvent truncate = decoder.decode(record("t", null, null));

        assertThat(truncate.operation()).isEqualTo(Operation.TRUNCATE);
        assertThat(truncate.table()).isEqualTo("public.orders");
        assertThat(truncate.key()).isEmpty();
        assertThat(truncate.before()).isNull();
        assertThat(truncate.after()).isNull();
        assertThat(truncate.position()).isEqualTo(new SourcePosition(4096L, 5000L, 77L));
    }

    @Test
    void aTruncateReadWhileTheSnapshotWasReadIsMarkedSo() {
        SourceRecord record = record("t", null, null);
        record.headers().addString(DebeziumDecoder.TRUNCATE_DURING_SNAPSHOT, "LSN 0/1388");

        ChangeEvent truncate = decoder.decode(record);

        assertThat(truncate.operation()).isEqualTo(Operation.TRUNCATE);
        assertThat(truncate.truncateDuringSnapshot()).isEqualTo("LSN 0/1388");
        assertThat(truncate.position()).isEqualTo(new SourcePosition(4096L, 5000L, 77L));
        assertThat(decoder.decode(record("t", null, null)).truncateDuringSnapshot()).isNull();
    }

    private static final Schema BINLOG_SOURCE =
            SchemaBuilder.struct()
                    .name("io.debezium.connector.mysql.Source")
                    .field("ts_ms", Schema.INT64_SCHEMA)
                    .field("db", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("table", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("file", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("pos", Schema.OPTIONAL_INT64_SCHEMA)
                    .field("row", Schema.OPTIONAL_INT32_SCHEMA)
                    .build();

    private static final Schema DDL =
            SchemaBuilder.struct()
                    .field("source", BINLOG_SOURCE)
                    .field("databaseName", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("ddl", Schema.OPTIONAL_STRING_SCHEMA)
                    .build();

    private static Struct binlogSource(String file, Long pos) {
        return new Struct(BINLOG_SOURCE)
                .put("ts_ms", 1_700_000_000_000L)
                .put("db", "public")
                .put("file", file)
                .put("pos", pos);
    }

    private SourceRecord ddl(String statement) {
        Struct value =
                new Struct(DDL)
                        .put("source", binlogSource("mysql-bin.000003", 4242L))
                        .put("databaseName", "public")
                        .put("ddl", statement);
        return new SourceRecord(Map.of(), Map.of(), "t", null, null, DDL, value);
    }

    @Test
    void aBinlogChangeCarriesItsTransactionsFirstEventAsItsTransaction() {
        // Debezium's offset of a change inside a transaction: where a restart reads it again
        SourceRecord inTransaction =
                new SourceRecord(
                        Map.of(),
                        Map.of("file", "mysql-bin.000003", "pos", 4000L, "event", 2L),
                        "t",
                        null,
                        null,
                        DDL,
                        ddl("TRUNCATE TABLE orders").value());
        SourcePosition position = decoder.decode(inTransaction).position();
        assertThat(position.commitLsn())
                .isEqualTo(BinlogPosition.of("mysql-bin.000003", 4242L, 0).commitLsn());
        assertThat(position.txId()).isEqualTo(BinlogPosition.place("mysql-bin.000003", 4000L));
    }

    @Test
    void aBinlogTruncateOfACapturedTableIsItsChangeAtItsPositionAndOtherStatementsCarryNothing() {
        for (String statement :
                List.of(
                        "TRUNCATE TABLE orders",
                        "truncate `public`.`orders`;",
                        "TRUNCATE public.orders")) {
            ChangeEvent truncate = decoder.decode(ddl(statement));
            assertThat(truncate.operation()).as(statement).isEqualTo(Operation.TRUNCATE);
            assertThat(truncate.table()).isEqualTo("public.orders");
            assertThat(truncate.position())
                    .isEqualTo(BinlogPosition.of("mysql-bin.000003", 4242L, 0));
            assertThat(truncate.truncateDuringSnapshot()).isNull();
        }
        // marked by the reader: made while the table's chunks were read
        SourceRecord marked = ddl("TRUNCATE TABLE orders");
        marked.headers()
                .addString(
                        DebeziumDecoder.TRUNCATE_DURING_SNAPSHOT, "binlog mysql-bin.000003:4242");
        assertThat(decoder.decode(marked).truncateDuringSnapshot())
                .isEqualTo("binlog mysql-bin.000003:4242");
        // as Flink CDC's MySQL source emits them: Debezium's history record as JSON
        Schema history =
                SchemaBuilder.struct()
                        .field("source", BINLOG_SOURCE)
                        .field("historyRecord", Schema.OPTIONAL_STRING_SCHEMA)
                        .build();
        Struct value =
                new Struct(history)
                        .put("source", binlogSource("mysql-bin.000004", 77L))
                        .put(
                                "historyRecord",
                                "{\"databaseName\":\"public\",\"ddl\":\"TRUNCATE TABLE orders\"}");
        ChangeEvent fromHistory =
                decoder.decode(
                        new SourceRecord(Map.of(), Map.of(), "t", null, null, history, value));
        assertThat(fromHistory.operation()).isEqualTo(Operation.TRUNCATE);
        assertThat(fromHistory.table()).isEqualTo("public.orders");
        assertThat(fromHistory.position()).isEqualTo(BinlogPosition.of("mysql-bin.000004", 77L, 0));
        // a statement without a place in the binlog cannot be ordered: quarantined, saying so
        value.put("source", binlogSource(null, null));
        ChangeEvent unplaced =
                decoder.decode(
                        new SourceRecord(Map.of(), Map.of(), "t", null, null, history, value));
        assertThat(unplaced.operation()).isEqualTo(Operation.MALFORMED);
        assertThat(unplaced.malformedReason()).isEqualTo("TRUNCATE");
        assertThat(unplaced.malformedDetail()).contains("not applied", "no binlog position");
        value.put(
                "historyRecord",
                "{\"databaseName\":\"public\",\"ddl\":\"ALTER TABLE orders ADD c int\"}");
        assertThat(
                        decoder.decode(
                                new SourceRecord(
                                        Map.of(), Map.of(), "t", null, null, history, value)))
                .isNull();
        assertThat(decoder.decode(ddl("TRUNCATE TABLE other"))).isNull();
        assertThat(decoder.decode(ddl("ALTER TABLE orders ADD COLUMN x int"))).isNull();
        assertThat(decoder.decode(ddl("CREATE TABLE t2 (id int)"))).isNull();
    }

    @Test
    void infiniteDatesAndTimestampsAreNotRepresentableAndQuarantinedNamingTheColumn() {
        Struct infinite = row(1, "a").put("day", (int) -2_147_472_692L);
        ChangeEvent date = decoder.decode(record("c", null, infinite));
        assertThat(date.operation()).isEqualTo(Operation.MALFORMED);
        assertThat(date.malformedReason()).isEqualTo("NOT_REPRESENTABLE");
        assertThat(date.malformedDetail()).contains("'day'", "'infinity'");

        Struct minus = row(1, "a").put("at", -9_223_372_036_832_400_000L);
        assertThat(decoder.decode(record("c", null, minus)).malformedDetail())
                .contains("'at'", "'-infinity'");
        Struct zoned = row(1, "a").put("at_tz", "infinity");
        assertThat(decoder.decode(record("c", null, zoned)).malformedReason())
                .isEqualTo("NOT_REPRESENTABLE");

        // in the old row only: an update away from infinity applies
        ChangeEvent update = decoder.decode(record("u", infinite, row(1, "b")));
        assertThat(update.operation()).isEqualTo(Operation.UPDATE);
        assertThat(update.before()).containsEntry("day", null);
        assertThat(update.after()).containsEntry("day", LocalDate.ofEpochDay(19_000));
    }

    @Test
    void keyOfAPrimaryKeyUpdateIsTheNewKey() {
        ChangeEvent update = decoder.decode(record("u", row(1, "a"), row(2, "a")));
        assertThat(update.key()).containsExactly(2L);
        assertThat(update.before().get("id")).isEqualTo(1L);
    }

    @Test
    void anUnchangedOutOfLineValueIsTakenFromTheFullOldImage() {
        // REPLICA IDENTITY FULL: the old image holds the value the update left unchanged
        Struct after =
                row(1, DebeziumDecoder.UNAVAILABLE)
                        .put("raw", DebeziumDecoder.UNAVAILABLE.getBytes(StandardCharsets.UTF_8));
        ChangeEvent update = decoder.decode(record("u", row(1, "big text"), after));

        assertThat(update.operation()).isEqualTo(Operation.UPDATE);
        assertThat(update.after().get("note")).isEqualTo("big text");
        assertThat((byte[]) update.after().get("raw")).containsExactly(1, 2, 3);
    }

    @Test
    void anUnchangedOutOfLineValueWithoutTheOldImageIsQuarantinedNamingTheFix() {
        // REPLICA IDENTITY DEFAULT: no old image, the value is Debezium's stand-in
        ChangeEvent update = decoder.decode(record("u", null, row(1, DebeziumDecoder.UNAVAILABLE)));

        assertThat(update.operation()).isEqualTo(Operation.MALFORMED);
        assertThat(update.malformedReason()).isEqualTo("UNAVAILABLE_VALUE");
        assertThat(update.malformedDetail())
                .contains("[note]")
                .contains("ALTER TABLE public.orders REPLICA IDENTITY FULL");
        // an old image without the column's value (an index identity) does not resolve it
        Struct keyOnly = new Struct(ROW).put("id", 1L);
        assertThat(
                        decoder.decode(record("u", keyOnly, row(1, DebeziumDecoder.UNAVAILABLE)))
                                .malformedReason())
                .isEqualTo("UNAVAILABLE_VALUE");
    }

    @Test
    void recordsWithoutAValueAreSkipped() {
        SourceRecord tombstone = new SourceRecord(Map.of(), Map.of(), "t", null, null, null, null);
        assertThat(decoder.decode(tombstone)).isNull();
    }

    @Test
    void aChangeForAnUnknownTableBecomesMalformedNamingIt() {
        DebeziumDecoder other = new DebeziumDecoder(Map.of("public.customers", List.of("id")));
        ChangeEvent event = other.decode(record("c", null, row(1, "a")));

        assertThat(event.operation()).isEqualTo(Operation.MALFORMED);
        assertThat(event.table()).isEqualTo("public.orders");
        assertThat(event.malformedReason()).isEqualTo("UNKNOWN_TABLE");
        assertThat(event.malformedDetail())
                .isEqualTo(
                        "UnknownTableException: change for table 'public.orders', which is not in the pipeline's tables [public.customers]");
        assertThat(event.malformedPayload()).contains("orders");
        assertThat(event.position()).isEqualTo(new SourcePosition(4096L, 5000L, 77L));
        assertThat(event.sourceTimeMillis()).isEqualTo(1_700_000_000_000L);
    }

    @Test
    void aTableCreatedWhileRunningTakesItsKeyFromTheRecordKey() {
        PipelineConfig file =
                new PipelineConfigLoader(name -> null)
                        .parse(
                                """
                                        pipeline:
                                          id: live
                                        source:
                                          type: mysql
                                          hostname: db
                                          database: public
                                          username: cdc
                                        catalog:
                                          type: jdbc
                                          properties:
                                            uri: jdbc:postgresql://catalog/iceberg
                                        tables:
                                          - source: public.*
                                            target: lake.*
                                            new-tables: capture
                                        """,
                                "live.yaml");
        // resolved with no table at the start: every table of 'public' is live
        LiveTables live = LiveTables.of(file.withTables(List.of(), file.tables()));
        DebeziumDecoder decoder = new DebeziumDecoder("default", Map.of(), live);
        Schema keySchema = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();
        SourceRecord insert = record("c", null, row(7, "new table"));
        SourceRecord keyed =
                new SourceRecord(
                        Map.of(),
                        Map.of(),
                        "t",
                        null,
                        keySchema,
                        new Struct(keySchema).put("id", 7L),
                        ENVELOPE,
                        insert.value());

        ChangeEvent event = decoder.decode(keyed);
        assertThat(event.operation()).isEqualTo(Operation.INSERT);
        assertThat(event.table()).isEqualTo("public.orders");
        assertThat(event.key()).containsExactly(7L);

        // without a key (the table has no primary key): quarantined, with the reason
        ChangeEvent keyless = decoder.decode(insert);
        assertThat(keyless.operation()).isEqualTo(Operation.MALFORMED);
        assertThat(keyless.malformedReason()).isEqualTo("UNKNOWN_TABLE");
        assertThat(keyless.malformedDetail())
                .contains("table 'public.orders', created while the job runs, has no primary key");
        assertThat(live.sourceOfTarget("lake.orders")).isEqualTo("public.orders");
        assertThat(live.sourceOfTarget("other.orders")).isNull();
    }

    @Test
    void deleteWithoutTheKeyColumnIsMalformedAndTellsWhatToFix() {
        DebeziumDecoder byNote = new DebeziumDecoder(Map.of("public.orders", List.of("missing")));
        ChangeEvent event = byNote.decode(record("d", row(1, "a"), null));

        assertThat(event.operation()).isEqualTo(Operation.MALFORMED);
        assertThat(event.malformedReason()).isEqualTo("CORRUPT_ENVELOPE");
        assertThat(event.malformedDetail())
                .isEqualTo(
                        "IllegalArgumentException: DELETE change for table 'public.orders' lacks primary key column 'missing' "
                                + "(for deletes set REPLICA IDENTITY FULL or make it the table's key)");
    }

    @Test
    void corruptEnvelopesBecomeMalformedChanges() {
        assertThat(decoder.decode(record("x", null, row(1, "a"))).malformedDetail())
                .isEqualTo(
                        "IllegalArgumentException: unknown operation 'x' for table 'public.orders'");
        assertThat(decoder.decode(record(null, null, row(1, "a"))).malformedDetail())
                .isEqualTo(
                        "IllegalArgumentException: a change for table 'public.orders' without 'op'");
        ChangeEvent noImage = decoder.decode(record("c", null, null));
        assertThat(noImage.malformedReason()).isEqualTo("CORRUPT_ENVELOPE");
        assertThat(noImage.malformedDetail())
                .isEqualTo(
                        "IllegalArgumentException: INSERT change for table 'public.orders' has no after image");
        Schema noSource =
                SchemaBuilder.struct()
                        .field("op", Schema.OPTIONAL_STRING_SCHEMA)
                        .field("after", ROW)
                        .build();
        ChangeEvent bare =
                decoder.decode(
                        new SourceRecord(
                                Map.of(),
                                Map.of(),
                                "t",
                                null,
                                null,
                                noSource,
                                new Struct(noSource).put("op", "c").put("after", row(1, "a"))));
        assertThat(bare.operation()).isEqualTo(Operation.MALFORMED);
        assertThat(bare.table()).isEqualTo("unknown");
        assertThat(bare.malformedDetail())
                .isEqualTo("IllegalArgumentException: a change envelope without 'source'");
        assertThat(bare.position().commitLsn()).isEqualTo(SourcePosition.UNKNOWN);
    }

    @Test
    void sequenceParsing() {
        assertThat(SourceFields.firstOfSequence("[\"24023928\",\"24023960\"]"))
                .isEqualTo(24023928L);
        assertThat(SourceFields.firstOfSequence("[null,\"24023960\"]"))
                .isEqualTo(SourcePosition.UNKNOWN);
        assertThat(SourceFields.firstOfSequence("[]")).isEqualTo(SourcePosition.UNKNOWN);
    }

    @Test
    void unsupportedStructuredTypeNamesTableAndColumn() {
        Schema array = SchemaBuilder.array(Schema.INT32_SCHEMA).build();
        assertThatThrownBy(
                        () -> ValueConversion.convert(List.of(1), array, "public.orders", "tags"))
                .hasMessage(
                        "table 'public.orders' column 'tags': unsupported source type ARRAY; "
                                + "exclude the column or cast it in a view");
    }
}
