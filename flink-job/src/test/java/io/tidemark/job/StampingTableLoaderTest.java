package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.runtime.RunContext;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SerializableTable;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.TableUtil;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The table loader the job's table maintenance runs on, against a real Iceberg table (a Hadoop
 * catalog in a temporary directory): a rewrite committed through its table carries the run's
 * provenance, other commits do not; it travels as Flink ships it (serialized, cloned) and its table
 * is one Iceberg's maintenance can copy (its format version read through its operations).
 */
class StampingTableLoaderTest {

    private static final Schema SCHEMA =
            new Schema(
                    List.of(Types.NestedField.required(1, "id", Types.LongType.get())), Set.of(1));

    private static final TableIdentifier NAME = TableIdentifier.of("ns", "t");

    @TempDir Path warehouse;

    private TableLoader loader;

    @BeforeEach
    void createTable() throws Exception {
        Map<String, String> properties = Map.of("warehouse", warehouse.toUri().toString());
        try (HadoopCatalog catalog =
                new HadoopCatalog(new Configuration(), warehouse.toUri().toString())) {
            catalog.createTable(
                    NAME,
                    SCHEMA,
                    PartitionSpec.unpartitioned(),
                    Map.of(TableProperties.FORMAT_VERSION, "2"));
        }
        loader =
                new StampingTableLoader(
                        TableLoader.fromCatalog(
                                CatalogLoader.hadoop("test", new Configuration(), properties),
                                NAME),
                        MaintenanceStage.stamp(new RunContext("run-m", "pipeline-m", "v-test")));
    }

    @Test
    void aRewriteCommittedThroughItsTableCarriesTheRun() throws Exception {
        TableLoader shipped = roundTrip(loader).clone();
        shipped.open();
        Table table = shipped.loadTable();
        DataFile small = data("small");
        table.newAppend().appendFile(small).commit();
        assertThat(table.currentSnapshot().summary()).doesNotContainKey(Provenance.MAINTENANCE);

        table.newRewrite().deleteFile(small).addFile(data("compacted")).commit();

        assertThat(table.currentSnapshot().operation()).isEqualTo("replace");
        assertThat(table.currentSnapshot().summary())
                .containsEntry(Provenance.MAINTENANCE, "compaction")
                .containsEntry(Provenance.RUN_ID, "run-m")
                .containsEntry(Provenance.CODE_VERSION, "v-test")
                .doesNotContainKey(Provenance.PIPELINE_ID);
        // what Iceberg's compaction planner does with the table it loads
        Table copy = SerializableTable.copyOf(table);
        assertThat(TableUtil.formatVersion(copy)).isEqualTo(2);
        assertThat(copy.name()).isEqualTo(table.name());
        shipped.close();
    }

    private DataFile data(String name) {
        return DataFiles.builder(PartitionSpec.unpartitioned())
                .withPath(warehouse.resolve(name + ".parquet").toString())
                .withFormat(FileFormat.PARQUET)
                .withFileSizeInBytes(100)
                .withRecordCount(1)
                .build();
    }

    private static TableLoader roundTrip(TableLoader loader) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(loader);
        }
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (TableLoader) in.readObject();
        }
    }
}
