package io.tidemark.maintenance;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.verify.TableRows;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.formats.FormatModelRegistry;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.util.ContentFileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Between two compactions every commit of a streaming table adds a data file and an equality-delete
 * file that applies to every older data file, and every reader pays per file: Trino and Iceberg's
 * generic reader read a table 1.8 to 2.3 times slower than its rows freshly written after 18
 * commits ({@code MaintenanceBenchmark}). A fold, planned on one snapshot of the table:
 *
 * <ul>
 *   <li>reads the <em>recent</em> data files, those not older than the oldest live equality-delete
 *       file, with their deletes applied, and writes their rows again as one data file;
 *   <li>writes the keys of every live equality-delete file again as one file, which applies to the
 *       <em>old</em> data files as each of them did (each was newer than every old file);
 *   <li>drops the position deletes of the recent files;
 * </ul>
 *
 * and commits this as one Iceberg {@code replace} that changes no row. Both new files take the data
 * sequence number of the snapshot the fold was planned on: the folded keys apply to the old files
 * (all lower) and not to the folded rows (equal) nor to any file a commit added after that snapshot
 * (all higher), and the deletes of those commits apply to the folded rows as they did to the recent
 * files. So the fold commits on top of the pipeline's commits made meanwhile, as Iceberg's
 * compaction does (its validation ignores new equality deletes when the rewritten files keep their
 * starting sequence number). A table with a partition spec, with equality deletes on different
 * columns, or whose recent rows are over a quarter of its records (a compaction's work) is left as
 * it is.
 *
 * <p>It runs as a task of the job's table maintenance ({@link FoldDeletes}), under the lock that
 * keeps it apart from the compaction: a compaction planned beside a fold fails on the files the
 * fold replaced.
 */
public final class DeleteFold {

    private static final Logger LOG = LoggerFactory.getLogger(DeleteFold.class);

    /** The value of {@link Provenance#MAINTENANCE} on a fold's snapshot. */
    public static final String TASK = "fold-deletes";

    private final Table table;
    private final Snapshot planned;
    private final Set<DataFile> recent;
    private final Set<DeleteFile> removed;
    private final DataFile rows;
    private final DeleteFile keys;
    private final List<String> written;

    private DeleteFold(
            Table table,
            Snapshot planned,
            Set<DataFile> recent,
            Set<DeleteFile> removed,
            DataFile rows,
            DeleteFile keys,
            List<String> written) {
        this.table = table;
        this.planned = planned;
        this.recent = recent;
        this.removed = removed;
        this.rows = rows;
        this.keys = keys;
        this.written = written;
    }

    /**
     * Folds {@code table} at its current snapshot, the snapshot carrying {@code summary}; returns
     * how many files the fold replaced (0: nothing to fold, nothing committed).
     */
    public static int fold(Table table, Map<String, String> summary) {
        table.refresh();
        Snapshot current = table.currentSnapshot();
        if (current == null) {
            return 0;
        }
        DeleteFold fold = prepare(table, current);
        return fold == null ? 0 : fold.commit(summary);
    }

    /**
     * Plans the fold of {@code table} at {@code snapshot} and writes its files; null when there is
     * nothing to fold (see the class comment).
     */
    static DeleteFold prepare(Table table, Snapshot snapshot) {
        if (table.spec().isPartitioned() || table.specs().size() > 1) {
            return null;
        }
        List<DataFile> data = liveData(table, snapshot);
        long oldestData = Long.MAX_VALUE;
        long records = 0;
        for (DataFile file : data) {
            if (file.dataSequenceNumber() == null) {
                return null;
            }
            oldestData = Math.min(oldestData, file.dataSequenceNumber());
            records += file.recordCount();
        }
        List<DeleteFile> equality = new ArrayList<>();
        Set<DeleteFile> removed = new LinkedHashSet<>();
        List<DeleteFile> positional = new ArrayList<>();
        for (DeleteFile file : liveDeletes(table, snapshot)) {
            if (file.dataSequenceNumber() == null) {
                return null;
            }
            if (file.content() != FileContent.EQUALITY_DELETES) {
                positional.add(file);
            } else if (file.dataSequenceNumber() > oldestData) {
                equality.add(file);
            }
            // an equality delete at or below the oldest data file applies to none (a compaction
            // left it): the committer removes those (DanglingDeletes), the fold leaves them, so
            // the two never race for a file
        }
        if (equality.size() < 2
                || equality.stream().map(DeleteFile::equalityFieldIds).distinct().count() != 1) {
            return null;
        }
        long oldestDelete =
                equality.stream().mapToLong(DeleteFile::dataSequenceNumber).min().getAsLong();
        Set<DataFile> recent = new LinkedHashSet<>();
        long recentRecords = 0;
        boolean old = false;
        for (DataFile file : data) {
            if (file.dataSequenceNumber() >= oldestDelete) {
                recent.add(file);
                recentRecords += file.recordCount();
            } else {
                old = true;
            }
        }
        if (recentRecords * 4 > records) {
            return null;
        }
        Set<String> recentLocations = new HashSet<>();
        recent.forEach(f -> recentLocations.add(f.location()));
        removed.addAll(equality);
        for (DeleteFile file : positional) {
            // those of the recent files, applied in the folded rows
            String target = ContentFileUtil.referencedDataFileLocation(file);
            if (target != null && recentLocations.contains(target)) {
                removed.add(file);
            }
        }
        List<String> written = new ArrayList<>();
        try {
            DataFile rows = writeRows(table, snapshot, recentLocations, written);
            // without an old data file the equality deletes match nothing
            DeleteFile keys = old ? writeKeys(table, equality, written) : null;
            return new DeleteFold(table, snapshot, recent, removed, rows, keys, written);
        } catch (IOException e) {
            written.forEach(table.io()::deleteFile);
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            written.forEach(table.io()::deleteFile);
            throw e;
        }
    }

    /**
     * Commits the fold, on top of whatever was committed since the snapshot it was planned on, the
     * snapshot carrying {@code summary}; returns how many files it replaced. A commit that failed
     * (a compaction by another engine replaced the same files) removes the files the fold wrote;
     * one whose outcome is unknown keeps them.
     */
    int commit(Map<String, String> summary) {
        long sequence = planned.sequenceNumber();
        RewriteFiles rewrite =
                table.newRewrite()
                        .validateFromSnapshot(planned.snapshotId())
                        .dataSequenceNumber(sequence);
        recent.forEach(rewrite::deleteFile);
        removed.forEach(rewrite::deleteFile);
        if (rows != null) {
            rewrite.addFile(rows);
        }
        if (keys != null) {
            rewrite.addFile(keys, sequence);
        }
        int folded = recent.size() + removed.size();
        summary.forEach(rewrite::set);
        rewrite.set(Provenance.MAINTENANCE, TASK)
                .set(Provenance.DELETES_FOLDED, Integer.toString(folded));
        try {
            rewrite.commit();
        } catch (CommitStateUnknownException e) {
            // the fold may be in the table: its files stay (an orphan-file removal takes them
            // if it is not)
            throw e;
        } catch (RuntimeException e) {
            written.forEach(table.io()::deleteFile);
            throw e;
        }
        LOG.info(
                "Folded {} data files and {} delete files of {} planned at snapshot {} into {} data file(s) and {} equality-delete file(s), no row changed: snapshot {}",
                recent.size(),
                removed.size(),
                table.name(),
                planned.snapshotId(),
                rows == null ? 0 : 1,
                keys == null ? 0 : 1,
                table.currentSnapshot().snapshotId());
        return folded;
    }

    /** The rows of {@code recent} (deletes applied) as one new data file; null: none left. */
    private static DataFile writeRows(
            Table table, Snapshot snapshot, Set<String> recent, List<String> written)
            throws IOException {
        List<FileScanTask> tasks = new ArrayList<>();
        try (CloseableIterable<FileScanTask> planned =
                table.newScan().useSnapshot(snapshot.snapshotId()).planFiles()) {
            for (FileScanTask task : planned) {
                if (recent.contains(task.file().location())) {
                    tasks.add(task);
                }
            }
        }
        Schema schema = table.schemas().get(snapshot.schemaId());
        if (schema == null) {
            schema = table.schema();
        }
        int columns = schema.columns().size();
        OutputFile out = newFile(table, "fold-data");
        written.add(out.location());
        DataWriter<Record> writer =
                new GenericAppenderFactory(schema, table.spec())
                        .newDataWriter(
                                EncryptedFiles.plainAsEncryptedOutput(out), format(table), null);
        long rows = 0;
        // one row, filled again for each record: the writer takes its values as it writes
        GenericRecord row = GenericRecord.create(schema);
        try (writer;
                CloseableIterable<Record> records = TableRows.read(table, tasks, schema)) {
            for (Record record : records) {
                for (int i = 0; i < columns; i++) {
                    row.set(i, record.get(i));
                }
                writer.write(row);
                rows++;
            }
        }
        if (rows == 0) {
            table.io().deleteFile(out.location());
            written.remove(out.location());
            return null;
        }
        return writer.toDataFile();
    }

    /** The union of the keys of {@code equality} as one new equality-delete file. */
    private static DeleteFile writeKeys(
            Table table, List<DeleteFile> equality, List<String> written) throws IOException {
        Schema schema = table.schema();
        List<Integer> fieldIds = equality.get(0).equalityFieldIds();
        Schema keySchema = TypeUtil.select(schema, new HashSet<>(fieldIds));
        int[] ids = fieldIds.stream().mapToInt(Integer::intValue).toArray();
        OutputFile out = newFile(table, "fold-deletes");
        written.add(out.location());
        EqualityDeleteWriter<Record> writer =
                new GenericAppenderFactory(schema, table.spec(), ids, keySchema, null)
                        .newEqDeleteWriter(
                                EncryptedFiles.plainAsEncryptedOutput(out), format(table), null);
        Set<List<Object>> seen = new HashSet<>();
        int width = keySchema.columns().size();
        try (writer) {
            for (DeleteFile file : equality) {
                try (CloseableIterable<Record> keys =
                        FormatModelRegistry.readBuilder(
                                        file.format(),
                                        Record.class,
                                        table.io().newInputFile(file.location()))
                                .project(keySchema)
                                .build()) {
                    for (Record key : keys) {
                        List<Object> values = new ArrayList<>(width);
                        for (int i = 0; i < width; i++) {
                            values.add(key.get(i));
                        }
                        if (seen.add(values)) {
                            writer.write(key.copy());
                        }
                    }
                }
            }
        }
        return writer.toDeleteFile();
    }

    private static OutputFile newFile(Table table, String kind) {
        FileFormat format = format(table);
        return table.io()
                .newOutputFile(
                        table.locationProvider()
                                .newDataLocation(
                                        format.addExtension(kind + "-" + UUID.randomUUID())));
    }

    private static FileFormat format(Table table) {
        return FileFormat.fromString(
                table.properties()
                        .getOrDefault(
                                TableProperties.DEFAULT_FILE_FORMAT,
                                TableProperties.DEFAULT_FILE_FORMAT_DEFAULT));
    }

    /**
     * The live delete files of {@code snapshot}, with their stats (a position delete's bounds name
     * the data file it applies to).
     */
    private static List<DeleteFile> liveDeletes(Table table, Snapshot snapshot) {
        List<DeleteFile> files = new ArrayList<>();
        FileIO io = table.io();
        for (ManifestFile manifest : snapshot.deleteManifests(io)) {
            try (ManifestReader<DeleteFile> reader =
                    ManifestFiles.readDeleteManifest(manifest, io, table.specs())) {
                reader.forEach(file -> files.add(file.copy()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }

    /** The live data files of {@code snapshot}, without their column stats. */
    private static List<DataFile> liveData(Table table, Snapshot snapshot) {
        List<DataFile> files = new ArrayList<>();
        FileIO io = table.io();
        for (ManifestFile manifest : snapshot.dataManifests(io)) {
            try (ManifestReader<DataFile> reader =
                    ManifestFiles.read(manifest, io, table.specs())) {
                reader.forEach(file -> files.add(file.copyWithoutStats()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }
}
