package io.tidemark.source;

import io.tidemark.catalog.TableSpec;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.ChangeEvent;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.connector.source.Source;

/** PostgreSQL: logical replication through a slot and a publication (pgoutput). */
final class PostgresDialect extends SourceDialect {

    /**
     * Tables and partitioned tables, not their partitions (a partitioned table is captured as one
     * table, its partitions' rows and changes under its name).
     */
    private static final String TABLES =
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    + "WHERE n.nspname = ? AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
                    + "ORDER BY c.relname";

    PostgresDialect(SourceConfig source) {
        super(source);
    }

    @Override
    public String connectorName() {
        return "postgres-cdc";
    }

    @Override
    public List<String> serverProblems(Connection connection) throws SQLException {
        // the replica identity and the publication are checked per table, in prepareCapture
        return PostgresServerCheck.problems(connection, source);
    }

    @Override
    public boolean measuresLogLag() {
        return true;
    }

    /** The WAL between the server's position and the confirmed position of the pipeline's slot. */
    @Override
    public long logBytesBehind(Connection connection) throws SQLException {
        try (java.sql.PreparedStatement query =
                connection.prepareStatement(
                        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint"
                                + " FROM pg_replication_slots WHERE slot_name = ?")) {
            query.setQueryTimeout(10);
            query.setString(1, source.slotName());
            try (java.sql.ResultSet rs = query.executeQuery()) {
                if (!rs.next()) {
                    return -1;
                }
                long bytes = rs.getLong(1);
                return rs.wasNull() ? -1 : Math.max(0, bytes);
            }
        }
    }

    @Override
    public java.util.Optional<String> slotProblem(Connection connection) throws SQLException {
        return PostgresSlotCheck.problem(connection, source);
    }

    @Override
    public List<String> tables(Connection connection, String namespace) throws SQLException {
        return firstColumn(connection, TABLES, namespace);
    }

    @Override
    public List<String> primaryKey(Connection connection, String namespace, String table)
            throws SQLException {
        return PostgresSchemaReader.primaryKey(connection, namespace, table);
    }

    @Override
    public TableSpec readSchema(Connection connection, TableConfig table) throws SQLException {
        return PostgresSchemaReader.read(connection, table);
    }

    @Override
    public void prepareCapture(Connection connection, List<String> tables) throws SQLException {
        // before the publication is touched: a table it would break is refused
        PostgresReplicaIdentity.check(connection, tables);
        PostgresGeneratedColumns.warn(PostgresGeneratedColumns.of(connection, tables));
        PostgresPublication.ensure(connection, source.publication(), tables);
    }

    @Override
    public Source<ChangeEvent, ?, ?> cdcSource(
            List<String> tables,
            Map<String, List<String>> primaryKeys,
            LiveTables live,
            String name) {
        return new GuardedSource<>(
                PostgresCdcSource.create(source, tables, primaryKeys),
                name,
                new PostgresSlotCheck(source));
    }

    @Override
    Reread.Chunks readChunks(Reread.Request read) throws Exception {
        return PostgresReread.readChunks(read);
    }
}
