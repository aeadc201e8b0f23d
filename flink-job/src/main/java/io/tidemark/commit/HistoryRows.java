package io.tidemark.commit;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.sink.HistoryTable;
import io.tidemark.sink.RowDataConverter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/**
 * The rows of one history table ({@link HistoryTable}) in its current schema: a version of a change
 * (the row's columns from the change, then the history columns), and a version read back from the
 * table, re-laid in the current schema by column name.
 */
final class HistoryRows {

    private final Schema schema;
    private final Map<String, Integer> positions = new HashMap<>();
    private final Schema data;
    private final RowDataConverter converter;

    /** Position in the history row of each column of {@link #data}. */
    private final int[] dataAt;

    private final int validFrom;
    private final int validTo;
    private final int operation;
    private final int version;
    private final int sourceId;
    private final int commitLsn;
    private final int changeLsn;
    private final int txId;
    private final int rowKey;

    HistoryRows(String sourceTable, Schema schema, List<String> primaryKey) {
        this.schema = schema;
        for (int i = 0; i < schema.columns().size(); i++) {
            positions.put(schema.columns().get(i).name(), i);
        }
        List<Types.NestedField> dataColumns = new ArrayList<>();
        for (Types.NestedField column : schema.columns()) {
            if (!HistoryTable.NAMES.contains(column.name())) {
                dataColumns.add(column);
            }
        }
        this.data = new Schema(dataColumns);
        this.converter = new RowDataConverter(sourceTable, data, primaryKey);
        this.dataAt = new int[dataColumns.size()];
        for (int i = 0; i < dataColumns.size(); i++) {
            dataAt[i] = indexOf(dataColumns.get(i).name());
        }
        validFrom = indexOf(HistoryTable.VALID_FROM);
        validTo = indexOf(HistoryTable.VALID_TO);
        operation = indexOf(HistoryTable.OPERATION);
        version = indexOf(HistoryTable.VERSION);
        sourceId = indexOf(HistoryTable.SOURCE_ID);
        commitLsn = indexOf(HistoryTable.COMMIT_LSN);
        changeLsn = indexOf(HistoryTable.CHANGE_LSN);
        txId = indexOf(HistoryTable.TX_ID);
        rowKey = indexOf(HistoryTable.ROW_KEY);
    }

    private int indexOf(String name) {
        Integer at = positions.get(name);
        if (at != null) {
            return at;
        }
        throw new IllegalStateException(
                "history table schema " + schema + " lacks column '" + name + "'");
    }

    /** The row's columns as the history table takes them (without the history columns). */
    Schema dataSchema() {
        return data;
    }

    /**
     * The version {@code change} makes: its row (the key only for a delete), open from {@code
     * validFromMillis}.
     */
    GenericRowData version(
            ChangeEvent change, String key, long number, long validFromMillis, String op) {
        GenericRowData row = new GenericRowData(schema.columns().size());
        RowData[] converted = new RowData[1];
        // a key's update arrives split from its key change (KeyChangeSplitter): one row
        converter.convert(fitted(change), r -> converted[0] = r);
        for (int i = 0; i < dataAt.length; i++) {
            row.setField(dataAt[i], ((GenericRowData) converted[0]).getField(i));
        }
        row.setField(validFrom, TimestampData.fromEpochMillis(validFromMillis));
        row.setField(operation, StringData.fromString(op));
        row.setField(version, number);
        row.setField(sourceId, StringData.fromString(change.source()));
        row.setField(commitLsn, lsn(change.position().commitLsn()));
        row.setField(changeLsn, lsn(change.position().changeLsn()));
        row.setField(txId, lsn(change.position().txId()));
        row.setField(rowKey, StringData.fromString(key));
        return row;
    }

    /**
     * {@code change} without the null values of columns the history table lacks (a column the
     * source added, which no row has given a value yet: nothing to add it for).
     */
    private ChangeEvent fitted(ChangeEvent change) {
        Map<String, Object> after = change.after();
        if (after == null) {
            return change;
        }
        boolean dropped = false;
        Map<String, Object> kept = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Object> column : after.entrySet()) {
            if (column.getValue() == null && data.findField(column.getKey()) == null) {
                dropped = true;
            } else {
                kept.put(column.getKey(), column.getValue());
            }
        }
        return dropped
                ? change.with(change.operation(), change.key(), change.before(), kept)
                : change;
    }

    private static Long lsn(long value) {
        return value < 0 ? null : value;
    }

    /**
     * A version read from the table ({@code names}: its columns then, {@code values}: its fields),
     * in the current schema; a column added since is null.
     */
    GenericRowData relaid(List<String> names, Object[] values) {
        GenericRowData row = new GenericRowData(schema.columns().size());
        for (int i = 0; i < names.size(); i++) {
            Integer at = positions.get(names.get(i));
            if (at != null) {
                row.setField(at, values[i]);
            }
        }
        return row;
    }

    /** {@code open} with {@code valid_to} set: the version closed. */
    GenericRowData closed(GenericRowData open, long validToMillis) {
        GenericRowData row = new GenericRowData(open.getArity());
        for (int i = 0; i < open.getArity(); i++) {
            row.setField(i, open.getField(i));
        }
        row.setField(validTo, TimestampData.fromEpochMillis(validToMillis));
        return row;
    }

    /** Whether two versions hold the same row (every column but the history columns). */
    boolean sameRow(GenericRowData a, GenericRowData b) {
        for (int at : dataAt) {
            if (!Objects.deepEquals(a.getField(at), b.getField(at))) {
                return false;
            }
        }
        return true;
    }
}
