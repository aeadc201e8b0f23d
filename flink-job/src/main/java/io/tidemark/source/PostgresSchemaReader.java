package io.tidemark.source;

import io.tidemark.catalog.SqlNames;
import io.tidemark.catalog.TableSpec;
import io.tidemark.catalog.TimeText;
import io.tidemark.config.PipelineConfig.TableConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Reads a captured table's columns and primary key from Postgres' catalog and maps them to an
 * Iceberg {@link TableSpec}.
 *
 * <p>Type mapping: {@code smallint/integer} int, {@code bigint} long, {@code boolean}, {@code real}
 * float, {@code double precision} double, {@code numeric(p,s)} decimal(p,s) (p at most 38), {@code
 * text/varchar/char/uuid/json/jsonb/xml/citext} string, {@code date}, {@code time} time, {@code
 * timestamp} timestamp, {@code timestamptz} timestamptz, {@code bytea} binary; an enum is a string
 * (its label), a domain its underlying type. Anything else (unconstrained numeric, arrays,
 * geometric types, ...) stops the start with a message naming the column: Tidemark does not guess a
 * lossy type.
 */
public final class PostgresSchemaReader {

    /**
     * {@code udt_name} is the column's type, the underlying type for a domain; {@code typtype}
     * tells an enum ({@code e}) from a base type. Generated columns are left out: see {@link
     * PostgresGeneratedColumns}.
     */
    private static final String COLUMNS =
            "SELECT c.column_name, c.is_nullable, c.udt_name, c.numeric_precision, c.numeric_scale, "
                    + "(SELECT t.typtype FROM pg_type t JOIN pg_namespace tn ON tn.oid = t.typnamespace "
                    + "WHERE tn.nspname = c.udt_schema AND t.typname = c.udt_name), "
                    + "c.datetime_precision "
                    + "FROM information_schema.columns c WHERE c.table_schema = ? AND c.table_name = ? "
                    + "AND c.is_generated <> 'ALWAYS' "
                    + "ORDER BY c.ordinal_position";

    /** {@code pg_type.typtype} of an enum: its values are captured as their labels. */
    static final String ENUM = "e";

    private static final String PRIMARY_KEY =
            "SELECT a.attname FROM pg_index i "
                    + "JOIN pg_class c ON c.oid = i.indrelid "
                    + "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    + "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true "
                    + "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
                    + "WHERE i.indisprimary AND n.nspname = ? AND c.relname = ? ORDER BY k.ord";

    private PostgresSchemaReader() {}

    /** The spec of the Iceberg table that replicates {@code table}. */
    public static TableSpec read(Connection connection, TableConfig table) throws SQLException {
        return SchemaReading.read(
                connection,
                table,
                COLUMNS,
                (source, column, row) ->
                        ENUM.equals(row.getString(6))
                                ? Types.StringType.get()
                                : "time".equals(row.getString(3))
                                                && SchemaReading.integer(row, 7) != null
                                                && SchemaReading.integer(row, 7)
                                                        > TimeText.TIME_PRECISION
                                        // microseconds: Iceberg's Flink writers keep milliseconds
                                        ? Types.StringType.get()
                                        : icebergType(
                                                source,
                                                column,
                                                row.getString(3),
                                                SchemaReading.integer(row, 4),
                                                SchemaReading.integer(row, 5)),
                PostgresSchemaReader::primaryKey,
                PostgresSchemaReader::uniqueKeys);
    }

    /** Unique constraints and indexes that are not partial and on plain columns. */
    private static final String UNIQUE_KEYS =
            "SELECT array_to_string(ARRAY(SELECT a.attname FROM pg_attribute a "
                    + "WHERE a.attrelid = c.oid AND a.attnum = ANY(i.indkey)), ',') "
                    + "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                    + "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    + "WHERE i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL "
                    + "AND n.nspname = ? AND c.relname = ?";

    static List<java.util.Set<String>> uniqueKeys(
            Connection connection, String schema, String table) throws SQLException {
        List<java.util.Set<String>> keys = new java.util.ArrayList<>();
        for (String columns : SchemaReading.firstColumn(connection, UNIQUE_KEYS, schema, table)) {
            keys.add(java.util.Set.of(columns.split(",")));
        }
        return keys;
    }

    static List<String> primaryKey(Connection connection, String schema, String table)
            throws SQLException {
        return SchemaReading.firstColumn(connection, PRIMARY_KEY, schema, table);
    }

    static Type icebergType(
            String table, String column, String udt, Integer precision, Integer scale) {
        switch (udt) {
            case "int2":
            case "int4":
                return Types.IntegerType.get();
            case "int8":
                return Types.LongType.get();
            case "bool":
                return Types.BooleanType.get();
            case "float4":
                return Types.FloatType.get();
            case "float8":
                return Types.DoubleType.get();
            case "numeric":
                if (precision == null || precision > 38) {
                    throw new IllegalArgumentException(
                            String.format(
                                    "table '%s' column '%s': numeric%s cannot be stored exactly in Iceberg; "
                                            + "declare it numeric(p,s) with p <= 38",
                                    table,
                                    column,
                                    precision == null
                                            ? " without precision"
                                            : "(" + precision + ")"));
                }
                return Types.DecimalType.of(precision, scale == null ? 0 : scale);
            case "text":
            case "varchar":
            case "bpchar":
            case "uuid":
            case "json":
            case "jsonb":
            case "xml":
            case "citext":
                return Types.StringType.get();
            case "date":
                return Types.DateType.get();
            case "time":
                return Types.TimeType.get();
            case "timestamp":
                return Types.TimestampType.withoutZone();
            case "timestamptz":
                return Types.TimestampType.withZone();
            case "bytea":
                return Types.BinaryType.get();
            default:
                if (udt.startsWith("_")) {
                    throw new IllegalArgumentException(
                            String.format(
                                    "table '%s' column '%s': arrays (%s[]) are not captured: the "
                                            + "CDC reader turns an array that Postgres stores out of "
                                            + "line and an UPDATE leaves unchanged into an empty one, "
                                            + "which no later stage can tell from a real empty array. "
                                            + "Store it as jsonb (ALTER TABLE %s ALTER COLUMN \"%s\" "
                                            + "TYPE jsonb USING to_jsonb(\"%s\"); captured as its "
                                            + "JSON text), or leave the table out of the pipeline",
                                    table,
                                    column,
                                    udt.substring(1),
                                    SqlNames.forStatement(table),
                                    column.replace("\"", "\"\""),
                                    column.replace("\"", "\"\"")));
                }
                throw new IllegalArgumentException(
                        String.format(
                                "table '%s' column '%s': Postgres type '%s' is not supported (arrays, "
                                        + "composite, range and geometric types are not yet): the table cannot "
                                        + "be captured while it has this column; change the column's type, or "
                                        + "leave the table out of the pipeline",
                                table, column, udt));
        }
    }
}
