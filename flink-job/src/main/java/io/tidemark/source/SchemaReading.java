package io.tidemark.source;

import io.tidemark.catalog.SqlNames;
import io.tidemark.catalog.TableSpec;
import io.tidemark.config.PipelineConfig.TableConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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

    /** A database's unique keys: the column sets of its unique constraints and full indexes. */
    @FunctionalInterface
    interface UniqueKeys {
        List<Set<String>> of(Connection connection, String schema, String table)
                throws SQLException;
    }

    private SchemaReading() {}

    static TableSpec read(
            Connection connection,
            TableConfig table,
            String columnsQuery,
            TypeMapping types,
            PrimaryKey primaryKey,
            UniqueKeys uniqueKeys)
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
        if (!key.isEmpty()) {
            checkDeclaredKey(
                    table.source(),
                    key,
                    columns,
                    primaryKey.of(connection, parts[0], parts[1]),
                    uniqueKeys.of(connection, parts[0], parts[1]));
        }
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

    /**
     * A {@code primary-key} declared in the pipeline file is what the target merges and deletes by,
     * so it must be a key in the source: every column not null (a null key cannot be merged or
     * deleted), and a unique constraint or index (not partial, on columns not expressions) over
     * some of its columns (else two source rows with the same values would become one row in
     * Iceberg, silently). Refused otherwise, naming the statement that makes it one.
     */
    static void checkDeclaredKey(
            String table,
            List<String> declared,
            List<Types.NestedField> columns,
            List<String> tablePrimaryKey,
            List<Set<String>> uniqueKeys) {
        Set<String> declaredSet = new java.util.HashSet<>(declared);
        if (declaredSet.equals(new java.util.HashSet<>(tablePrimaryKey))) {
            return;
        }
        List<String> problems = new ArrayList<>();
        for (String column : declared) {
            Types.NestedField field =
                    columns.stream().filter(c -> c.name().equals(column)).findFirst().orElse(null);
            if (field == null) {
                problems.add(
                        String.format(
                                "column '%s' does not exist (columns: %s)",
                                column, columns.stream().map(Types.NestedField::name).toList()));
            } else if (field.isOptional()) {
                problems.add(
                        String.format(
                                "column '%s' may be null (make it NOT NULL: ALTER TABLE %s ALTER COLUMN "
                                        + "%s SET NOT NULL, or in MySQL MODIFY it NOT NULL)",
                                column,
                                SqlNames.forStatement(table),
                                SqlNames.forStatementPart(column)));
            }
        }
        boolean unique = uniqueKeys.stream().anyMatch(declaredSet::containsAll);
        if (!unique) {
            problems.add(
                    String.format(
                            "no unique constraint or index covers it (two source rows with the same "
                                    + "values would become one row in Iceberg): ALTER TABLE %s ADD "
                                    + "CONSTRAINT %s UNIQUE (%s)",
                            SqlNames.forStatement(table),
                            SqlNames.forStatementPart(
                                    table.substring(table.indexOf('.') + 1) + "_tidemark_key"),
                            String.join(
                                    ", ",
                                    declared.stream().map(SqlNames::forStatementPart).toList())));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(
                    String.format(
                            "table '%s': the declared primary-key %s is not a key of the source table: %s; "
                                    + "or declare columns that are",
                            table, declared, String.join("; ", problems)));
        }
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
