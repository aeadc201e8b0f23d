package io.tidemark.commit;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventSerializer;
import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Versioned binary form of {@link OpenVersion} (history writer state). Every record starts with its
 * version byte:
 *
 * <ul>
 *   <li>{@value #VERSION_1} (written now): version number, valid-from millis, operation (UTF), then
 *       a presence byte and, when present, the {@link ChangeEventSerializer} format byte and the
 *       change in that format.
 * </ul>
 */
final class OpenVersionSerializer extends TypeSerializerSingleton<OpenVersion> {

    private static final long serialVersionUID = 1L;

    static final int VERSION_1 = 1;

    static final OpenVersionSerializer INSTANCE = new OpenVersionSerializer();

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public OpenVersion createInstance() {
        return null;
    }

    @Override
    public OpenVersion copy(OpenVersion from) {
        return from;
    }

    @Override
    public OpenVersion copy(OpenVersion from, OpenVersion reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(OpenVersion open, DataOutputView out) throws IOException {
        out.writeByte(VERSION_1);
        out.writeLong(open.version());
        out.writeLong(open.validFromMillis());
        out.writeUTF(open.operation());
        if (open.change() == null) {
            out.writeBoolean(false);
        } else {
            out.writeBoolean(true);
            out.writeByte(ChangeEventSerializer.CURRENT_VERSION);
            ChangeEventSerializer.INSTANCE.serialize(open.change(), out);
        }
    }

    @Override
    public OpenVersion deserialize(DataInputView in) throws IOException {
        int version = in.readByte();
        if (version != VERSION_1) {
            throw new IOException(
                    "history writer state version "
                            + version
                            + " is not known to this build (knows 1): "
                            + "restore with the Tidemark release that wrote the savepoint");
        }
        long number = in.readLong();
        long validFrom = in.readLong();
        String operation = in.readUTF();
        ChangeEvent change = null;
        if (in.readBoolean()) {
            change = ChangeEventSerializer.forVersion(in.readByte()).deserialize(in);
        }
        return new OpenVersion(number, validFrom, operation, change);
    }

    @Override
    public OpenVersion deserialize(OpenVersion reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    @Override
    public TypeSerializerSnapshot<OpenVersion> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Serializer snapshot; the data carries its own version byte. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<OpenVersion> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
