package io.tidemark.source;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generated columns ({@code GENERATED ALWAYS AS (...) STORED}) of captured Postgres tables are not
 * captured. Logical replication (pgoutput before Postgres 18) does not send them, so a row changed
 * in the log would arrive without the value and the target would hold null where the source holds
 * the value. Their Iceberg tables are made without them ({@link PostgresSchemaReader}), and the
 * source leaves them out of the snapshot's rows as well ({@code column.exclude.list}), so both
 * paths give the same row. A query engine computes them from the captured columns.
 */
public final class PostgresGeneratedColumns {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresGeneratedColumns.class);

    private static final String QUERY =
            "SELECT column_name FROM information_schema.columns "
                    + "WHERE table_schema = ? AND table_name = ? AND is_generated = 'ALWAYS' "
                    + "ORDER BY ordinal_position";

    private PostgresGeneratedColumns() {}

    /** Each of {@code tables} ({@code schema.table}) with generated columns, to their names. */
    public static Map<String, List<String>> of(Connection connection, List<String> tables)
            throws SQLException {
        Map<String, List<String>> generated = new LinkedHashMap<>();
        try (PreparedStatement p = connection.prepareStatement(QUERY)) {
            for (String table : tables) {
                String[] parts = table.split("\\.", 2);
                p.setString(1, parts[0]);
                p.setString(2, parts[1]);
                List<String> columns = new ArrayList<>();
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        columns.add(rs.getString(1));
                    }
                }
                if (!columns.isEmpty()) {
                    generated.put(table, columns);
                }
            }
        }
        return generated;
    }

    /** Says, once per start, which columns are not captured and why. */
    public static void warn(Map<String, List<String>> generated) {
        generated.forEach(
                (table, columns) ->
                        LOG.warn(
                                "Table {}: generated columns {} are not captured (Postgres logical "
                                        + "replication does not send them, so a changed row would hold "
                                        + "null): compute them in the query engine from the captured "
                                        + "columns",
                                table,
                                columns));
    }

    /** Debezium's {@code column.exclude.list} for {@code generated}: exact names, quoted. */
    public static String excludeList(Map<String, List<String>> generated) {
        return generated.entrySet().stream()
                .flatMap(e -> e.getValue().stream().map(c -> Pattern.quote(e.getKey() + "." + c)))
                .collect(Collectors.joining(","));
    }
}
