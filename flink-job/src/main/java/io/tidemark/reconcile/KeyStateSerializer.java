package io.tidemark.reconcile;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Versioned binary form of {@link KeyState} (reconciler state). Every record starts with its
 * version byte, so this release reads every older one:
 *
 * <ul>
 *   <li>{@value #VERSION_1}: sequence event time, major, minor; tombstone flag; event time; cleanup
 *       time (42 bytes). Read with source rank 0.
 *   <li>{@value #VERSION_2} (written now): as version 1 with the sequence's source rank (an int)
 *       after its event time (46 bytes).
 * </ul>
 */
public final class KeyStateSerializer extends TypeSerializerSingleton<KeyState> {

    private static final long serialVersionUID = 1L;

    public static final int VERSION_1 = 1;
    public static final int VERSION_2 = 2;

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
        return -1; // records of older versions are shorter
    }

    @Override
    public void serialize(KeyState state, DataOutputView out) throws IOException {
        out.writeByte(VERSION_2);
        out.writeLong(state.applied().eventTime());
        out.writeInt(state.applied().source());
        out.writeLong(state.applied().major());
        out.writeLong(state.applied().minor());
        out.writeBoolean(state.tombstone());
        out.writeLong(state.eventTime());
        out.writeLong(state.cleanupAt());
    }

    @Override
    public KeyState deserialize(DataInputView in) throws IOException {
        int version = in.readByte();
        if (version != VERSION_1 && version != VERSION_2) {
            throw new IOException(
                    "reconciler key state version "
                            + version
                            + " is not known to this build (knows 1..2): "
                            + "restore with the Tidemark release that wrote the savepoint");
        }
        long eventTime = in.readLong();
        int source = version >= VERSION_2 ? in.readInt() : 0;
        Sequence applied = new Sequence(eventTime, source, in.readLong(), in.readLong());
        return new KeyState(applied, in.readBoolean(), in.readLong(), in.readLong());
    }

    @Override
    public KeyState deserialize(KeyState reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
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
