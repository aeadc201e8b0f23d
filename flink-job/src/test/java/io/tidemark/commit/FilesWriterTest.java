package io.tidemark.commit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a writer takes its table for empty (new keys appended without equality deletes). */
class FilesWriterTest {

    @TempDir Path warehouse;

    @Test
    void aTableWithOnlyAnEmptySnapshotIsEmptyOneWithAFileIsNot() {
        Table table =
                new HadoopCatalog(
                                new org.apache.hadoop.conf.Configuration(),
                                warehouse.toUri().toString())
                        .createTable(
                                TableIdentifier.of("ns", "t"),
                                new Schema(
                                        Types.NestedField.required(1, "id", Types.LongType.get())));
        assertThat(FilesWriter.holdsNoFiles(table)).as("no snapshot").isTrue();
        // what FirstSnapshots commits before a job that removes orphan files
        table.newAppend().commit();
        assertThat(table.currentSnapshot()).isNotNull();
        assertThat(FilesWriter.holdsNoFiles(table)).as("an empty snapshot").isTrue();
        table.newAppend()
                .appendFile(
                        DataFiles.builder(PartitionSpec.unpartitioned())
                                .withPath(warehouse.resolve("f.parquet").toString())
                                .withFileSizeInBytes(10)
                                .withRecordCount(1)
                                .build())
                .commit();
        assertThat(FilesWriter.holdsNoFiles(table)).as("a data file").isFalse();
    }
}
