package io.tidemark.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class KeyStateSerializerTest {

    private static final KeyStateSerializer SERIALIZER = KeyStateSerializer.INSTANCE;

    /** VERSION_1 bytes, frozen: every later release must read them (source rank 0). */
    private static final String VERSION_1_BYTES =
            "01"
                    + "0000000000000001"
                    + "0000000000000002"
                    + "0000000000000003"
                    + "01"
                    + "0000000000000004"
                    + "0000000000000005";

    /** VERSION_2 bytes, frozen: source rank 7 after the sequence's event time. */
    private static final String VERSION_2_BYTES =
            "02"
                    + "0000000000000001"
                    + "00000007"
                    + "0000000000000002"
                    + "0000000000000003"
                    + "01"
                    + "0000000000000004"
                    + "0000000000000005";

    private static final KeyState FROM_V1 = new KeyState(new Sequence(1, 0, 2, 3), true, 4, 5);
    private static final KeyState FROM_SOURCE_7 =
            new KeyState(new Sequence(1, 7, 2, 3), true, 4, 5);

    private static KeyState read(String hex) throws Exception {
        return SERIALIZER.deserialize(new DataInputDeserializer(HexFormat.of().parseHex(hex)));
    }

    @Test
    void writesVersion2AndReadsItBack() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        SERIALIZER.serialize(FROM_SOURCE_7, out);
        assertThat(out.getCopyOfBuffer()).isEqualTo(HexFormat.of().parseHex(VERSION_2_BYTES));
        assertThat(read(VERSION_2_BYTES)).isEqualTo(FROM_SOURCE_7);
    }

    @Test
    void readsFrozenVersion1Bytes() throws Exception {
        assertThat(read(VERSION_1_BYTES)).isEqualTo(FROM_V1);
    }

    @Test
    void copiesRecordsOfEitherVersion() throws Exception {
        for (String hex : new String[] {VERSION_1_BYTES, VERSION_2_BYTES}) {
            DataOutputSerializer out = new DataOutputSerializer(64);
            SERIALIZER.copy(new DataInputDeserializer(HexFormat.of().parseHex(hex)), out);
            assertThat(SERIALIZER.deserialize(new DataInputDeserializer(out.getCopyOfBuffer())))
                    .isEqualTo(read(hex));
        }
    }

    @Test
    void unknownVersionTellsWhatToDo() {
        assertThatThrownBy(() -> read("09" + VERSION_1_BYTES.substring(2)))
                .hasMessage(
                        "reconciler key state version 9 is not known to this build (knows 1..2): "
                                + "restore with the Tidemark release that wrote the savepoint");
    }
}
