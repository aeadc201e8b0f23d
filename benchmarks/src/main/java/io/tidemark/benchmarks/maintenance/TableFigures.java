package io.tidemark.benchmarks.maintenance;

import io.tidemark.catalog.verify.TableRows;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/**
 * A table's shape after a side: snapshots kept, data and delete files (and delete records) of its
 * current snapshot, the size of its current {@code metadata.json} and of its whole metadata
 * directory, and the files under its location.
 *
 * @param dataRecords the records of the current snapshot's data files, the ones its delete files
 *     delete too
 */
record TableFigures(
        int snapshots,
        long dataFiles,
        long deleteFiles,
        long deleteRecords,
        long dataRecords,
        long metadataJsonBytes,
        long metadataDirBytes,
        long metadataDirFiles,
        long locationFiles) {

    static TableFigures of(Table table) throws IOException {
        int snapshots = 0;
        for (Snapshot ignored : table.snapshots()) {
            snapshots++;
        }
        Map<String, String> summary = table.currentSnapshot().summary();
        String metadataJson =
                ((HasTableOperations) table).operations().current().metadataFileLocation();
        Path location = Path.of(java.net.URI.create(table.location()));
        long[] metadata = sizeAndCount(location.resolve("metadata"));
        return new TableFigures(
                snapshots,
                Long.parseLong(summary.getOrDefault("total-data-files", "0")),
                Long.parseLong(summary.getOrDefault("total-delete-files", "0")),
                Long.parseLong(summary.getOrDefault("total-equality-deletes", "0"))
                        + Long.parseLong(summary.getOrDefault("total-position-deletes", "0")),
                Long.parseLong(summary.getOrDefault("total-records", "0")),
                table.io().newInputFile(metadataJson).getLength(),
                metadata[0],
                metadata[1],
                sizeAndCount(location)[1]);
    }

    /** A full read gives up after this long (a table never maintained can take far longer). */
    static final long READ_LIMIT_MS = 10 * 60_000;

    /**
     * The wall time of up to {@code times} full reads of {@code table} (deletes applied), after one
     * to warm the JIT and the file system's cache; when that one took over a minute, it is the only
     * one; when it passed {@link #READ_LIMIT_MS}, the list holds -1 (gave up).
     */
    static List<Long> timedReads(Table table, long snapshotId, int times) throws IOException {
        List<Long> millis = new ArrayList<>();
        long first = read(table, snapshotId);
        if (first < 0 || first > 60_000) {
            millis.add(first);
            return millis;
        }
        for (int i = 0; i < times; i++) {
            millis.add(read(table, snapshotId));
        }
        return millis;
    }

    /**
     * The wall times of full reads of {@code table} at {@code snapshotId} and of {@code fresh} by
     * Tidemark's reader ({@link TableRows}: each delete file read once), one of each in turn {@code
     * times} times after one of each to warm up, so that a noisy machine slows both alike.
     */
    static List<List<Long>> alternatingReads(Table table, long snapshotId, Table fresh, int times) {
        List<Long> tableMillis = new ArrayList<>();
        List<Long> freshMillis = new ArrayList<>();
        for (int i = 0; i <= times; i++) {
            long tableRead = tidemarkRead(table, snapshotId);
            long freshRead = tidemarkRead(fresh, fresh.currentSnapshot().snapshotId());
            if (i > 0) {
                tableMillis.add(tableRead);
                freshMillis.add(freshRead);
            }
        }
        return List.of(tableMillis, freshMillis);
    }

    private static long tidemarkRead(Table table, long snapshotId) {
        long started = System.nanoTime();
        try (CloseableIterable<Record> records = TableRows.read(table, snapshotId)) {
            for (Record ignored : records) {
                // read in full
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return (System.nanoTime() - started) / 1_000_000;
    }

    /**
     * Milliseconds to read {@code table} at {@code snapshotId} in full, or -1 past {@link
     * #READ_LIMIT_MS}.
     */
    private static long read(Table table, long snapshotId) throws IOException {
        long started = System.nanoTime();
        long deadline = started + READ_LIMIT_MS * 1_000_000;
        try (CloseableIterable<Record> records =
                IcebergGenerics.read(table).useSnapshot(snapshotId).build()) {
            for (Record ignored : records) {
                if (System.nanoTime() > deadline) {
                    return -1;
                }
            }
        }
        return (System.nanoTime() - started) / 1_000_000;
    }

    private static long[] sizeAndCount(Path dir) throws IOException {
        long[] figures = new long[2];
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                figures[0] += Files.size(file);
                figures[1]++;
            }
        }
        return figures;
    }

    @Override
    public String toString() {
        return String.format(
                "%d snapshots, %,d data files, %,d delete files (%,d deletes), metadata.json %,d"
                        + " bytes, metadata %,d bytes in %,d files, %,d files under the location",
                snapshots,
                dataFiles,
                deleteFiles,
                deleteRecords,
                metadataJsonBytes,
                metadataDirBytes,
                metadataDirFiles,
                locationFiles);
    }
}
