package io.tidemark.catalog.verify;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableScan;
import org.apache.iceberg.data.BaseDeleteLoader;
import org.apache.iceberg.data.DeleteLoader;
import org.apache.iceberg.data.IdentityPartitionConverters;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.PositionDeleteIndex;
import org.apache.iceberg.formats.FormatModelRegistry;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.PartitionUtil;

/**
 * The rows of one snapshot of a table, deletes applied, each delete file read once for the whole
 * read: Iceberg's generic reader ({@code IcebergGenerics}) reads every equality-delete file again
 * for each data file it applies to and builds a set of its keys per data file, so a table that
 * streams (an equality-delete file per commit, each applying to every older data file) costs data
 * files times delete files file reads. Here the equality deletes of the read are one index ({@link
 * EqualityDeleteIndex}), probed once per row; position deletes (and deletion vectors) are read per
 * data file, as they apply to it alone. The index holds every equality-deleted key of the read, as
 * Iceberg's reader holds them all for the oldest data file.
 */
public final class TableRows {

    private TableRows() {}

    /** Every column of the rows of {@code snapshotId}. */
    public static CloseableIterable<Record> read(Table table, long snapshotId) {
        return read(
                table, snapshotId, table.schema().columns().stream().map(c -> c.name()).toList());
    }

    /**
     * The columns {@code columns} (and those the deletes need) of the rows of {@code snapshotId};
     * read a record's values by name.
     */
    public static CloseableIterable<Record> read(
            Table table, long snapshotId, List<String> columns) {
        TableScan scan = table.newScan().useSnapshot(snapshotId).select(columns);
        List<FileScanTask> tasks = new ArrayList<>();
        try (CloseableIterable<FileScanTask> planned = scan.planFiles()) {
            planned.forEach(tasks::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return read(table, tasks, scan.schema());
    }

    /**
     * The columns {@code projection} (and those the deletes need, after them) of the rows of {@code
     * tasks}, planned from one snapshot of {@code table}, each task's deletes applied.
     */
    public static CloseableIterable<Record> read(
            Table table, List<FileScanTask> tasks, Schema projection) {
        Schema tableSchema = table.schema();
        FileIO io = table.io();
        EqualityDeleteIndex equalityDeletes = EqualityDeleteIndex.load(io, tableSchema, tasks);
        BaseDeleteLoader positionDeletes = new BaseDeleteLoader(io::newInputFile);
        return CloseableIterable.concat(
                CloseableIterable.transform(
                        CloseableIterable.withNoopClose(tasks),
                        task ->
                                open(
                                        io,
                                        task,
                                        tableSchema,
                                        projection,
                                        equalityDeletes,
                                        positionDeletes)));
    }

    private static CloseableIterable<Record> open(
            FileIO io,
            FileScanTask task,
            Schema tableSchema,
            Schema projection,
            EqualityDeleteIndex equalityDeletes,
            DeleteLoader positionDeletes) {
        BitSet applicable = equalityDeletes.applicable(task);
        // only the column sets whose deletes apply to this file: their columns read, their keys
        // probed
        List<EqualityDeleteIndex.Group> groups = new ArrayList<>();
        Set<Integer> keyIds = new TreeSet<>();
        for (EqualityDeleteIndex.Group group : equalityDeletes.groups()) {
            if (group.appliesTo(applicable)) {
                groups.add(group);
                keyIds.addAll(group.fieldIds());
            }
        }
        List<DeleteFile> positional =
                task.deletes().stream()
                        .filter(d -> d.content() == FileContent.POSITION_DELETES)
                        .toList();
        Schema readSchema = TypeUtil.join(projection, TypeUtil.select(tableSchema, keyIds));
        if (!positional.isEmpty()) {
            List<Types.NestedField> withPosition = new ArrayList<>(readSchema.columns());
            withPosition.add(MetadataColumns.ROW_POSITION);
            readSchema = new Schema(withPosition);
        }
        DataFile file = task.file();
        Map<Integer, ?> constants =
                PartitionUtil.constantsMap(task, IdentityPartitionConverters::convertConstant);
        CloseableIterable<Record> records =
                FormatModelRegistry.readBuilder(file.format(), Record.class, io.newInputFile(file))
                        .project(readSchema)
                        .idToConstant(constants)
                        .split(task.start(), task.length())
                        .caseSensitive(true)
                        .filter(task.residual())
                        .build();
        if (!positional.isEmpty()) {
            PositionDeleteIndex deleted =
                    positionDeletes.loadPositionDeletes(positional, file.location());
            int position = readSchema.columns().size() - 1;
            records =
                    CloseableIterable.filter(
                            records, r -> !deleted.isDeleted((Long) r.get(position)));
        }
        if (groups.isEmpty()) {
            return records;
        }
        Schema read = readSchema;
        EqualityDeleteIndex.Group[] deleting = groups.toArray(new EqualityDeleteIndex.Group[0]);
        int[][] keyPositions =
                groups.stream()
                        .map(g -> EqualityDeleteIndex.positions(read, g.fieldIds()))
                        .toArray(int[][]::new);
        if (deleting.length == 1) {
            EqualityDeleteIndex.Group group = deleting[0];
            int[] positions = keyPositions[0];
            return CloseableIterable.filter(
                    records,
                    r -> !group.deletes(EqualityDeleteIndex.key(r, positions), applicable));
        }
        return CloseableIterable.filter(
                records,
                r -> {
                    for (int i = 0; i < deleting.length; i++) {
                        Object key = EqualityDeleteIndex.key(r, keyPositions[i]);
                        if (deleting[i].deletes(key, applicable)) {
                            return false;
                        }
                    }
                    return true;
                });
    }
}
