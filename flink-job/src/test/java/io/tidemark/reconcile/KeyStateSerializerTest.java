package io.tidemark.reconcile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

class KeyStateSerializerTest {

    private static final KeyState STATE = new KeyState(new Sequence(1, 2, 3), true, 4, 5);

    /** VERSION_1 bytes (release 0.1.0), frozen: every later release must read them. */
    private static final String VERSION_1_BYTES =
            "01"
                    + "0000000000000001"
                    + "0000000000000002"
                    + "0000000000000003"
                    + "01"
                    + "0000000000000004"
                    + "0000000000000005";

    @Test
    void roundTrips() throws Exception {
        DataOutputSerializer out = new DataOutputSerializer(64);
        KeyStateSerializer.INSTANCE.serialize(STATE, out);
        assertThat(out.length()).isEqualTo(KeyStateSerializer.INSTANCE.getLength());
        assertThat(
                        KeyStateSerializer.INSTANCE.deserialize(
                                new DataInputDeserializer(out.getCopyOfBuffer())))
                .isEqualTo(STATE);
    }

    @Test
    void readsFrozenVersion1Bytes() throws Exception {
        byte[] bytes = HexFormat.of().parseHex(VERSION_1_BYTES);
        assertThat(KeyStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes)))
                .isEqualTo(STATE);
        DataOutputSerializer out = new DataOutputSerializer(64);
        KeyStateSerializer.INSTANCE.serialize(STATE, out);
        assertThat(out.getCopyOfBuffer()).isEqualTo(bytes);
    }

    @Test
    void unknownVersionTellsWhatToDo() {
        byte[] bytes = HexFormat.of().parseHex("09" + VERSION_1_BYTES.substring(2));
        assertThatThrownBy(
                        () ->
                                KeyStateSerializer.INSTANCE.deserialize(
                                        new DataInputDeserializer(bytes)))
                .hasMessage(
                        "reconciler key state version 9 is not known to this build (knows 1): "
                                + "restore with the Tidemark release that wrote the savepoint");
    }
}
