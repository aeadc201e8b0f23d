package io.tidemark.commit;

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
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.flink.sink.FlinkManifestUtil;
import org.apache.iceberg.flink.sink.ManifestOutputFileFactory;
import org.apache.iceberg.flink.sink.RowDataTaskWriterFactory;
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
        // (the job's catalog loader registers the JDBC drivers) open for the operator's life:
        // closing a catalog may close its FileIO (an S3 client)
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
        // empty: no file at all, so no row of any key, committed by anyone; not restored:
        // nothing this job wrote before is replayed
        boolean empty = !restored && holdsNoFiles(table);
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
     * Whether {@code table} holds no data or delete file: no snapshot, or a current one whose
     * summary counts none (an empty snapshot such as {@code FirstSnapshots} commits); false when
     * the summary does not say.
     */
    static boolean holdsNoFiles(Table table) {
        Snapshot current = table.currentSnapshot();
        if (current == null) {
            return true;
        }
        Map<String, String> summary = current.summary();
        return "0".equals(summary.get(SnapshotSummary.TOTAL_DATA_FILES_PROP))
                && "0".equals(summary.get(SnapshotSummary.TOTAL_DELETE_FILES_PROP));
    }
}
