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

/** MySQL 8 and MariaDB: the row binlog, read as a replica with its own server ids. */
final class MySqlDialect extends SourceDialect {

    private static final String TABLES =
            "SELECT table_name FROM information_schema.tables "
                    + "WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name";

    MySqlDialect(SourceConfig source) {
        super(source);
    }

    @Override
    public String connectorName() {
        return "mysql-cdc";
    }

    @Override
    public List<String> serverProblems(Connection connection) throws SQLException {
        List<String> problems =
                new java.util.ArrayList<>(
                        MySqlSchemaReader.binlogProblems(connection, source.username()));
        try {
            MySqlSchemaReader.binlogOrder(connection, source.binlogOrder());
        } catch (IllegalStateException e) {
            problems.add(e.getMessage());
        }
        return problems;
    }

    @Override
    public List<String> tables(Connection connection, String namespace) throws SQLException {
        return firstColumn(connection, TABLES, namespace);
    }

    @Override
    public List<String> primaryKey(Connection connection, String namespace, String table)
            throws SQLException {
        return MySqlSchemaReader.primaryKey(connection, namespace, table);
    }

    @Override
    public TableSpec readSchema(Connection connection, TableConfig table) throws SQLException {
        MySqlSchemaReader.refuseYearChunkKey(connection, table.source());
        return MySqlSchemaReader.read(connection, table, source.tinyInt1AsBoolean());
    }

    @Override
    public void prepareCapture(Connection connection, List<String> tables) {
        // the binlog holds every table's changes: nothing to make per table
    }

    @Override
    public Source<ChangeEvent, ?, ?> cdcSource(
            List<String> tables,
            Map<String, List<String>> primaryKeys,
            LiveTables live,
            String name) {
        return new GuardedSource<>(
                MySqlCdcSource.create(
                        source, tables, primaryKeys, live, MySqlCdcSource.binlogOrder(source)),
                name);
    }

    @Override
    Reread.Chunks readChunks(Reread.Request read) throws Exception {
        return MySqlReread.readChunks(read);
    }
}
