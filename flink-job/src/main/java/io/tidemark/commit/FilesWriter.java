package io.tidemark.commit;

import io.tidemark.catalog.Catalogs;
import io.tidemark.protocol.CommitMessage.FilesWritten;
import io.tidemark.protocol.CommitMessageSerializer;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.table.data.RowData;
import org.apache.flink.types.RowKind;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.flink.sink.DeltaManifests;
import org.apache.iceberg.flink.sink.DeltaManifestsSerializer;
import org.apache.iceberg.flink.sink.FlinkManifestUtil;
import org.apache.iceberg.flink.sink.ManifestOutputFileFactory;
import org.apache.iceberg.flink.sink.RowDataTaskWriterFactory;
import org.apache.iceberg.io.TaskWriter;
import org.apache.iceberg.io.WriteResult;
import org.apache.iceberg.util.PropertyUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes rows into Iceberg data and delete files, one Iceberg task writer per table, and at every
 * checkpoint barrier hands the files to the committer as Iceberg manifests ({@link FilesWritten}).
 * Nothing becomes visible here: only the committer commits. Iceberg's own writer classes do the
 * file work; upsert tables (with key columns) write equality deletes, append tables only data.
 *
 * <p><b>New keys without deletes.</b> An upsert writer writes an equality delete for every row,
 * inserts included: every reader then joins every data file against them. A row whose key the table
 * has never held needs none. {@link RowSink#append} writes such a row through a plain data writer
 * of its own; its files are committed as an earlier part of the checkpoint ({@link
 * FilesWritten#part()}) than the upsert writer's, so an equality delete written later in the same
 * checkpoint for one of those keys still applies to it. The caller vouches that the key is new
 * ({@link ChangeWriter}: a snapshot row of a table that was empty when this job started fresh);
 * this class allows it only for a table with no snapshot at all when this writer started, and never
 * after a restore ({@link #startedEmpty}).
 *
 * @param <IN> what arrives; {@link #route} turns it into (table, row) pairs
 */
public abstract class FilesWriter<IN> extends AbstractStreamOperator<byte[]>
        implements OneInputStreamOperator<IN, byte[]>, BoundedOneInput {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(FilesWriter.class);

    /** An Iceberg table this writer writes; upsert by {@code keyColumns}, append if empty. */
    public record Target(String table, List<String> keyColumns) implements Serializable {}

    private final CatalogLoader catalogLoader;
    private final List<Target> targets;

    private transient Map<String, TableFiles> files;
    private transient Catalog catalog;
    private transient boolean restored;
    private transient RowSink sink;

    protected FilesWriter(CatalogLoader catalogLoader, List<Target> targets) {
        this.catalogLoader = catalogLoader;
        this.targets = List.copyOf(targets);
        // chained to what feeds it (the reconciler, the gate's quarantine output): a custom
        // operator is a chain head by default, which cost every change a serialization round trip
        // through the network stack (ChangeEventSerializer was the writer's top cost in a profile)
        setChainingStrategy(ChainingStrategy.ALWAYS);
    }

    /** Receives the rows of one input element. */
    protected interface RowSink {
        void write(String table, RowData row) throws IOException;

        /**
         * Writes an insert of a key {@code table} has never held, without an equality delete. Only
         * for a table {@link #startedEmpty}; the caller vouches that nothing of the key was written
         * before (then an upsert or delete of the key may follow through {@link #write}).
         */
        void append(String table, RowData row) throws IOException;
    }

    /** Hands the rows of {@code element} to {@code sink}, by target table name. */
    protected abstract void route(IN element, RowSink sink) throws Exception;

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        // restored from a checkpoint or savepoint: rows may be replayed that a committed
        // checkpoint already holds (a snapshot chunk a checkpoint cut is read again in full)
        restored = context.isRestored();
    }

    @Override
    public void open() throws Exception {
        super.open();
        Catalogs.registerJdbcDrivers();
        // open for the operator's life: closing a catalog may close its FileIO (an S3 client)
        catalog = catalogLoader.loadCatalog();
        files = new LinkedHashMap<>();
        for (Target target : targets) {
            openTarget(target);
        }
        sink =
                new RowSink() {
                    @Override
                    public void write(String table, RowData row) throws IOException {
                        tableFiles(table).write(row);
                    }

                    @Override
                    public void append(String table, RowData row) throws IOException {
                        TableFiles tableFiles = tableFiles(table);
                        if (!tableFiles.startedEmpty) {
                            throw new IllegalStateException(
                                    "an append without deletes into '"
                                            + table
                                            + "', which was not empty when this writer started");
                        }
                        tableFiles.append(row);
                    }
                };
    }

    /**
     * Starts writing {@code target}, a table created while the job runs; no-op if it is written.
     */
    protected void addTarget(Target target) throws IOException {
        if (!files.containsKey(target.table())) {
            openTarget(target);
        }
    }

    /** The catalog this writer writes through, open for the operator's life. */
    protected Catalog catalog() {
        return catalog;
    }

    private void openTarget(Target target) throws IOException {
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int attempt = getRuntimeContext().getTaskInfo().getAttemptNumber();
        String jobId = getRuntimeContext().getJobInfo().getJobId().toString();
        Table table = catalog.loadTable(TableIdentifier.parse(target.table()));
        RowDataTaskWriterFactory factory = factory(table, target.keyColumns());
        ManifestOutputFileFactory manifests =
                FlinkManifestUtil.createOutputFileFactory(
                        () -> table,
                        table.properties(),
                        jobId,
                        getOperatorID().toHexString(),
                        subtask,
                        attempt);
        // empty: no snapshot at all, so no row of any key, committed by anyone; not restored:
        // nothing this job wrote before is replayed
        boolean empty = !restored && table.currentSnapshot() == null;
        files.put(
                target.table(),
                new TableFiles(
                        table,
                        target.keyColumns(),
                        factory,
                        manifests,
                        empty,
                        empty && !target.keyColumns().isEmpty()
                                ? factory(table, List.of())
                                : null));
        if (empty && !target.keyColumns().isEmpty()) {
            LOG.info(
                    "{} is empty and this job started fresh: new keys are appended without equality deletes",
                    target.table());
        }
    }

    /**
     * Whether {@code table} had no snapshot when this writer started, and the job did not start
     * from a checkpoint or savepoint: then a key this job has not written is in no file of the
     * table.
     */
    protected boolean startedEmpty(String table) {
        return tableFiles(table).startedEmpty;
    }

    private TableFiles tableFiles(String table) {
        TableFiles tableFiles = files.get(table);
        if (tableFiles == null) {
            throw new IllegalStateException(
                    "row for table '" + table + "' which this writer does not write");
        }
        return tableFiles;
    }

    /** A task writer factory for {@code table}: upsert by {@code keyColumns}, append if empty. */
    private RowDataTaskWriterFactory factory(Table table, List<String> keyColumns) {
        List<Integer> equalityIds = new ArrayList<>();
        for (String column : keyColumns) {
            equalityIds.add(table.schema().findField(column).fieldId());
        }
        RowDataTaskWriterFactory factory =
                new RowDataTaskWriterFactory(
                        table,
                        FlinkSchemaUtil.convert(table.schema()),
                        PropertyUtil.propertyAsLong(
                                table.properties(),
                                TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
                                TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT),
                        FileFormat.fromString(
                                table.properties()
                                        .getOrDefault(
                                                TableProperties.DEFAULT_FILE_FORMAT,
                                                TableProperties.DEFAULT_FILE_FORMAT_DEFAULT)),
                        table.properties(),
                        equalityIds,
                        !equalityIds.isEmpty());
        factory.initialize(
                getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                getRuntimeContext().getTaskInfo().getAttemptNumber());
        return factory;
    }

    /** The Iceberg schema this writer writes {@code table} with now. */
    protected Schema schema(String table) {
        return files.get(table).table.schema();
    }

    /**
     * Reads {@code table}'s schema from the catalog again. When it changed (the schema stage
     * applied a change: {@link io.tidemark.schema.SchemaApplier}), the rest of this checkpoint's
     * rows of it are written with the new schema, as the checkpoint's next part ({@link
     * FilesWritten#part()}): the files written so far keep the schema they were written with, and
     * the committer commits them first, so equality deletes of the new part apply to their rows.
     *
     * @return the schema the table's rows are written with from now on
     */
    protected Schema refreshSchema(String table) throws IOException {
        TableFiles tableFiles = tableFiles(table);
        int before = tableFiles.table.schema().schemaId();
        tableFiles.table.refresh();
        if (tableFiles.table.schema().schemaId() != before) {
            tableFiles.switchSchema(
                    factory(tableFiles.table, tableFiles.keyColumns),
                    tableFiles.appendFactory == null ? null : factory(tableFiles.table, List.of()));
        }
        return tableFiles.table.schema();
    }

    /**
     * The source truncated the table whose target is {@code table} at {@code position}: the rows
     * written so far in this checkpoint are completed as parts before it, the rest start the next
     * truncate epoch, whose first part tells the committer to empty the table first ({@link
     * FilesWritten#truncatedAt()}, sent even without files).
     */
    protected void truncate(String table, String position) throws IOException {
        tableFiles(table).truncate(position);
    }

    @Override
    public void processElement(StreamRecord<IN> element) throws Exception {
        route(element.getValue(), sink);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flush(checkpointId);
    }

    @Override
    public void endInput() throws Exception {
        flush(Long.MAX_VALUE);
    }

    private void flush(long checkpointId) throws IOException {
        for (Map.Entry<String, TableFiles> entry : files.entrySet()) {
            for (FilesWritten written : entry.getValue().complete(entry.getKey(), checkpointId)) {
                output.collect(new StreamRecord<>(CommitMessageSerializer.serialize(written)));
            }
        }
    }

    @Override
    public void close() throws Exception {
        if (files != null) {
            for (TableFiles tableFiles : files.values()) {
                tableFiles.abort();
            }
        }
        if (catalog instanceof java.io.Closeable closeable) {
            closeable.close();
        }
        super.close();
    }

    /**
     * The open writers of one table and what they wrote since the last barrier: the parts completed
     * at schema switches, then the open ones. Of each schema, the rows appended without deletes
     * form a part before the upsert writer's.
     */
    private static final class TableFiles {
        /** Part numbers of one truncate epoch (see {@link #complete}). */
        static final int EPOCH = 1 << 16;

        private final Table table;
        private final List<String> keyColumns;
        private final ManifestOutputFileFactory manifests;
        private final boolean startedEmpty;
        private final List<Part> completed = new ArrayList<>();
        private RowDataTaskWriterFactory factory;
        private TaskWriter<RowData> writer;
        private long upserted;
        private long deleted;

        /** Writes keys new to the table without deletes; null unless {@link #startedEmpty}. */
        private RowDataTaskWriterFactory appendFactory;

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
         * The checkpoint's parts, in order. A part's number is its truncate epoch times {@link
         * #EPOCH} plus its place within the epoch, so the parts of every writer subtask line up at
         * the truncates (each met them all); an epoch after a truncate always has a first part.
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
                                    result, () -> manifests.create(checkpointId), table.spec());
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
}
