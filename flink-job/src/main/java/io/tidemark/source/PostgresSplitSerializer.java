package io.tidemark.source;

import io.debezium.relational.TableId;
import io.debezium.relational.history.TableChanges.TableChange;
import java.io.IOException;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.cdc.connectors.base.source.IncrementalSource;
import org.apache.flink.cdc.connectors.base.source.meta.offset.Offset;
import org.apache.flink.cdc.connectors.base.source.meta.offset.OffsetFactory;
import org.apache.flink.cdc.connectors.base.source.meta.split.FinishedSnapshotSplitInfo;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceSplitBase;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceSplitSerializer;
import org.apache.flink.cdc.connectors.base.source.meta.split.StreamSplit;
import org.apache.flink.cdc.connectors.base.utils.SerializerUtils;
import org.apache.flink.cdc.connectors.postgres.source.PostgresSourceBuilder.PostgresIncrementalSource;
import org.apache.flink.cdc.connectors.postgres.source.offset.PostgresOffsetFactory;
import org.apache.flink.core.memory.DataInputDeserializer;

/**
 * Flink CDC's split serializer (same bytes, same version), reading back the table names Flink CDC
 * 3.5 writes unquoted. A finished chunk's table ({@link FinishedSnapshotSplitInfo}, in the log
 * split's state and in the enumerator's events to the readers) is written as {@code schema.table}
 * without quotes and parsed back as SQL, which fails for a space ({@code public.line items}) and
 * reads {@code public.line.items} as a three-part name. A Postgres table's id has no catalog, and
 * Tidemark refuses a schema name with a dot (see {@code SqlNames.parseQualified}), so the text up
 * to its first dot is the schema and the rest the table, whatever it holds. Names written quoted
 * (or with a catalog) are parsed as Flink CDC parses them.
 */
final class PostgresSplitSerializer extends SourceSplitSerializer {

    private static final long serialVersionUID = 1L;

    /** Flink CDC's {@code SourceSplitSerializer.STREAM_SPLIT_FLAG}. */
    private static final int STREAM_SPLIT_FLAG = 2;

    private final PostgresOffsetFactory offsetFactory;

    PostgresSplitSerializer(PostgresOffsetFactory offsetFactory) {
        this.offsetFactory = offsetFactory;
    }

    /**
     * {@code source} with this serializer for its splits, its enumerator's state and its readers
     * (Flink CDC sets its own in {@code IncrementalSource}'s constructor, a final field without a
     * setter; the bytes are the same, only the reading differs).
     */
    static <T> PostgresIncrementalSource<T> install(
            PostgresIncrementalSource<T> source, PostgresOffsetFactory offsetFactory) {
        try {
            Field field = IncrementalSource.class.getDeclaredField("sourceSplitSerializer");
            field.setAccessible(true);
            field.set(source, new PostgresSplitSerializer(offsetFactory));
            return source;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "Flink CDC's IncrementalSource has no field sourceSplitSerializer: this "
                            + "Tidemark build needs the Flink CDC version it was built with",
                    e);
        }
    }

    @Override
    public OffsetFactory getOffsetFactory() {
        return offsetFactory;
    }

    @Override
    public SourceSplitBase deserializeSplit(int version, byte[] serialized) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(serialized);
        if (in.readInt() != STREAM_SPLIT_FLAG) {
            // a snapshot split's table is written quoted
            return super.deserializeSplit(version, serialized);
        }
        // SourceSplitSerializer.deserializeSplit's stream branch, the chunks' tables read back
        String splitId = in.readUTF();
        in.readUTF(); // no split key type
        Offset startingOffset = readOffsetPosition(version, in);
        Offset endingOffset = readOffsetPosition(version, in);
        List<FinishedSnapshotSplitInfo> finished = new ArrayList<>();
        int size = in.readInt();
        for (int i = 0; i < size; i++) {
            finished.add(readFinished(in, version));
        }
        Map<TableId, TableChange> schemas = readTableSchemas(version, in);
        int totalFinished = version >= 3 ? in.readInt() : finished.size();
        boolean suspended = version >= 5 && in.readBoolean();
        boolean snapshotCompleted = version >= 6 && in.readBoolean();
        in.releaseArrays();
        return new StreamSplit(
                splitId,
                startingOffset,
                endingOffset,
                finished,
                schemas,
                totalFinished,
                suspended,
                snapshotCompleted);
    }

    /** A finished chunk as the enumerator sends it to a reader (its own bytes, unversioned). */
    @Override
    public FinishedSnapshotSplitInfo deserialize(byte[] serialized) {
        try {
            DataInputDeserializer in = new DataInputDeserializer(serialized);
            FinishedSnapshotSplitInfo info = readFinished(in, null);
            in.releaseArrays();
            return info;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read a finished snapshot chunk's summary", e);
        }
    }

    /**
     * {@link FinishedSnapshotSplitInfo#serialize}'s bytes: in a log split of serializer version
     * {@code version}, or (null) on their own, as the enumerator sends them.
     */
    private FinishedSnapshotSplitInfo readFinished(DataInputDeserializer in, Integer version)
            throws IOException {
        String table = in.readUTF();
        String chunkId = in.readUTF();
        Object[] start = SerializerUtils.serializedStringToRow(in.readUTF());
        Object[] end = SerializerUtils.serializedStringToRow(in.readUTF());
        OffsetFactory factory =
                (OffsetFactory) SerializerUtils.serializedStringToObject(in.readUTF());
        Offset highWatermark =
                version == null ? readOffsetPosition(in) : readOffsetPosition(version, in);
        boolean catalogBeforeSchema =
                version == null
                        ? in.available() <= 0 || in.readBoolean()
                        : version < 4 || in.readBoolean();
        return new FinishedSnapshotSplitInfo(
                tableId(table, catalogBeforeSchema), chunkId, start, end, highWatermark, factory);
    }

    /**
     * The table {@code written} names: {@link TableId#toString()} of a Postgres table ({@code
     * catalogBeforeSchema} false: no catalog) is {@code schema.table}, unquoted.
     */
    static TableId tableId(String written, boolean catalogBeforeSchema) {
        int dot = written.indexOf('.');
        if (catalogBeforeSchema || dot < 0 || written.startsWith("\"")) {
            return TableId.parse(written, catalogBeforeSchema);
        }
        return new TableId(null, written.substring(0, dot), written.substring(dot + 1));
    }
}
