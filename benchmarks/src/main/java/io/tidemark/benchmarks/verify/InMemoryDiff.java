package io.tidemark.benchmarks.verify;

import io.tidemark.catalog.verify.CanonicalValues;
import io.tidemark.catalog.verify.GroundTruthDiff;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;

/**
 * The baseline: how {@code tidemark verify} compared a table until release 0.x (both sides read
 * into hash maps by key, then compared), kept only to be measured beside {@link GroundTruthDiff}.
 * It returns the counts {@code missing, extra, duplicate, stale}.
 */
final class InMemoryDiff {

    private InMemoryDiff() {}

    static long[] diff(Connection source, String sourceTable, Table table) throws SQLException {
        table.refresh();
        Schema schema = table.schema();
        List<Types.NestedField> columns = schema.columns();
        List<Integer> keyIndexes = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            if (schema.identifierFieldNames().contains(columns.get(i).name())) {
                keyIndexes.add(i);
            }
        }
        Map<List<Object>, List<Object>> expected = new HashMap<>();
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append('"').append(columns.get(i).name()).append('"');
        }
        sql.append(" FROM ").append(sourceTable);
        try (Statement statement = source.createStatement();
                ResultSet rs = statement.executeQuery(sql.toString())) {
            while (rs.next()) {
                List<Object> row = new ArrayList<>(columns.size());
                for (int i = 0; i < columns.size(); i++) {
                    row.add(
                            CanonicalValues.canonical(
                                    CanonicalValues.readColumn(rs, i + 1, columns.get(i).type()),
                                    columns.get(i).type()));
                }
                expected.put(keyOf(row, keyIndexes), row);
            }
        }
        Map<List<Object>, List<Object>> actual = new HashMap<>();
        long duplicate = 0;
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                List<Object> row = new ArrayList<>(columns.size());
                for (Types.NestedField column : columns) {
                    row.add(
                            CanonicalValues.canonical(
                                    record.getField(column.name()), column.type()));
                }
                if (actual.putIfAbsent(keyOf(row, keyIndexes), row) != null) {
                    duplicate++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long missing = 0;
        long stale = 0;
        for (Map.Entry<List<Object>, List<Object>> entry : expected.entrySet()) {
            List<Object> row = actual.get(entry.getKey());
            if (row == null) {
                missing++;
            } else if (!row.equals(entry.getValue())) {
                stale++;
            }
        }
        long extra = actual.keySet().stream().filter(k -> !expected.containsKey(k)).count();
        return new long[] {missing, extra, duplicate, stale};
    }

    private static List<Object> keyOf(List<Object> row, List<Integer> keyIndexes) {
        List<Object> key = new ArrayList<>(keyIndexes.size());
        for (int index : keyIndexes) {
            key.add(row.get(index));
        }
        return key;
    }
}
