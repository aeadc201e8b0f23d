package io.tidemark.source;

import io.tidemark.catalog.SqlNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure the pipeline's publication covers every captured table, before the source starts.
 *
 * <p>Tidemark owns this step instead of Debezium because Debezium's {@code filtered} mode rewrites
 * the publication to the table of each snapshot chunk ({@code ALTER PUBLICATION ... SET TABLE}),
 * which silently drops the other tables' changes from the log stream; {@code all_tables} needs a
 * superuser. The source then runs with {@code publication.autocreate.mode=disabled}.
 *
 * <p>Changes of a partitioned table's partitions are published under the partitioned table's name
 * ({@code publish_via_partition_root}, Postgres 13+), so the table is captured as one, partitions
 * attached later included.
 *
 * <ul>
 *   <li>missing publication: created {@code FOR TABLE} the captured tables, {@code WITH
 *       (publish_via_partition_root = true)};
 *   <li>existing publication that publishes partitions under their own names while a captured table
 *       is partitioned: switched ({@code ALTER PUBLICATION ... SET (publish_via_partition_root =
 *       true)});
 *   <li>existing publication lacking tables: they are added ({@code ALTER PUBLICATION ... ADD
 *       TABLE}); tables it has beyond ours are left alone;
 *   <li>not allowed to do either: the start fails with the statement a DBA should run.
 * </ul>
 */
public final class PostgresPublication {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresPublication.class);

    private PostgresPublication() {}

    public static void ensure(Connection connection, String publication, List<String> tables)
            throws SQLException {
        boolean viaRootKnown = connection.getMetaData().getDatabaseMajorVersion() >= 13;
        boolean exists;
        boolean allTables = false;
        boolean viaRoot = false;
        boolean truncates = true;
        try (PreparedStatement p =
                connection.prepareStatement(
                        "SELECT puballtables, "
                                + (viaRootKnown ? "pubviaroot" : "false")
                                + ", pubtruncate FROM pg_publication WHERE pubname = ?")) {
            p.setString(1, publication);
            try (ResultSet rs = p.executeQuery()) {
                exists = rs.next();
                if (exists) {
                    allTables = rs.getBoolean(1);
                    viaRoot = rs.getBoolean(2);
                    truncates = rs.getBoolean(3);
                }
            }
        }
        if (!truncates) {
            // a publication made elsewhere without 'truncate': Tidemark would never see one
            run(
                    connection,
                    "ALTER PUBLICATION "
                            + SqlNames.quote(publication)
                            + " SET (publish = 'insert, update, delete, truncate')");
            LOG.warn(
                    "Publication {} did not publish TRUNCATE, so an emptied table would have kept its "
                            + "rows in the target; it now does (each table's 'truncate' policy decides)",
                    publication);
        }
        if (!exists) {
            run(
                    connection,
                    "CREATE PUBLICATION "
                            + SqlNames.quote(publication)
                            + " FOR TABLE "
                            + tableList(tables)
                            + (viaRootKnown ? " WITH (publish_via_partition_root = true)" : ""));
            LOG.info("Created publication {} for {}", publication, tables);
            return;
        }
        if (!viaRoot && viaRootKnown && anyPartitioned(connection, tables)) {
            // before the published tables are listed: they are then the partitioned tables
            run(
                    connection,
                    "ALTER PUBLICATION "
                            + SqlNames.quote(publication)
                            + " SET (publish_via_partition_root = true)");
            LOG.info(
                    "Publication {} now publishes partitions under their table's name",
                    publication);
        }
        if (!allTables) {
            addMissing(connection, publication, tables);
        }
    }

    /** Adds to {@code publication} the tables of {@code tables} it does not publish yet. */
    private static void addMissing(Connection connection, String publication, List<String> tables)
            throws SQLException {
        Set<String> published = new TreeSet<>();
        try (PreparedStatement p =
                connection.prepareStatement(
                        "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = ?")) {
            p.setString(1, publication);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    published.add(rs.getString(1));
                }
            }
        }
        List<String> missing = new ArrayList<>();
        for (String table : tables) {
            if (!published.contains(table)) {
                missing.add(table);
            }
        }
        if (!missing.isEmpty()) {
            run(
                    connection,
                    "ALTER PUBLICATION "
                            + SqlNames.quote(publication)
                            + " ADD TABLE "
                            + tableList(missing));
            LOG.info("Added {} to publication {}", missing, publication);
        }
    }

    private static boolean anyPartitioned(Connection connection, List<String> tables)
            throws SQLException {
        try (PreparedStatement p =
                connection.prepareStatement(
                        "SELECT c.relkind = 'p' FROM pg_class c JOIN pg_namespace n "
                                + "ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
            for (String table : tables) {
                String[] parts = table.split("\\.", 2);
                p.setString(1, parts[0]);
                p.setString(2, parts[1]);
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next() && rs.getBoolean(1)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static void run(Connection connection, String sql) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new SQLException(
                    "cannot prepare the publication ("
                            + e.getMessage().lines().findFirst().orElse("")
                            + "); have a database owner run: "
                            + sql
                            + ";",
                    e.getSQLState(),
                    e);
        }
    }

    private static String tableList(List<String> tables) {
        List<String> quoted = new ArrayList<>();
        for (String table : tables) {
            quoted.add(SqlNames.quoteQualified(table));
        }
        return String.join(", ", quoted);
    }
}
