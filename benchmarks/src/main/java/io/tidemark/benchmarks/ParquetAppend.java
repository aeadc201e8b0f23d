package io.tidemark.benchmarks;

import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.io.OutputFile;

/** Writes rows to an unpartitioned table as one Parquet file, committed as one append. */
public final class ParquetAppend {

    private ParquetAppend() {}

    /** Adds the rows of a file to its appender. */
    @FunctionalInterface
    public interface Rows {
        void addTo(FileAppender<Record> appender) throws Exception;
    }

    /**
     * Writes the records {@code rows} adds to a new data file {@code name} of {@code table} and
     * commits it.
     */
    public static void append(Table table, String name, Rows rows) throws Exception {
        OutputFile file = table.io().newOutputFile(table.locationProvider().newDataLocation(name));
        FileAppender<Record> appender =
                new GenericAppenderFactory(table.schema()).newAppender(file, FileFormat.PARQUET);
        try (appender) {
            rows.addTo(appender);
        }
        DataFile data =
                DataFiles.builder(PartitionSpec.unpartitioned())
                        .withInputFile(file.toInputFile())
                        .withMetrics(appender.metrics())
                        .withFormat(FileFormat.PARQUET)
                        .build();
        table.newAppend().appendFile(data).commit();
    }
}
