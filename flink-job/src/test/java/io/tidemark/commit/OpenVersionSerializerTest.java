package io.tidemark.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class OpenVersionSerializerTest {

    private static final OpenVersionSerializer SERIALIZER = OpenVersionSerializer.INSTANCE;

    /**
     * VERSION_1 bytes of a key a truncate closed (no change), frozen: every later release must read
     * them. Version 3, from 1,000 ms, operation "truncate".
     */
    private static final String VERSION_1_CLOSED =
            "01" + "0000000000000003" + "00000000000003e8" + "0008" + "7472756e63617465" + "00";

    private static OpenVersion roundTrip(OpenVersion version) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(128);
        SERIALIZER.serialize(version, out);
        return SERIALIZER.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
    }

    @Test
    void writesAndReadsAVersionWithItsChange() throws Exception {
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("id", 42L);
        after.put("balance", new BigDecimal("12.50"));
        after.put("owner", null);
        ChangeEvent change =
                new ChangeEvent(
                        "shop",
                        "public.accounts",
                        Operation.UPDATE,
                        List.of(42L),
                        null,
                        after,
                        new SourcePosition(100, 101, 7),
                        1_700_000_000_000L);
        OpenVersion version = new OpenVersion(5, 1_700_000_000_000L, "update", change);
        assertThat(roundTrip(version)).isEqualTo(version);
    }

    @Test
    void readsFrozenVersion1BytesOfAClosedKey() throws Exception {
        OpenVersion closed = new OpenVersion(3, 1_000, "truncate", null);
        DataOutputSerializer out = new DataOutputSerializer(64);
        SERIALIZER.serialize(closed, out);
        assertThat(HexFormat.of().formatHex(out.getCopyOfBuffer())).isEqualTo(VERSION_1_CLOSED);
        assertThat(
                        SERIALIZER.deserialize(
                                new DataInputDeserializer(
                                        HexFormat.of().parseHex(VERSION_1_CLOSED))))
                .isEqualTo(closed);
    }

    @Test
    void refusesAVersionItDoesNotKnowNamingTheFix() {
        assertThatThrownBy(
                        () ->
                                SERIALIZER.deserialize(
                                        new DataInputDeserializer(HexFormat.of().parseHex("09"))))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("restore with the Tidemark release that wrote the savepoint");
    }
}
