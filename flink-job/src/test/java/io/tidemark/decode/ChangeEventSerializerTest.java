package io.tidemark.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class ChangeEventSerializerTest {

    private static final ChangeEventSerializer SERIALIZER = ChangeEventSerializer.INSTANCE;

    static ChangeEvent sample() {
        Map<String, Object> before = new LinkedHashMap<>();
        before.put("id", 1L);
        before.put("name", "old");
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("id", 2L);
        after.put("name", "a long ".repeat(20_000)); // beyond writeUTF's 64 KiB
        after.put("flag", true);
        after.put("qty", 5);
        after.put("ratio", 1.5f);
        after.put("weight", 2.25d);
        after.put("amount", new BigDecimal("-12345678901234567890.12"));
        after.put("raw", new byte[] {0, -1, 127});
        after.put("day", LocalDate.of(1969, 12, 31));
        after.put("time", LocalTime.of(23, 59, 59, 999_999_000));
        after.put("ts", LocalDateTime.of(1900, 1, 1, 0, 0, 0, 1_000));
        after.put("tstz", Instant.parse("2024-02-29T12:00:00.000001Z"));
        after.put("none", null);
        return new ChangeEvent(
                "public.orders",
                Operation.UPDATE,
                List.of(2L),
                before,
                after,
                new SourcePosition(100L, 101L, 7L),
                1_700_000_000_000L);
    }

    private static ChangeEvent roundTrip(ChangeEvent event) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        SERIALIZER.serialize(event, out);
        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        ChangeEvent copy = SERIALIZER.deserialize(in);
        assertThat(in.available()).isZero();
        return copy;
    }

    @Test
    void roundTripsEveryValueType() throws IOException {
        ChangeEvent event = sample();
        ChangeEvent copy = roundTrip(event);

        assertThat(copy).isEqualTo(event);
        assertThat(copy.after().keySet()).containsExactlyElementsOf(event.after().keySet());
        assertThat(
                        Arrays.equals(
                                (byte[]) copy.after().get("raw"),
                                (byte[]) event.after().get("raw")))
                .isTrue();
    }

    @Test
    void roundTripsADeleteWithoutAfterImage() throws IOException {
        ChangeEvent delete =
                new ChangeEvent(
                        "s.t",
                        Operation.DELETE,
                        List.of("k"),
                        Map.of("id", "k"),
                        null,
                        SourcePosition.NONE,
                        0L);
        assertThat(roundTrip(delete)).isEqualTo(delete);
    }

    /**
     * Bytes written by VERSION_1 (release 0.1.0), frozen here: every later release must read them
     * into the same event.
     */
    private static final String VERSION_1_BYTES =
            "097075626c69632e74020000000000000001000000000000000200000000000000030000000000000004"
                    + "000000010300000000000000010000000103696403000000000000000100000005036964030000"
                    + "000000000001056e616d650602e90107616d6f756e7407000000020000000200960361740c0000"
                    + "000065920080000003e8026e00";

    @Test
    void readsVersion1Bytes() throws IOException {
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("id", 1L);
        after.put("name", "\u00e9");
        after.put("amount", new BigDecimal("1.50"));
        after.put("at", Instant.parse("2024-01-01T00:00:00.000001Z"));
        after.put("n", null);
        ChangeEvent expected =
                new ChangeEvent(
                        "public.t",
                        Operation.UPDATE,
                        List.of(1L),
                        Map.of("id", 1L),
                        after,
                        new SourcePosition(1L, 2L, 3L),
                        4L);
        byte[] version1 = java.util.HexFormat.of().parseHex(VERSION_1_BYTES);

        ChangeEventSerializer reader =
                ChangeEventSerializer.forVersion(ChangeEventSerializer.VERSION_1);
        ChangeEvent read = reader.deserialize(new DataInputDeserializer(version1));

        assertThat(read).isEqualTo(expected);
        assertThat(read.source()).isEqualTo(ChangeEvent.DEFAULT_SOURCE);
        assertThat(((BigDecimal) read.after().get("amount")).scale()).isEqualTo(2);
        DataOutputSerializer out = new DataOutputSerializer(64);
        reader.serialize(read, out);
        assertThat(out.getCopyOfBuffer()).isEqualTo(version1);
    }

    @Test
    void version2CarriesTheSource() throws IOException {
        ChangeEvent fromShard =
                new ChangeEvent(
                        "shard_b",
                        "public.t",
                        Operation.INSERT,
                        List.of(1L),
                        null,
                        Map.of("id", 1L),
                        new SourcePosition(1L, 2L, 3L),
                        4L);
        ChangeEvent copy = roundTrip(fromShard);
        assertThat(copy.source()).isEqualTo("shard_b");
        assertThat(copy).isEqualTo(fromShard);
    }

    @Test
    void aVersion1SnapshotRestoresWithTheVersion1ReaderAndMigrates() throws IOException {
        ChangeEventSerializer.Snapshot old = new ChangeEventSerializer.Snapshot();
        old.readSnapshot(
                ChangeEventSerializer.VERSION_1,
                new DataInputDeserializer(new byte[0]),
                getClass().getClassLoader());
        assertThat(old.restoreSerializer())
                .isEqualTo(ChangeEventSerializer.forVersion(ChangeEventSerializer.VERSION_1));
        assertThat(
                        SERIALIZER
                                .snapshotConfiguration()
                                .resolveSchemaCompatibility(old)
                                .isCompatibleAfterMigration())
                .isTrue();
    }

    @Test
    void snapshotRestoresAndIsCompatible() throws IOException {
        ChangeEventSerializer.Snapshot snapshot =
                (ChangeEventSerializer.Snapshot) SERIALIZER.snapshotConfiguration();
        assertThat(snapshot.getCurrentVersion()).isEqualTo(ChangeEventSerializer.VERSION_2);
        ChangeEventSerializer.Snapshot restored = new ChangeEventSerializer.Snapshot();
        restored.readSnapshot(
                ChangeEventSerializer.VERSION_2,
                new DataInputDeserializer(new byte[0]),
                getClass().getClassLoader());
        assertThat(restored.restoreSerializer()).isSameAs(SERIALIZER);
        TypeSerializerSchemaCompatibility<ChangeEvent> compatibility =
                snapshot.resolveSchemaCompatibility(restored);
        assertThat(compatibility.isCompatibleAsIs()).isTrue();
    }

    @Test
    void unknownFutureVersionFailsWithAnInstruction() {
        assertThatThrownBy(
                        () ->
                                new ChangeEventSerializer.Snapshot()
                                        .readSnapshot(
                                                99,
                                                new DataInputDeserializer(new byte[0]),
                                                getClass().getClassLoader()))
                .hasMessage(
                        "ChangeEvent serializer version 99 is not known to this build (knows 1..2): "
                                + "restore with the Tidemark release that wrote the savepoint");
    }

    @Test
    void flinkExtractsTheOwnTypeInformationNotKryo() {
        TypeInformation<ChangeEvent> info = TypeInformation.of(ChangeEvent.class);
        assertThat(info).isEqualTo(ChangeEventTypeInfoFactory.ChangeEventTypeInfo.INSTANCE);
        assertThat(
                        info.createSerializer(
                                new org.apache.flink.api.common.serialization
                                        .SerializerConfigImpl()))
                .isSameAs(SERIALIZER);
    }

    @Test
    void nonCanonicalValueIsRefused() {
        ChangeEvent odd =
                new ChangeEvent(
                        "s.t",
                        Operation.INSERT,
                        List.of(1),
                        null,
                        Map.of("id", new java.util.Date()),
                        SourcePosition.NONE,
                        0L);
        assertThatThrownBy(() -> SERIALIZER.serialize(odd, new DataOutputSerializer(16)))
                .hasMessage("ChangeEvent values must be canonical types; got java.util.Date");
    }
}
