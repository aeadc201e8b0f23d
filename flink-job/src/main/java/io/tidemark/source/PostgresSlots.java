package io.tidemark.source;

import io.tidemark.config.PipelineConfig.SourceConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Before a fresh start that keeps the tables' rows ({@code run --fresh --keep-serving}): the
 * source's replication slot exists before the job, so the log read from its position holds every
 * change made after now, including every change after any position a re-read of a table takes
 * later. A slot the server keeps (a stop, a crash) stays: its changes since are read again, and the
 * reconciler orders them; an invalidated one (its WAL removed) is made again.
 */
public final class PostgresSlots {

    private PostgresSlots() {}

    /** Makes the slot of {@code source} if it is missing or lost; says what it did. */
    public static String ensure(SourceConfig source) throws SQLException {
        try (Connection connection = SourceDialect.of(source).connect()) {
            boolean modern = connection.getMetaData().getDatabaseMajorVersion() >= 13;
            boolean exists;
            String walStatus = null;
            try (PreparedStatement query =
                    connection.prepareStatement(
                            "SELECT "
                                    + (modern ? "wal_status::text" : "NULL")
                                    + " FROM pg_replication_slots WHERE slot_name = ?")) {
                query.setString(1, source.slotName());
                try (ResultSet rs = query.executeQuery()) {
                    exists = rs.next();
                    walStatus = exists ? rs.getString(1) : null;
                }
            }
            String problem = PostgresSlotCheck.problem(exists, walStatus);
            if (problem == null) {
                return String.format(
                        "replication slot '%s' kept: the log is read from its confirmed position",
                        source.slotName());
            }
            if (exists) {
                run(connection, "SELECT pg_drop_replication_slot(?)", source.slotName());
            }
            run(
                    connection,
                    "SELECT lsn FROM pg_create_logical_replication_slot(?, 'pgoutput')",
                    source.slotName());
            return String.format(
                    "replication slot '%s' %s: made again at the server's current position",
                    source.slotName(), problem);
        }
    }

    /**
     * The slot's confirmed position as a number ({@code confirmed_flush_lsn}): where the log is
     * read again from; {@code -1} if the slot is missing.
     */
    public static long confirmedPosition(SourceConfig source) throws SQLException {
        try (Connection connection = SourceDialect.of(source).connect();
                PreparedStatement query =
                        connection.prepareStatement(
                                "SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots"
                                        + " WHERE slot_name = ?")) {
            query.setString(1, source.slotName());
            try (ResultSet rs = query.executeQuery()) {
                if (!rs.next()) {
                    return -1;
                }
                long lsn = rs.getLong(1);
                return rs.wasNull() ? -1 : lsn;
            }
        }
    }

    private static void run(Connection connection, String sql, String slot) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setString(1, slot);
            statement.executeQuery().close();
        }
    }
}
