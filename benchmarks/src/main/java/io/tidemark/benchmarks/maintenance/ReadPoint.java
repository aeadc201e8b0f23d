package io.tidemark.benchmarks.maintenance;

import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/**
 * A snapshot of a side's table whose full read is measured, with the files a reader of it opens:
 * the current snapshot, and the retained snapshot with the most data and delete files (the end of a
 * compaction cycle: the commits since the previous compaction, just before the next one).
 *
 * @param fresh the same rows in one Parquet file of a table of their own (null when the table's
 *     read gave up)
 */
record ReadPoint(
        Table table,
        long snapshotId,
        long dataFiles,
        long deleteFiles,
        long deleteRecords,
        Table fresh) {

    static ReadPoint current(Table table) {
        return of(table, table.currentSnapshot(), null);
    }

    /**
     * The retained snapshot of {@code table} with the most data and delete files, if it is not the
     * current one (the current one is measured anyway).
     */
    static Optional<ReadPoint> mostFiles(Table table) {
        Snapshot most = null;
        for (Snapshot snapshot : table.snapshots()) {
            if (most == null || files(snapshot) > files(most)) {
                most = snapshot;
            }
        }
        if (most == null
                || most.snapshotId() == table.currentSnapshot().snapshotId()
                || files(most) <= files(table.currentSnapshot())) {
            return Optional.empty();
        }
        return Optional.of(of(table, most, null));
    }

    ReadPoint withFresh(Table copy) {
        return new ReadPoint(table, snapshotId, dataFiles, deleteFiles, deleteRecords, copy);
    }

    private static ReadPoint of(Table table, Snapshot snapshot, Table fresh) {
        Map<String, String> summary = snapshot.summary();
        return new ReadPoint(
                table,
                snapshot.snapshotId(),
                count(summary, "total-data-files"),
                count(summary, "total-delete-files"),
                count(summary, "total-equality-deletes") + count(summary, "total-position-deletes"),
                fresh);
    }

    private static long files(Snapshot snapshot) {
        return count(snapshot.summary(), "total-data-files")
                + count(snapshot.summary(), "total-delete-files");
    }

    private static long count(Map<String, String> summary, String key) {
        return Long.parseLong(summary.getOrDefault(key, "0"));
    }

    @Override
    public String toString() {
        return String.format(
                "snapshot %d: %,d data files, %,d delete files (%,d deletes)",
                snapshotId, dataFiles, deleteFiles, deleteRecords);
    }
}
