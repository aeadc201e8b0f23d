package io.tidemark.commit;

import io.tidemark.protocol.CommitMessage.FilesWritten;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Table;
import org.apache.iceberg.flink.sink.DeltaManifests;
import org.apache.iceberg.flink.sink.DeltaManifestsSerializer;
import org.apache.iceberg.flink.sink.FlinkManifestUtil;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.WriteResult;

/**
 * The files of one commit of a table: those the writers wrote, added; those it replaces, removed.
 */
final class CommitFiles {

    private CommitFiles() {}

    /** The files one commit of a table adds, and the rows they account for. */
    record Added(
            List<ManifestFile> manifests,
            int dataFiles,
            int deleteFiles,
            long upserted,
            long deleted) {}

    /** Adds the files of {@code written} to {@code delta}. */
    static Added add(Table table, RowDelta delta, List<FilesWritten> written) throws IOException {
        List<ManifestFile> manifests = new ArrayList<>();
        int dataFiles = 0;
        int deleteFiles = 0;
        long upserted = 0;
        long deleted = 0;
        for (FilesWritten files : written) {
            if (files.manifestsVersion() == FilesWritten.NO_FILES) {
                continue;
            }
            DeltaManifests delta0 =
                    DeltaManifestsSerializer.INSTANCE.deserialize(
                            files.manifestsVersion(), files.manifests());
            manifests.addAll(delta0.manifests());
            WriteResult result =
                    FlinkManifestUtil.readCompletedFiles(delta0, table.io(), table.specs());
            for (DataFile file : result.dataFiles()) {
                delta.addRows(file);
                dataFiles++;
            }
            for (DeleteFile file : result.deleteFiles()) {
                delta.addDeletes(file);
                deleteFiles++;
            }
            upserted += files.rowsUpserted();
            deleted += files.rowsDeleted();
        }
        return new Added(manifests, dataFiles, deleteFiles, upserted, deleted);
    }

    /** Removes every data and delete file {@code table} holds now; returns how many. */
    static int removeAll(Table table, RowDelta delta) throws IOException {
        if (table.currentSnapshot() == null) {
            return 0;
        }
        Set<String> removed = new HashSet<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            for (FileScanTask task : tasks) {
                if (removed.add(task.file().location())) {
                    delta.removeRows(task.file());
                }
                for (DeleteFile file : task.deletes()) {
                    if (removed.add(file.location())) {
                        delta.removeDeletes(file);
                    }
                }
            }
        }
        return removed.size();
    }
}
