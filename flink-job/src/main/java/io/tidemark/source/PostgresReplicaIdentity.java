package io.tidemark.source;

import io.tidemark.catalog.SqlNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each captured Postgres table's replica identity implies, checked at start, before the
 * publication is touched.
 *
 * <ul>
 *   <li>{@code FULL}: updates and deletes carry every old value. Nothing to say.
 *   <li>{@code DEFAULT} (or {@code USING INDEX}) with a key: an UPDATE that leaves a value stored
 *       out of line (TOAST: text, varchar, bytea, json and other variable-length values of more
 *       than about 2 KB) unchanged arrives without it. Said as a warning naming the columns: such a
 *       change is quarantined ({@code UNAVAILABLE_VALUE}), never written with a stand-in.
 *   <li>{@code NOTHING}, or {@code DEFAULT} without a primary key: once the table is in the
 *       publication, Postgres refuses the application's own UPDATE and DELETE on it. Refused,
 *       naming the statement to run.
 * </ul>
 */
public final class PostgresReplicaIdentity {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresReplicaIdentity.class);

    private static final String IDENTITY =
            "SELECT c.relreplident, "
                    + "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
                    + "ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid "
                    + "AND a.attnum > 0 AND NOT a.attisdropped AND a.attstorage IN ('x', 'e') "
                    + "ORDER BY a.attnum) "
                    + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    + "WHERE n.nspname = ? AND c.relname = ?";

    private PostgresReplicaIdentity() {}

    /**
     * Checks {@code tables} ({@code schema.table}); refuses a table the publication would break.
     */
    public static void check(Connection connection, List<String> tables) throws SQLException {
        List<String> refused = new ArrayList<>();
        try (PreparedStatement p = connection.prepareStatement(IDENTITY)) {
            for (String table : tables) {
                int dot = table.indexOf('.');
                p.setString(1, table.substring(0, dot));
                p.setString(2, table.substring(dot + 1));
                try (ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        continue; // a missing table is reported where its schema is read
                    }
                    String identity = rs.getString(1);
                    boolean primaryKey = rs.getBoolean(2);
                    List<String> outOfLine = new ArrayList<>();
                    for (Object column : (Object[]) rs.getArray(3).getArray()) {
                        outOfLine.add((String) column);
                    }
                    if ("n".equals(identity) || ("d".equals(identity) && !primaryKey)) {
                        refused.add(table);
                    } else if (!"f".equals(identity) && !outOfLine.isEmpty()) {
                        LOG.warn(
                                "Table {} has REPLICA IDENTITY {}: an UPDATE that leaves a value of {} "
                                        + "unchanged while Postgres stores it out of line (TOAST, above about "
                                        + "2 KB) arrives without it, and Tidemark quarantines that change "
                                        + "(UNAVAILABLE_VALUE) rather than write a stand-in, so the row stays "
                                        + "at its previous version. Run ALTER TABLE {} REPLICA IDENTITY FULL "
                                        + "to have updates carry every value",
                                table,
                                "d".equals(identity) ? "DEFAULT" : "USING INDEX",
                                outOfLine,
                                SqlNames.forStatement(table));
                    }
                }
            }
        }
        if (!refused.isEmpty()) {
            StringBuilder fix = new StringBuilder();
            for (String table : refused) {
                fix.append(" ALTER TABLE ")
                        .append(SqlNames.forStatement(table))
                        .append(" REPLICA IDENTITY FULL;");
            }
            throw new IllegalStateException(
                    String.format(
                            "table(s) %s have no replica identity (REPLICA IDENTITY NOTHING, or DEFAULT "
                                    + "without a primary key): in the publication, Postgres would refuse "
                                    + "the application's own UPDATE and DELETE on them. Run%s then start "
                                    + "again (a table captured through a declared primary-key needs it too)",
                            refused, fix));
        }
    }
}
