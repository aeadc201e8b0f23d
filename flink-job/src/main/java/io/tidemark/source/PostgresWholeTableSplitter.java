package io.tidemark.source;

import io.debezium.jdbc.JdbcConnection;
import io.debezium.relational.Column;
import io.debezium.relational.TableId;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.cdc.connectors.base.config.JdbcSourceConfig;
import org.apache.flink.cdc.connectors.base.dialect.JdbcDataSourceDialect;
import org.apache.flink.cdc.connectors.base.source.assigner.state.ChunkSplitterState;
import org.apache.flink.cdc.connectors.base.source.meta.split.SnapshotSplit;
import org.apache.flink.cdc.connectors.postgres.source.PostgresChunkSplitter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flink CDC's Postgres chunk splitter, except for a table whose chunk key Postgres cannot take the
 * minimum of ({@code bytea}, {@code boolean}, or any type without a {@code min} aggregate): such a
 * table is read as one chunk instead of failing the split (and with it the snapshot of every table
 * of the pipeline). Its bounds would be values Flink CDC cannot order either (a {@code byte[]}).
 * The cost is that such a table's snapshot is one query on one reader, however large the table. And
 * a table whose name Flink CDC cannot read back from a split id has its chunks named quoted.
 */
final class PostgresWholeTableSplitter extends PostgresChunkSplitter {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresWholeTableSplitter.class);

    /** SQLSTATE undefined_function: no {@code min}/{@code max} for the column's type. */
    private static final String UNDEFINED_FUNCTION = "42883";

    PostgresWholeTableSplitter(
            JdbcSourceConfig sourceConfig,
            JdbcDataSourceDialect dialect,
            ChunkSplitterState chunkSplitterState) {
        super(sourceConfig, dialect, chunkSplitterState);
    }

    /**
     * Flink CDC's chunks of {@code tableId}, each named by a split id Flink CDC's enumerator can
     * read back: it takes the table out of a split id ({@code SnapshotSplit.extractTableId}, for
     * its metrics) by parsing the text before the last colon as SQL, which fails for a name with a
     * space ({@code public.line items:0}, at the first checkpoint after the chunk) and reads a dot
     * in a name as a separator. Such a table's chunks are named by its quoted name ({@code
     * "public"."line items":0}); the others keep Flink CDC's split ids.
     */
    @Override
    public Collection<SnapshotSplit> generateSplits(TableId tableId) throws Exception {
        Collection<SnapshotSplit> splits = super.generateSplits(tableId);
        if (readsBack(tableId)) {
            return splits;
        }
        List<SnapshotSplit> named = new ArrayList<>(splits.size());
        for (SnapshotSplit split : splits) {
            named.add(
                    new SnapshotSplit(
                            split.getTableId(),
                            splitId(
                                    split.getTableId(),
                                    SnapshotSplit.extractChunkId(split.splitId())),
                            split.getSplitKeyType(),
                            split.getSplitStart(),
                            split.getSplitEnd(),
                            split.getHighWatermark(),
                            split.getTableSchemas()));
        }
        return named;
    }

    /** Whether Flink CDC parses {@code tableId}'s unquoted name back to the same table. */
    static boolean readsBack(TableId tableId) {
        try {
            // by parts: TableId.equals compares the unquoted text, equal for public.line.items
            TableId parsed = TableId.parse(tableId.toString(), false);
            return java.util.Objects.equals(parsed.catalog(), tableId.catalog())
                    && java.util.Objects.equals(parsed.schema(), tableId.schema())
                    && java.util.Objects.equals(parsed.table(), tableId.table());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The id of chunk {@code chunk} of a table whose name needs quotes. */
    static String splitId(TableId tableId, int chunk) {
        return tableId.toDoubleQuotedString() + ":" + chunk;
    }

    @Override
    public Object[] queryMinMax(JdbcConnection jdbc, TableId tableId, Column splitColumn)
            throws SQLException {
        if (unordered(splitColumn)) {
            return wholeTable(tableId, splitColumn);
        }
        try {
            return super.queryMinMax(jdbc, tableId, splitColumn);
        } catch (SQLException e) {
            if (!UNDEFINED_FUNCTION.equals(e.getSQLState())) {
                throw e;
            }
            return wholeTable(tableId, splitColumn);
        }
    }

    /** Chunk keys whose values Flink CDC's splitter cannot compare or Postgres cannot min/max. */
    static boolean unordered(Column column) {
        String type = column.typeName() == null ? "" : column.typeName().toLowerCase();
        return type.equals("bytea") || type.equals("bool") || type.equals("boolean");
    }

    private static Object[] wholeTable(TableId tableId, Column splitColumn) {
        // null bounds: Flink CDC reads the table as one unbounded chunk
        LOG.info(
                "Table {} is snapshotted as one chunk: its chunk key '{}' is a {}, which Postgres "
                        + "cannot take the minimum of",
                tableId,
                splitColumn.name(),
                splitColumn.typeName());
        return new Object[] {null, null};
    }
}
