package io.tidemark.source;

import io.tidemark.catalog.SqlNames;
import io.tidemark.config.PipelineConfig.SourceConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * What a PostgreSQL server must allow before a pipeline reads it through logical replication, each
 * problem named with its fix: {@code wal_level = logical} (a default server has {@code replica}), a
 * user that may replicate, and a free replication slot when the pipeline's slot is not made yet.
 * Without these the source fails when it makes its slot, again at every restart.
 */
final class PostgresServerCheck {

    private PostgresServerCheck() {}

    static List<String> problems(Connection connection, SourceConfig source) throws SQLException {
        List<String> problems = new ArrayList<>();
        String walLevel = show(connection, "wal_level");
        if (!"logical".equals(walLevel)) {
            problems.add(
                    "wal_level is '"
                            + walLevel
                            + "', logical replication needs 'logical': run ALTER SYSTEM SET wal_level"
                            + " = logical and restart the server (Amazon RDS and Aurora: set"
                            + " rds.logical_replication = 1 in the parameter group; Cloud SQL: the"
                            + " flag cloudsql.logical_decoding = on)");
        }
        if (!mayReplicate(connection)) {
            problems.add(
                    "user '"
                            + source.username()
                            + "' may not replicate: run ALTER ROLE "
                            + SqlNames.forStatementPart(source.username())
                            + " REPLICATION (Amazon RDS and Aurora: GRANT rds_replication TO "
                            + SqlNames.forStatementPart(source.username())
                            + ")");
        }
        if (!slotExists(connection, source.slotName())) {
            int max = Integer.parseInt(show(connection, "max_replication_slots"));
            int used = count(connection, "SELECT count(*) FROM pg_replication_slots");
            if (used >= max) {
                problems.add(
                        "replication slot '"
                                + source.slotName()
                                + "' is to be made, but all "
                                + max
                                + " of max_replication_slots are in use: drop one no longer used"
                                + " (SELECT pg_drop_replication_slot('<name>') FROM"
                                + " pg_replication_slots, those with active = false) or raise"
                                + " max_replication_slots (a server restart)");
            }
        }
        return problems;
    }

    private static boolean mayReplicate(Connection connection) throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "SELECT rolreplication OR rolsuper OR EXISTS (SELECT 1 FROM"
                                        + " pg_roles r WHERE r.rolname = 'rds_replication' AND"
                                        + " pg_has_role(current_user, r.oid, 'member'))"
                                        + " FROM pg_roles WHERE rolname = current_user")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    static boolean slotExists(Connection connection, String slot) throws SQLException {
        try (PreparedStatement p =
                connection.prepareStatement(
                        "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
            p.setString(1, slot);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static String show(Connection connection, String setting) throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static int count(Connection connection, String query) throws SQLException {
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
