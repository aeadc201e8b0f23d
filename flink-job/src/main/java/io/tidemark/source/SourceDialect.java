package io.tidemark.source;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.TableSpec;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.ChangeEvent;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.flink.api.connector.source.Source;

/**
 * Everything the job does differently per kind of source database, in one object per kind: the
 * server's checks, the tables a pattern sees, the schema and key of a table, what the source must
 * hold before its tables are captured, the Flink CDC source (with its startup positions and restore
 * checks) and the re-read of a table while the pipeline runs. The pipeline file's side of a kind
 * (its name, default port and own keys) is {@link io.tidemark.config.SourceKind}; {@link #of} is
 * the one place that maps one to the other, so a third kind is one more subclass.
 */
public abstract class SourceDialect {

    protected final SourceConfig source;

    SourceDialect(SourceConfig source) {
        this.source = source;
    }

    /** The dialect of {@code source}'s kind. */
    public static SourceDialect of(SourceConfig source) {
        return switch (source.kind()) {
            case POSTGRES -> new PostgresDialect(source);
            case MYSQL -> new MySqlDialect(source);
        };
    }

    /** The source this dialect reads. */
    public SourceConfig source() {
        return source;
    }

    /** A JDBC connection to the source as the pipeline's user. */
    public Connection connect() throws SQLException {
        Catalogs.registerJdbcDrivers();
        Properties credentials = new Properties();
        credentials.setProperty("user", source.username());
        credentials.setProperty("password", source.password());
        return DriverManager.getConnection(source.jdbcUrl(), credentials);
    }

    /** The Flink CDC connector's name, as the job graph names the source ({@code postgres-cdc}). */
    public abstract String connectorName();

    /**
     * What the server must allow before any table is read, each problem with its fix (Postgres:
     * {@code wal_level}, the user's replication right, a free slot; MySQL: binlog format and row
     * image, the user's grants, the binlog order asked for). Empty when it is ready.
     */
    public abstract List<String> serverProblems(Connection connection) throws SQLException;

    /**
     * What keeps the pipeline's replication slot from serving it, with the fix (Postgres: an
     * invalidated slot); empty where there is none or it is fine.
     */
    public Optional<String> slotProblem(Connection connection) throws SQLException {
        return Optional.empty();
    }

    /**
     * Whether the server can say how far its log runs ahead of what the pipeline confirmed ({@link
     * #logBytesBehind}).
     */
    public boolean measuresLogLag() {
        return false;
    }

    /**
     * The bytes of log the server holds ahead of the position the pipeline confirmed, or -1 where
     * it cannot tell (see {@link SourceLag}).
     */
    public long logBytesBehind(Connection connection) throws SQLException {
        return -1;
    }

    /**
     * Checks the server ({@link #serverProblems}) before any table is read.
     *
     * @throws IllegalStateException naming every problem and its fix
     */
    public final void checkServer(Connection connection) throws SQLException {
        List<String> problems = serverProblems(connection);
        if (!problems.isEmpty()) {
            throw new IllegalStateException(
                    String.format(
                            "source '%s' (%s) cannot be read: %s",
                            source.id(), connectorName(), String.join("; ", problems)));
        }
    }

    /**
     * The tables of {@code namespace} (Postgres: schema, MySQL: database) a table pattern can
     * match, in name order: base tables, a partitioned table as one table (not its partitions).
     */
    public abstract List<String> tables(Connection connection, String namespace)
            throws SQLException;

    /** The primary key columns of {@code namespace.table}, empty if it has none. */
    public abstract List<String> primaryKey(Connection connection, String namespace, String table)
            throws SQLException;

    /** The columns, types and key of {@code table} as its Iceberg table takes them. */
    public abstract TableSpec readSchema(Connection connection, TableConfig table)
            throws SQLException;

    /**
     * After every table's schema was read: what the source must hold for {@code tables} to be
     * captured is checked, and made where it is the pipeline's own (Postgres: names, replica
     * identity, generated columns, the publication). Throws naming the fix.
     */
    public abstract void prepareCapture(Connection connection, List<String> tables)
            throws SQLException;

    /**
     * The Flink CDC source of {@code tables} and, where {@code live} has patterns of this source,
     * of tables created while the job runs, guarded ({@link GuardedSource}) under {@code name}.
     */
    public abstract Source<ChangeEvent, ?, ?> cdcSource(
            List<String> tables,
            Map<String, List<String>> primaryKeys,
            LiveTables live,
            String name);

    /** The first column of {@code query}'s rows, its one parameter {@code value}. */
    static List<String> firstColumn(Connection connection, String query, String value)
            throws SQLException {
        List<String> values = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(query)) {
            statement.setString(1, value);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
            }
        }
        return values;
    }

    /** Reads the chunks of one re-read of a table while the pipeline runs ({@link Reread}). */
    abstract Reread.Chunks readChunks(Reread.Request read) throws Exception;
}
