package io.tidemark.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.NullOrder;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SortDirection;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TableLayout} through {@link TableManager} on real Iceberg tables (a Hadoop catalog in a
 * temporary directory): a table made partitioned, sorted and with its properties; the same layout
 * in Trino's argument order; a partition on a column outside the key refused before any table is
 * made, and on a table made elsewhere; an existing table's different spec refused once it holds
 * snapshots and given the layout while it holds none; properties and sort order fitted.
 */
class TableLayoutTest {

    private static final List<Types.NestedField> COLUMNS =
            List.of(
                    Types.NestedField.required(1, "tenant", Types.IntegerType.get()),
                    Types.NestedField.required(2, "id", Types.LongType.get()),
                    Types.NestedField.optional(3, "created_at", Types.TimestampType.withZone()),
                    Types.NestedField.optional(4, "name", Types.StringType.get()));

    @TempDir Path warehouse;

    private HadoopCatalog catalog;
    private TableManager tables;

    @BeforeEach
    void open() {
        catalog = new HadoopCatalog(new Configuration(), warehouse.toUri().toString());
        tables = new TableManager(catalog);
    }

    @AfterEach
    void close() throws Exception {
        catalog.close();
    }

    /** Partitioned by tenant and {@code bucket}, zstd, sorted by id descending and name. */
    private static TableLayout zstdLayout(String bucket) {
        return new TableLayout(
                List.of("tenant", bucket),
                Map.of("write.parquet.compression-codec", "zstd"),
                List.of("id desc", "name nulls last"));
    }

    private static TableSpec spec(String name) {
        return new TableSpec(TableIdentifier.of("ns", name), COLUMNS, List.of("tenant", "id"));
    }

    @Test
    void aNewTableIsMadePartitionedSortedAndWithItsProperties() {
        Table table = tables.ensure(spec("t"), zstdLayout("bucket(8, id)"), false);

        assertThat(TableLayout.describe(table.spec()))
                .containsExactly("identity(tenant)", "bucket[8](id)");
        assertThat(table.properties())
                .containsEntry("write.parquet.compression-codec", "zstd")
                .containsEntry("write.upsert.enabled", "true");
        assertThat(((BaseTable) table).operations().current().formatVersion()).isEqualTo(2);
        assertThat(table.sortOrder().fields()).hasSize(2);
        assertThat(table.sortOrder().fields().get(0).direction()).isEqualTo(SortDirection.DESC);
        assertThat(table.sortOrder().fields().get(0).nullOrder()).isEqualTo(NullOrder.NULLS_LAST);
        assertThat(table.sortOrder().fields().get(1).direction()).isEqualTo(SortDirection.ASC);
        assertThat(table.sortOrder().fields().get(1).nullOrder()).isEqualTo(NullOrder.NULLS_LAST);

        // the same layout, Trino's argument order: the table is as asked, nothing is committed
        String metadata = ((BaseTable) table).operations().current().metadataFileLocation();
        Table again = tables.ensure(spec("t"), zstdLayout("bucket(id, 8)"), false);
        assertThat(TableLayout.describe(again.spec()))
                .containsExactly("identity(tenant)", "bucket[8](id)");
        assertThat(((BaseTable) again).operations().current().metadataFileLocation())
                .isEqualTo(metadata);
    }

    @Test
    void aPartitionOutsideTheKeyIsRefusedBeforeAnyTableIsMadeAndOnATableMadeElsewhere() {
        TableLayout byDay = new TableLayout(List.of("day(created_at)"), Map.of(), List.of());
        assertThatThrownBy(() -> tables.ensure(spec("by_day"), byDay, false))
                .hasMessageContaining(
                        "partition-by 'day(created_at)' is on a column outside the key [tenant, id]")
                .hasMessageContaining("bucket(16, tenant)");
        assertThat(catalog.tableExists(TableIdentifier.of("ns", "by_day"))).isFalse();

        // made by another engine, partitioned by a column outside the key
        Schema schema = spec("other").schema();
        catalog.createTable(
                TableIdentifier.of("ns", "other"),
                schema,
                PartitionSpec.builderFor(schema).day("created_at").build(),
                Map.of("format-version", "2"));
        assertThatThrownBy(() -> tables.ensure(spec("other"), false))
                .hasMessageContaining(
                        "is partitioned by day(created_at), a column outside its key [tenant, id]");
    }

    @Test
    void anExistingTablesSpecIsKeptOnceItHoldsSnapshotsAndGivenWhileItHoldsNone() {
        tables.ensure(spec("plain"), false);
        TableLayout bucketed = new TableLayout(List.of("bucket(4, id)"), Map.of(), List.of());
        // no snapshot yet: given the spec
        Table evolved = tables.ensure(spec("plain"), bucketed, false);
        assertThat(TableLayout.describe(evolved.spec())).containsExactly("bucket[4](id)");

        Table other = tables.ensure(spec("filled"), false);
        other.newAppend()
                .appendFile(
                        DataFiles.builder(other.spec())
                                .withPath(other.location() + "/data/a.parquet")
                                .withFormat(FileFormat.PARQUET)
                                .withFileSizeInBytes(10)
                                .withRecordCount(1)
                                .build())
                .commit();
        assertThatThrownBy(() -> tables.ensure(spec("filled"), bucketed, false))
                .hasMessageContaining(
                        "ns.filled exists partitioned by [], but partition-by asks for [bucket[4](id)]");
    }

    @Test
    void aPatternsLayoutFitsATableMadeWhileRunningOrLeavesItsPartitionsOut() {
        TableLayout layout =
                new TableLayout(List.of("bucket(4, id)"), Map.of("k", "v"), List.of("name"));
        Schema schema = spec("live").schema();
        assertThat(layout.fitting(schema, List.of("tenant", "id"))).isSameAs(layout);
        TableLayout withoutId = layout.fitting(schema, List.of("tenant"));
        assertThat(withoutId.partitionBy()).isEmpty();
        assertThat(withoutId.sortOrder()).isEmpty();
        assertThat(withoutId.properties()).containsEntry("k", "v");
        TableLayout unknownSort =
                new TableLayout(List.of("id"), Map.of(), List.of("missing desc"))
                        .fitting(schema, List.of("id"));
        assertThat(unknownSort.partitionBy()).isEmpty();
    }

    @Test
    void propertiesAreSetAndTidemarksOwnRefused() {
        tables.ensure(spec("props"), false);
        Table table =
                tables.ensure(
                        spec("props"),
                        new TableLayout(
                                List.of(),
                                Map.of("write.target-file-size-bytes", "1048576"),
                                List.of()),
                        false);
        assertThat(table.properties()).containsEntry("write.target-file-size-bytes", "1048576");

        assertThatThrownBy(
                        () -> new TableLayout(List.of(), Map.of("format-version", "3"), List.of()))
                .hasMessageContaining("table property 'format-version' is Tidemark's own");
        assertThatThrownBy(() -> new TableLayout(List.of("bucket(id)"), Map.of(), List.of()))
                .hasMessageContaining(
                        "partition-by 'bucket(id)': expected a column or an Iceberg transform");
        assertThatThrownBy(() -> new TableLayout(List.of("weekday(ts)"), Map.of(), List.of()))
                .hasMessageContaining("partition-by 'weekday(ts)'");
        assertThatThrownBy(
                        () ->
                                tables.ensure(
                                        spec("nocol"),
                                        new TableLayout(List.of("id"), Map.of(), List.of("nope")),
                                        false))
                .hasMessageContaining("sort-order 'nope': no column 'nope'");
    }
}
