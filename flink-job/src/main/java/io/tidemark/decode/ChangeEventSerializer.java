package io.tidemark.decode;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * Versioned binary form of {@link ChangeEvent}: between operators and in state, never Kryo.
 *
 * <p>Format {@value #VERSION_1}: table, operation code, position (commit LSN, change LSN, tx id),
 * source time, key values, before image, after image. An image is {@code -1} (absent) or a column
 * count followed by (name, value) pairs. A value is a tag byte and its payload; tags are persisted
 * and never renumbered. Format {@value #VERSION_2} writes the source id first, then the same. The
 * snapshot records the version written, so a savepoint restores with the reader it needs (a
 * VERSION_1 change reads as coming from {@link ChangeEvent#DEFAULT_SOURCE}) and Flink migrates it.
 */
public final class ChangeEventSerializer extends TypeSerializer<ChangeEvent> {

    private static final long serialVersionUID = 1L;

    public static final int VERSION_1 = 1;
    public static final int VERSION_2 = 2;
    public static final int CURRENT_VERSION = VERSION_2;

    static final byte NULL = 0;
    static final byte BOOLEAN = 1;
    static final byte INT = 2;
    static final byte LONG = 3;
    static final byte FLOAT = 4;
    static final byte DOUBLE = 5;
    static final byte STRING = 6;
    static final byte DECIMAL = 7;
    static final byte BYTES = 8;
    static final byte DATE = 9;
    static final byte TIME = 10;
    static final byte TIMESTAMP = 11;
    static final byte TIMESTAMP_TZ = 12;

    public static final ChangeEventSerializer INSTANCE = new ChangeEventSerializer(CURRENT_VERSION);

    private static final ChangeEventSerializer VERSION_1_READER =
            new ChangeEventSerializer(VERSION_1);

    /** The format this instance writes and reads. */
    private final int version;

    private ChangeEventSerializer(int version) {
        this.version = version;
    }

    /** The serializer that reads (and writes) format {@code version}. */
    public static ChangeEventSerializer forVersion(int version) {
        switch (version) {
            case VERSION_1:
                return VERSION_1_READER;
            case VERSION_2:
                return INSTANCE;
            default:
                throw new IllegalArgumentException("unknown ChangeEvent format version " + version);
        }
    }

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public TypeSerializer<ChangeEvent> duplicate() {
        return this;
    }

    @Override
    public ChangeEvent createInstance() {
        return null;
    }

    @Override
    public ChangeEvent copy(ChangeEvent from) {
        return from;
    }

    @Override
    public ChangeEvent copy(ChangeEvent from, ChangeEvent reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(ChangeEvent event, DataOutputView out) throws IOException {
        if (version >= VERSION_2) {
            StringValue.writeString(event.source(), out);
        }
        StringValue.writeString(event.table(), out);
        out.writeByte(event.operation().code());
        out.writeLong(event.position().commitLsn());
        out.writeLong(event.position().changeLsn());
        out.writeLong(event.position().txId());
        out.writeLong(event.sourceTimeMillis());
        out.writeInt(event.key().size());
        for (Object value : event.key()) {
            writeValue(value, out);
        }
        writeImage(event.before(), out);
        writeImage(event.after(), out);
    }

    @Override
    public ChangeEvent deserialize(DataInputView in) throws IOException {
        String source =
                version >= VERSION_2 ? StringValue.readString(in) : ChangeEvent.DEFAULT_SOURCE;
        String table = StringValue.readString(in);
        Operation operation = Operation.ofCode(in.readByte());
        SourcePosition position = new SourcePosition(in.readLong(), in.readLong(), in.readLong());
        long sourceTime = in.readLong();
        int keySize = in.readInt();
        List<Object> key = new ArrayList<>(keySize);
        for (int i = 0; i < keySize; i++) {
            key.add(readValue(in));
        }
        Map<String, Object> before = readImage(in);
        Map<String, Object> after = readImage(in);
        return new ChangeEvent(source, table, operation, key, before, after, position, sourceTime);
    }

    @Override
    public ChangeEvent deserialize(ChangeEvent reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        serialize(deserialize(source), target);
    }

    private static void writeImage(Map<String, Object> image, DataOutputView out)
            throws IOException {
        if (image == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(image.size());
        for (Map.Entry<String, Object> column : image.entrySet()) {
            StringValue.writeString(column.getKey(), out);
            writeValue(column.getValue(), out);
        }
    }

    private static Map<String, Object> readImage(DataInputView in) throws IOException {
        int size = in.readInt();
        if (size < 0) {
            return null;
        }
        Map<String, Object> image = new LinkedHashMap<>(size * 2);
        for (int i = 0; i < size; i++) {
            image.put(StringValue.readString(in), readValue(in));
        }
        return image;
    }

    static void writeValue(Object value, DataOutputView out) throws IOException {
        if (value == null) {
            out.writeByte(NULL);
        } else if (value instanceof Boolean) {
            out.writeByte(BOOLEAN);
            out.writeBoolean((Boolean) value);
        } else if (value instanceof Integer) {
            out.writeByte(INT);
            out.writeInt((Integer) value);
        } else if (value instanceof Long) {
            out.writeByte(LONG);
            out.writeLong((Long) value);
        } else if (value instanceof Float) {
            out.writeByte(FLOAT);
            out.writeFloat((Float) value);
        } else if (value instanceof Double) {
            out.writeByte(DOUBLE);
            out.writeDouble((Double) value);
        } else if (value instanceof String) {
            out.writeByte(STRING);
            StringValue.writeString((String) value, out);
        } else if (value instanceof BigDecimal) {
            BigDecimal decimal = (BigDecimal) value;
            out.writeByte(DECIMAL);
            out.writeInt(decimal.scale());
            byte[] unscaled = decimal.unscaledValue().toByteArray();
            out.writeInt(unscaled.length);
            out.write(unscaled);
        } else if (value instanceof byte[]) {
            byte[] bytes = (byte[]) value;
            out.writeByte(BYTES);
            out.writeInt(bytes.length);
            out.write(bytes);
        } else if (value instanceof LocalDate) {
            out.writeByte(DATE);
            out.writeLong(((LocalDate) value).toEpochDay());
        } else if (value instanceof LocalTime) {
            out.writeByte(TIME);
            out.writeLong(((LocalTime) value).toNanoOfDay());
        } else if (value instanceof LocalDateTime) {
            LocalDateTime ts = (LocalDateTime) value;
            out.writeByte(TIMESTAMP);
            out.writeLong(ts.toEpochSecond(ZoneOffset.UTC));
            out.writeInt(ts.getNano());
        } else if (value instanceof Instant) {
            Instant ts = (Instant) value;
            out.writeByte(TIMESTAMP_TZ);
            out.writeLong(ts.getEpochSecond());
            out.writeInt(ts.getNano());
        } else {
            throw new IllegalArgumentException(
                    "ChangeEvent values must be canonical types; got "
                            + value.getClass().getName());
        }
    }

    static Object readValue(DataInputView in) throws IOException {
        byte tag = in.readByte();
        switch (tag) {
            case NULL:
                return null;
            case BOOLEAN:
                return in.readBoolean();
            case INT:
                return in.readInt();
            case LONG:
                return in.readLong();
            case FLOAT:
                return in.readFloat();
            case DOUBLE:
                return in.readDouble();
            case STRING:
                return StringValue.readString(in);
            case DECIMAL:
                {
                    int scale = in.readInt();
                    byte[] unscaled = new byte[in.readInt()];
                    in.readFully(unscaled);
                    return new BigDecimal(new BigInteger(unscaled), scale);
                }
            case BYTES:
                {
                    byte[] bytes = new byte[in.readInt()];
                    in.readFully(bytes);
                    return bytes;
                }
            case DATE:
                return LocalDate.ofEpochDay(in.readLong());
            case TIME:
                return LocalTime.ofNanoOfDay(in.readLong());
            case TIMESTAMP:
                return LocalDateTime.ofEpochSecond(in.readLong(), in.readInt(), ZoneOffset.UTC);
            case TIMESTAMP_TZ:
                return Instant.ofEpochSecond(in.readLong(), in.readInt());
            default:
                throw new IOException("unknown ChangeEvent value tag " + tag + ": corrupt input");
        }
    }

    @Override
    public boolean equals(Object obj) {
        return obj instanceof ChangeEventSerializer
                && ((ChangeEventSerializer) obj).version == version;
    }

    @Override
    public int hashCode() {
        return 31 * ChangeEventSerializer.class.hashCode() + version;
    }

    private Object readResolve() {
        return forVersion(version);
    }

    @Override
    public TypeSerializerSnapshot<ChangeEvent> snapshotConfiguration() {
        return new Snapshot(version);
    }

    /** Records the format version written; restores with the reader of that version. */
    public static final class Snapshot implements TypeSerializerSnapshot<ChangeEvent> {

        private int readVersion;

        /** For Flink's reflective instantiation on restore. */
        public Snapshot() {
            this(CURRENT_VERSION);
        }

        Snapshot(int version) {
            this.readVersion = version;
        }

        /** The format the snapshotted serializer wrote. */
        public int formatVersion() {
            return readVersion;
        }

        @Override
        public int getCurrentVersion() {
            return CURRENT_VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) {}

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader classLoader)
                throws IOException {
            if (readVersion < VERSION_1 || readVersion > CURRENT_VERSION) {
                throw new IOException(
                        "ChangeEvent serializer version "
                                + readVersion
                                + " is not known to this build (knows 1.."
                                + CURRENT_VERSION
                                + "): restore with the Tidemark release that wrote the savepoint");
            }
            this.readVersion = readVersion;
        }

        @Override
        public TypeSerializer<ChangeEvent> restoreSerializer() {
            return forVersion(readVersion);
        }

        @Override
        public TypeSerializerSchemaCompatibility<ChangeEvent> resolveSchemaCompatibility(
                TypeSerializerSnapshot<ChangeEvent> oldSerializerSnapshot) {
            if (!(oldSerializerSnapshot instanceof Snapshot)) {
                return TypeSerializerSchemaCompatibility.incompatible();
            }
            return ((Snapshot) oldSerializerSnapshot).readVersion == CURRENT_VERSION
                    ? TypeSerializerSchemaCompatibility.compatibleAsIs()
                    : TypeSerializerSchemaCompatibility.compatibleAfterMigration();
        }
    }
}
