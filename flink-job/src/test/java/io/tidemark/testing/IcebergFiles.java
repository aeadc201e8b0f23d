package io.tidemark.testing;

import java.io.IOException;
import java.util.List;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.FileAppender;
import org.apache.iceberg.io.OutputFile;

/** Writes rows into an Iceberg table by hand, as a stray job or a hand-written fix would. */
public final class IcebergFiles {

    private IcebergFiles() {}

    /** {@code records} as a new Parquet data file of the (unpartitioned) {@code table}. */
    public static DataFile parquet(Table table, List<Record> records) throws IOException {
        OutputFile file =
                table.io()
                        .newOutputFile(
                                table.locationProvider()
                                        .newDataLocation(
                                                "by-hand-" + System.nanoTime() + ".parquet"));
        FileAppender<Record> appender =
                new GenericAppenderFactory(table.schema()).newAppender(file, FileFormat.PARQUET);
        try (appender) {
            appender.addAll(records);
        }
        return DataFiles.builder(PartitionSpec.unpartitioned())
                .withInputFile(file.toInputFile())
                .withMetrics(appender.metrics())
                .withFormat(FileFormat.PARQUET)
                .build();
    }
}
