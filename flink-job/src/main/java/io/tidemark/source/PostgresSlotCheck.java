package io.tidemark.source;

import io.tidemark.config.PipelineConfig.SourceConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/**
 * Before a Postgres source resumes from a checkpoint or savepoint: its replication slot must still
 * exist and hold the WAL. Flink CDC creates a missing slot at the server's current position and
 * Postgres then streams from there, whatever older position the job asks for, so every change
 * between the job's position and the new slot would be skipped without a word (a slot dropped by a
 * DBA while the pipeline was down, to free the WAL it held, does this). The check refuses that
 * resume, without restarts, naming the fix.
 */
public final class PostgresSlotCheck implements GuardedSource.RestoreCheck {

    private static final long serialVersionUID = 1L;

    /** The slot's {@code wal_status} (Postgres 13 and later), when it exists. */
    private static final String QUERY =
            "SELECT wal_status::text FROM pg_replication_slots WHERE slot_name = ?";

    /** Before Postgres 13, whether the slot exists (there is no {@code wal_status}). */
    private static final String QUERY_12 =
            "SELECT NULL FROM pg_replication_slots WHERE slot_name = ?";

    private final SourceConfig source;

    public PostgresSlotCheck(SourceConfig source) {
        this.source = source;
    }

    @Override
    public void beforeRestore() {
        String problem;
        try (Connection connection = SourceDialect.of(source).connect()) {
            Optional<String> walStatus = walStatus(connection, source.slotName());
            problem = problem(walStatus.isPresent(), walStatus.orElse(null));
        } catch (SQLException e) {
            // a server that cannot be reached now may be reachable at the next attempt
            throw new IllegalStateException(
                    "cannot check replication slot '"
                            + source.slotName()
                            + "' before resuming: "
                            + e.getMessage(),
                    e);
        }
        if (problem != null) {
            throw new SuppressRestartsException(
                    new IllegalStateException(
                            String.format(
                                    "replication slot '%s' %s, so the changes between the position "
                                            + "this job resumes from and now are lost to it (a new slot "
                                            + "would start at the server's current position and skip "
                                            + "them without a word). Start the pipeline afresh: "
                                            + "`tidemark run --fresh` (a new snapshot that replaces "
                                            + "each table)%s",
                                    source.slotName(),
                                    problem,
                                    problem.startsWith("was invalidated")
                                            ? ", after SELECT pg_drop_replication_slot('"
                                                    + source.slotName()
                                                    + "')"
                                            : "")));
        }
    }

    /**
     * The {@code wal_status} of {@code slot} ({@code ""} before Postgres 13), empty when it does
     * not exist.
     */
    private static Optional<String> walStatus(Connection connection, String slot)
            throws SQLException {
        try (PreparedStatement query =
                connection.prepareStatement(
                        connection.getMetaData().getDatabaseMajorVersion() >= 13
                                ? QUERY
                                : QUERY_12)) {
            query.setString(1, slot);
            try (ResultSet rs = query.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                String status = rs.getString(1);
                return Optional.of(status == null ? "" : status);
            }
        }
    }

    /**
     * Before any start: an invalidated slot cannot serve the pipeline, whatever it resumes from (a
     * missing one is made at the start); its problem with the fix, if so.
     */
    static Optional<String> problem(Connection connection, SourceConfig source)
            throws SQLException {
        Optional<String> walStatus = walStatus(connection, source.slotName());
        if (walStatus.isEmpty() || !"lost".equals(walStatus.get())) {
            return Optional.empty();
        }
        return Optional.of(
                String.format(
                        "replication slot '%s' %s: drop it (SELECT pg_drop_replication_slot('%s'))"
                                + " and start the pipeline afresh (`tidemark run --fresh`)",
                        source.slotName(), problem(true, "lost"), source.slotName()));
    }

    /** What is wrong with the slot, or null. */
    static String problem(boolean exists, String walStatus) {
        if (!exists) {
            return "no longer exists on the server (dropped while the job was down?)";
        }
        if ("lost".equals(walStatus)) {
            return "was invalidated by the server (the WAL it held was removed: "
                    + "max_slot_wal_keep_size)";
        }
        return null;
    }
}
