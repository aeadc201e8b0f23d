package io.tidemark.commit;

import io.tidemark.protocol.CommitMessage.FilesWritten;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.data.RowData;
import org.apache.flink.types.RowKind;
import org.apache.iceberg.Table;
import org.apache.iceberg.flink.sink.DeltaManifests;
import org.apache.iceberg.flink.sink.DeltaManifestsSerializer;
import org.apache.iceberg.flink.sink.FlinkManifestUtil;
import org.apache.iceberg.flink.sink.ManifestOutputFileFactory;
import org.apache.iceberg.flink.sink.RowDataTaskWriterFactory;
import org.apache.iceberg.io.TaskWriter;
import org.apache.iceberg.io.WriteResult;

/**
 * The open writers of one table and what they wrote since the last barrier: the parts completed at
 * schema switches, then the open ones. Of each schema, the rows appended without deletes form a
 * part before the upsert writer's.
 */
final class TableFiles {
    /** Part numbers of one truncate epoch (see {@link #complete}). */
    static final int EPOCH = 1 << 16;

    final Table table;
    final List<String> keyColumns;
    private final ManifestOutputFileFactory manifests;
    final boolean startedEmpty;
    private final List<Part> completed = new ArrayList<>();
    private RowDataTaskWriterFactory factory;
    private TaskWriter<RowData> writer;
    private long upserted;
    private long deleted;

    /** Writes keys new to the table without deletes; null unless {@link #startedEmpty}. */
    RowDataTaskWriterFactory appendFactory;

    private TaskWriter<RowData> appender;
    private long appended;

    /**
     * Files of one schema within a checkpoint, with the rows they upsert and delete, and the
     * truncate epoch they belong to (how many truncates of the table came before them in the
     * checkpoint).
     */
    private record Part(WriteResult result, long upserted, long deleted, int epoch) {}

    /** Truncates met in this checkpoint, and where each epoch's truncate stands. */
    private final List<String> truncates = new ArrayList<>();

    TableFiles(
            Table table,
            List<String> keyColumns,
            RowDataTaskWriterFactory factory,
            ManifestOutputFileFactory manifests,
            boolean startedEmpty,
            RowDataTaskWriterFactory appendFactory) {
        this.table = table;
        this.keyColumns = keyColumns;
        this.factory = factory;
        this.manifests = manifests;
        this.startedEmpty = startedEmpty;
        this.appendFactory = appendFactory;
    }

    /**
     * Completes the open parts, if any (the appended rows' first); the next rows start parts
     * written by {@code next} and {@code nextAppend}.
     */
    void switchSchema(RowDataTaskWriterFactory next, RowDataTaskWriterFactory nextAppend)
            throws IOException {
        if (appender != null) {
            completed.add(new Part(appender.complete(), appended, 0, truncates.size()));
            appender = null;
            appended = 0;
        }
        if (writer != null) {
            completed.add(new Part(writer.complete(), upserted, deleted, truncates.size()));
            writer = null;
            upserted = 0;
            deleted = 0;
        }
        factory = next;
        appendFactory = nextAppend;
    }

    /** Completes the open parts: the next rows belong to the next truncate epoch. */
    void truncate(String position) throws IOException {
        switchSchema(factory, appendFactory);
        truncates.add(position);
    }

    void append(RowData row) throws IOException {
        if (appender == null) {
            if (appendFactory == null) {
                throw new IllegalStateException(
                        "no append writer for " + table.name() + " (it did not start empty)");
            }
            appender = appendFactory.create();
        }
        appender.write(row);
        appended++;
    }

    void write(RowData row) throws IOException {
        if (writer == null) {
            writer = factory.create();
        }
        writer.write(row);
        if (row.getRowKind() == RowKind.DELETE || row.getRowKind() == RowKind.UPDATE_BEFORE) {
            deleted++;
        } else {
            upserted++;
        }
    }

    /**
     * The checkpoint's parts, in order. A part's number is its truncate epoch times {@link #EPOCH}
     * plus its place within the epoch, so the parts of every writer subtask line up at the
     * truncates (each met them all); an epoch after a truncate always has a first part.
     */
    List<FilesWritten> complete(String name, long checkpointId) throws IOException {
        switchSchema(factory, appendFactory);
        List<FilesWritten> out = new ArrayList<>();
        int next = 0;
        for (int e = 0; e <= truncates.size(); e++) {
            String truncatedAt = e == 0 ? null : truncates.get(e - 1);
            int inEpoch = 0;
            for (; next < completed.size() && completed.get(next).epoch() == e; next++) {
                Part part = completed.get(next);
                WriteResult result = part.result();
                if (result.dataFiles().length == 0 && result.deleteFiles().length == 0) {
                    continue;
                }
                DeltaManifests delta =
                        FlinkManifestUtil.writeCompletedFiles(
                                result,
                                () -> manifests.create(checkpointId),
                                table.spec(),
                                org.apache.iceberg.TableUtil.formatVersion(table));
                out.add(
                        new FilesWritten(
                                checkpointId,
                                name,
                                e * EPOCH + inEpoch,
                                DeltaManifestsSerializer.INSTANCE.getVersion(),
                                DeltaManifestsSerializer.INSTANCE.serialize(delta),
                                part.upserted(),
                                part.deleted(),
                                inEpoch == 0 ? truncatedAt : null));
                inEpoch++;
            }
            if (inEpoch == 0 && truncatedAt != null) {
                // no rows after this truncate here: the committer still empties the table
                out.add(
                        new FilesWritten(
                                checkpointId,
                                name,
                                e * EPOCH,
                                FilesWritten.NO_FILES,
                                new byte[0],
                                0,
                                0,
                                truncatedAt));
            }
        }
        completed.clear();
        truncates.clear();
        return out;
    }

    void abort() throws IOException {
        if (appender != null) {
            appender.abort();
            appender = null;
        }
        if (writer != null) {
            writer.abort();
            writer = null;
        }
    }
}
