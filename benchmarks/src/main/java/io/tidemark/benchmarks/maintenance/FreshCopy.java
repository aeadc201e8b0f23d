package io.tidemark.benchmarks.maintenance;

import io.tidemark.benchmarks.ParquetAppend;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The rows of a table's snapshot written afresh to a table of their own ({@code <name>_<suffix>}):
 * one Parquet file, no deletes, one snapshot: what a full read of those rows costs at best.
 */
final class FreshCopy {

    private FreshCopy() {}

    /**
     * The copy of {@code table}'s rows at {@code snapshotId}, or null when {@code readable} is
     * false (a full read of the table gave up).
     */
    static Table of(Catalog catalog, Table table, long snapshotId, String suffix, boolean readable)
            throws Exception {
        if (!readable) {
            return null;
        }
        String[] name = table.name().split("\\.");
        TableIdentifier fresh =
                TableIdentifier.of(name[name.length - 2], name[name.length - 1] + "_" + suffix);
        if (catalog.tableExists(fresh)) {
            catalog.dropTable(fresh, true);
        }
        Table copy = catalog.createTable(fresh, table.schema(), PartitionSpec.unpartitioned());
        try (CloseableIterable<Record> records =
                IcebergGenerics.read(table).useSnapshot(snapshotId).build()) {
            ParquetAppend.append(copy, "fresh.parquet", appender -> records.forEach(appender::add));
        }
        return copy;
    }
}
