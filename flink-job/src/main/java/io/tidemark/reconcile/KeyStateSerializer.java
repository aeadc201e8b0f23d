package io.tidemark.reconcile;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Versioned binary form of {@link KeyState} (reconciler state). Format {@value #VERSION_1}: a
 * version byte, event time of the sequence, major, minor, tombstone flag, event time, cleanup time
 * ({@value #LENGTH} bytes). Each record carries its version byte so a later release can read every
 * older one.
 */
public final class KeyStateSerializer extends TypeSerializerSingleton<KeyState> {

    private static final long serialVersionUID = 1L;

    public static final int VERSION_1 = 1;

    /** Version byte, three sequence longs, the tombstone flag, event time and cleanup time. */
    static final int LENGTH = 1 + 3 * Long.BYTES + 1 + 2 * Long.BYTES;

    public static final KeyStateSerializer INSTANCE = new KeyStateSerializer();

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public KeyState createInstance() {
        return null;
    }

    @Override
    public KeyState copy(KeyState from) {
        return from;
    }

    @Override
    public KeyState copy(KeyState from, KeyState reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return LENGTH;
    }

    @Override
    public void serialize(KeyState state, DataOutputView out) throws IOException {
        out.writeByte(VERSION_1);
        out.writeLong(state.applied().eventTime());
        out.writeLong(state.applied().major());
        out.writeLong(state.applied().minor());
        out.writeBoolean(state.tombstone());
        out.writeLong(state.eventTime());
        out.writeLong(state.cleanupAt());
    }

    @Override
    public KeyState deserialize(DataInputView in) throws IOException {
        int version = in.readByte();
        if (version != VERSION_1) {
            throw new IOException(
                    "reconciler key state version "
                            + version
                            + " is not known to this build (knows 1): "
                            + "restore with the Tidemark release that wrote the savepoint");
        }
        Sequence applied = new Sequence(in.readLong(), in.readLong(), in.readLong());
        return new KeyState(applied, in.readBoolean(), in.readLong(), in.readLong());
    }

    @Override
    public KeyState deserialize(KeyState reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        target.write(source, LENGTH);
    }

    @Override
    public TypeSerializerSnapshot<KeyState> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot; the data carries its own version byte. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<KeyState> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
