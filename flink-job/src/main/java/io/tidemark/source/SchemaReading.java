package io.tidemark.source;

import io.tidemark.catalog.TableSpec;
import io.tidemark.config.PipelineConfig.TableConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * What the Postgres and MySQL schema readers share: the columns of a table from a catalog query
 * (column name first, {@code is_nullable} second, then what the database's type mapping reads), in
 * order, and the table's primary key unless the pipeline file names one.
 */
final class SchemaReading {

    /** A database's type mapping over one row of its columns query. */
    @FunctionalInterface
    interface TypeMapping {
        Type icebergType(String table, String column, ResultSet row) throws SQLException;
    }

    /** A database's primary key lookup. */
    @FunctionalInterface
    interface PrimaryKey {
        List<String> of(Connection connection, String schema, String table) throws SQLException;
    }

    private SchemaReading() {}

    static TableSpec read(
            Connection connection,
            TableConfig table,
            String columnsQuery,
            TypeMapping types,
            PrimaryKey primaryKey)
            throws SQLException {
        String[] parts = table.source().split("\\.", 2);
        List<Types.NestedField> columns = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(columnsQuery)) {
            statement.setString(1, parts[0]);
            statement.setString(2, parts[1]);
            try (ResultSet rs = statement.executeQuery()) {
                int id = 1;
                while (rs.next()) {
                    String name = rs.getString(1);
                    Type type = types.icebergType(table.source(), name, rs);
                    columns.add(
                            "YES".equals(rs.getString(2))
                                    ? Types.NestedField.optional(id++, name, type)
                                    : Types.NestedField.required(id++, name, type));
                }
            }
        }
        if (columns.isEmpty()) {
            throw new IllegalArgumentException(
                    String.format(
                            "source table '%s' does not exist or has no columns visible to the configured user; "
                                    + "check tables[*].source and the user's SELECT grant",
                            table.source()));
        }
        List<String> key = table.primaryKey();
        if (key.isEmpty()) {
            key = primaryKey.of(connection, parts[0], parts[1]);
            if (key.isEmpty()) {
                throw new IllegalArgumentException(
                        String.format(
                                "source table '%s' has no primary key: declare one in the database or set "
                                        + "'primary-key' for it in the pipeline file",
                                table.source()));
            }
        }
        return new TableSpec(TableIdentifier.parse(table.target()), columns, key);
    }

    /** The first column of every row {@code query} returns for (schema, table), in order. */
    static List<String> firstColumn(
            Connection connection, String query, String schema, String table) throws SQLException {
        List<String> values = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(query)) {
            statement.setString(1, schema);
            statement.setString(2, table);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
            }
        }
        return values;
    }

    /** The integer in column {@code index} of {@code row}, or null. */
    static Integer integer(ResultSet row, int index) throws SQLException {
        int value = row.getInt(index);
        return row.wasNull() ? null : value;
    }
}
