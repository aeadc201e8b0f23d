package io.tidemark.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;

/**
 * Marks quarantined changes replayed ({@link QuarantineTable#REPLAYED_BY}, {@link
 * QuarantineTable#REPLAYED_AT}): the data files holding a row to mark are written again with the
 * marks set, and replace the old ones in one commit of the quarantine table ({@code replace}, as a
 * compaction is: no change is added or removed, so an incremental reader sees none), whose summary
 * names the replay ({@value #SUMMARY}). The pipeline appends to the table meanwhile; those commits
 * touch other files and do not conflict. A file a compaction replaced meanwhile fails the commit,
 * which is then made again from the table's newest snapshot ({@value #ATTEMPTS} attempts).
 */
public final class QuarantineMarks {

    /** The snapshot summary property of a marking commit: the replay that made it. */
    public static final String SUMMARY = "tidemark.quarantine-replay";

    static final int ATTEMPTS = 5;

    private QuarantineMarks() {}

    /**
     * Marks every row of {@code quarantine} not marked yet that {@code select} takes with {@code
     * replayedBy} and {@code at}; returns how many it marked (0: nothing committed).
     */
    public static long mark(
            Table quarantine, Predicate<Record> select, String replayedBy, Instant at) {
        for (int attempt = 1; ; attempt++) {
            List<DataFile> written = new ArrayList<>();
            try {
                return markOnce(quarantine, select, replayedBy, at, written);
            } catch (CommitFailedException | ValidationException e) {
                written.forEach(file -> quarantine.io().deleteFile(file.location()));
                if (attempt == ATTEMPTS) {
                    throw new IllegalStateException(
                            String.format(
                                    "could not mark the replayed changes of %s after %d attempts"
                                            + " (other commits replaced its files each time): run"
                                            + " the replay again, it marks what is left",
                                    quarantine.name(), ATTEMPTS),
                            e);
                }
            }
        }
    }

    private static long markOnce(
            Table quarantine,
            Predicate<Record> select,
            String replayedBy,
            Instant at,
            List<DataFile> written) {
        quarantine.refresh();
        Snapshot base = quarantine.currentSnapshot();
        if (base == null) {
            return 0;
        }
        RewriteFiles rewrite = quarantine.newRewrite().validateFromSnapshot(base.snapshotId());
        long marked = 0;
        OffsetDateTime when = at.atOffset(ZoneOffset.UTC);
        try (CloseableIterable<FileScanTask> tasks =
                quarantine.newScan().useSnapshot(base.snapshotId()).planFiles()) {
            for (FileScanTask task : tasks) {
                DataFile file = task.file();
                if (!task.deletes().isEmpty() || file.format() != FileFormat.PARQUET) {
                    throw new IllegalStateException(
                            String.format(
                                    "%s holds %s, which is not an append-only Parquet file as"
                                            + " Tidemark writes them: its rows cannot be marked",
                                    quarantine.name(), file.location()));
                }
                // read twice rather than held: a compacted file may hold millions of rows
                if (!anyToMark(quarantine, file, select)) {
                    continue;
                }
                Written replacement = write(quarantine, file, select, replayedBy, when);
                written.add(replacement.file());
                rewrite.deleteFile(file);
                rewrite.addFile(replacement.file());
                marked += replacement.marked();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the files of " + quarantine.name(), e);
        }
        if (marked == 0) {
            return 0;
        }
        rewrite.set(SUMMARY, replayedBy);
        rewrite.commit();
        return marked;
    }

    private static boolean unmarked(Record row, Predicate<Record> select) {
        return row.getField(QuarantineTable.REPLAYED_BY) == null && select.test(row);
    }

    private static boolean anyToMark(Table table, DataFile file, Predicate<Record> select)
            throws IOException {
        try (CloseableIterable<Record> records = read(table, file)) {
            for (Record record : records) {
                if (unmarked(record, select)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static CloseableIterable<Record> read(Table table, DataFile file) {
        return Parquet.read(table.io().newInputFile(file.location()))
                .project(table.schema())
                .createReaderFunc(
                        fileSchema -> GenericParquetReaders.buildReader(table.schema(), fileSchema))
                .build();
    }

    /** A file written again with its marks, and how many rows it marked. */
    private record Written(DataFile file, long marked) {}

    private static Written write(
            Table table,
            DataFile old,
            Predicate<Record> select,
            String replayedBy,
            OffsetDateTime when)
            throws IOException {
        PartitionSpec spec = table.specs().get(old.specId());
        OutputFile out =
                table.io()
                        .newOutputFile(
                                table.locationProvider()
                                        .newDataLocation(
                                                "replay-marks-"
                                                        + java.util.UUID.randomUUID()
                                                        + ".parquet"));
        FileAppender<Record> appender =
                new GenericAppenderFactory(table.schema(), spec)
                        .newAppender(out, FileFormat.PARQUET);
        long marked = 0;
        try (appender;
                CloseableIterable<Record> records = read(table, old)) {
            for (Record record : records) {
                if (unmarked(record, select)) {
                    record.setField(QuarantineTable.REPLAYED_BY, replayedBy);
                    record.setField(QuarantineTable.REPLAYED_AT, when);
                    marked++;
                }
                appender.add(record);
            }
        }
        DataFile file =
                DataFiles.builder(spec)
                        .withInputFile(out.toInputFile())
                        .withMetrics(appender.metrics())
                        .withFormat(FileFormat.PARQUET)
                        .withPartition(old.partition())
                        .build();
        return new Written(file, marked);
    }
}
