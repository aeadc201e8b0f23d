package io.tidemark.catalog.verify;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Compares an Iceberg table with its source table row by row, by primary key (the table's
 * identifier fields), over every column of the Iceberg schema.
 *
 * <p>Values are compared in one canonical form per Iceberg type: decimals at the column's scale,
 * timestamps with zone as instants, binary as bytes. Reading the source and the table is not one
 * atomic act, so callers compare once the source is quiet (or wait until the diff is clean).
 */
public final class GroundTruthDiff {

    static final int MAX_EXAMPLES = 5;

    private GroundTruthDiff() {}

    /**
     * Diffs {@code table} with {@code sourceTable} (a possibly schema-qualified name) read through
     * {@code source}. The table is refreshed first.
     */
    public static DiffReport diff(Connection source, String sourceTable, Table table)
            throws SQLException {
        table.refresh();
        Schema schema = table.schema();
        List<String> key = List.copyOf(schema.identifierFieldNames());
        if (key.isEmpty()) {
            throw new IllegalArgumentException(
                    "table " + table.name() + " has no identifier fields: cannot diff by key");
        }
        List<String> keyColumns =
                schema.columns().stream()
                        .map(Types.NestedField::name)
                        .filter(key::contains)
                        .toList();
        Map<List<Object>, List<Object>> expected =
                readSource(source, sourceTable, schema, keyColumns);
        Map<List<Object>, List<Object>> actual = new HashMap<>();
        long tableRows = 0;
        long duplicate = 0;
        List<String> examples = new ArrayList<>();
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                tableRows++;
                List<Object> row = new ArrayList<>(schema.columns().size());
                for (Types.NestedField column : schema.columns()) {
                    row.add(canonical(record.getField(column.name()), column.type()));
                }
                List<Object> rowKey = keyOf(schema, keyColumns, row);
                if (actual.putIfAbsent(rowKey, row) != null) {
                    duplicate++;
                    example(examples, "duplicate", rowKey);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        long missing = 0;
        long stale = 0;
        for (Map.Entry<List<Object>, List<Object>> entry : expected.entrySet()) {
            List<Object> row = actual.get(entry.getKey());
            if (row == null) {
                missing++;
                example(examples, "missing", entry.getKey());
            } else if (!row.equals(entry.getValue())) {
                stale++;
                example(
                        examples,
                        "stale",
                        entry.getKey() + " table " + row + " source " + entry.getValue());
            }
        }
        long extra = 0;
        for (List<Object> rowKey : actual.keySet()) {
            if (!expected.containsKey(rowKey)) {
                extra++;
                example(examples, "extra", rowKey);
            }
        }
        return new DiffReport(
                sourceTable,
                table.name(),
                expected.size(),
                tableRows,
                missing,
                extra,
                duplicate,
                stale,
                examples);
    }

    private static Map<List<Object>, List<Object>> readSource(
            Connection source, String sourceTable, Schema schema, List<String> keyColumns)
            throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT ");
        List<Types.NestedField> columns = schema.columns();
        // '"' in Postgres, '`' in MySQL
        String quote = source.getMetaData().getIdentifierQuoteString().trim();
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i == 0 ? "" : ", ")
                    .append(quote)
                    .append(columns.get(i).name())
                    .append(quote);
        }
        sql.append(" FROM ").append(sourceTable);
        Map<List<Object>, List<Object>> rows = new HashMap<>();
        try (Statement statement = source.createStatement();
                ResultSet rs = statement.executeQuery(sql.toString())) {
            while (rs.next()) {
                List<Object> row = new ArrayList<>(columns.size());
                for (int i = 0; i < columns.size(); i++) {
                    row.add(
                            canonical(
                                    readColumn(rs, i + 1, columns.get(i).type()),
                                    columns.get(i).type()));
                }
                rows.put(keyOf(schema, keyColumns, row), row);
            }
        }
        return rows;
    }

    private static Object readColumn(ResultSet rs, int index, Type type) throws SQLException {
        Object value =
                switch (type.typeId()) {
                    case TIMESTAMP ->
                            ((Types.TimestampType) type).shouldAdjustToUTC()
                                    ? rs.getObject(index, OffsetDateTime.class)
                                    : rs.getObject(index, LocalDateTime.class);
                    case DATE -> rs.getObject(index, LocalDate.class);
                    case TIME -> rs.getObject(index, LocalTime.class);
                    case STRING ->
                            rs.getMetaData().getColumnType(index) == java.sql.Types.TIME
                                    // a time with microseconds, captured as its text (TimeText)
                                    ? timeText(rs.getObject(index, LocalTime.class))
                                    : rs.getString(index);
                    case BINARY, FIXED -> rs.getBytes(index);
                    case INTEGER -> rs.getInt(index);
                        // BIGINT UNSIGNED comes as a BigInteger from MySQL's driver
                    case DECIMAL -> rs.getBigDecimal(index);
                    case LONG -> rs.getLong(index);
                    default -> rs.getObject(index);
                };
        return rs.wasNull() ? null : value;
    }

    private static String timeText(LocalTime time) {
        return time == null ? null : io.tidemark.catalog.TimeText.format(time);
    }

    private static List<Object> keyOf(Schema schema, List<String> keyColumns, List<Object> row) {
        List<Object> key = new ArrayList<>(keyColumns.size());
        for (String column : keyColumns) {
            key.add(row.get(indexOf(schema, column)));
        }
        return key;
    }

    private static int indexOf(Schema schema, String column) {
        List<Types.NestedField> columns = schema.columns();
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equals(column)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no column " + column);
    }

    /** One comparable form per Iceberg type, whether the value came from JDBC or from Iceberg. */
    static Object canonical(Object value, Type type) {
        if (value == null) {
            return null;
        }
        switch (type.typeId()) {
            case DECIMAL:
                return ((BigDecimal) value)
                        .setScale(((Types.DecimalType) type).scale(), RoundingMode.UNNECESSARY);
            case TIMESTAMP:
                if (value instanceof OffsetDateTime) {
                    return ((OffsetDateTime) value).toInstant();
                }
                return value;
            case BINARY:
            case FIXED:
                if (value instanceof byte[]) {
                    return ByteBuffer.wrap((byte[]) value);
                }
                return value;
            case INTEGER:
                return ((Number) value).intValue();
            case LONG:
                return ((Number) value).longValue();
            case STRING:
                return Objects.toString(value);
            default:
                return value;
        }
    }

    private static void example(List<String> examples, String kind, Object detail) {
        if (examples.size() < MAX_EXAMPLES * 4) {
            long ofKind = examples.stream().filter(e -> e.startsWith(kind)).count();
            if (ofKind < MAX_EXAMPLES) {
                examples.add(kind + " " + detail);
            }
        }
    }
}
