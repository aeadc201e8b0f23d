package io.tidemark.source;

import io.debezium.jdbc.JdbcConnection;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.config.StartupMode;
import io.tidemark.decode.BinlogOrder;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.cdc.connectors.mysql.debezium.DebeziumUtils;
import org.apache.flink.cdc.connectors.mysql.source.MySqlSource;
import org.apache.flink.cdc.connectors.mysql.source.MySqlSourceWithEmitter;
import org.apache.flink.cdc.connectors.mysql.source.config.MySqlSourceConfig;
import org.apache.flink.cdc.connectors.mysql.source.offset.BinlogOffset;
import org.apache.flink.cdc.connectors.mysql.table.StartupOptions;
import org.apache.flink.cdc.debezium.DebeziumDeserializationSchema;

/**
 * Builds the Flink CDC MySQL incremental source (MySQL 8, MariaDB): parallel snapshot chunks, then
 * the row binlog with exactly-once hand-over, decoded straight into {@link ChangeEvent}s whose
 * position is the binlog's commit order: by GTID ({@link io.tidemark.decode.GtidPosition}) or by
 * binlog position ({@link io.tidemark.decode.BinlogPosition}), as {@code source.binlog-order}
 * resolves.
 *
 * <p>Tables are matched exactly ({@code database\.table}): a table the pipeline does not name is
 * not read, and a table added to the file is snapshotted on restore, as for Postgres. A pattern
 * with {@code new-tables: capture} joins the filter as a regular expression, and then tables the
 * filter matches that have no snapshot are followed from their first binlog change instead.
 */
public final class MySqlCdcSource {

    private MySqlCdcSource() {}

    /**
     * @param source the server to read
     * @param tables the tables ({@code database.table}) this source captures
     * @param primaryKeys source table to its resolved key columns
     */
    public static MySqlSource<ChangeEvent> create(
            SourceConfig source, List<String> tables, Map<String, List<String>> primaryKeys) {
        return create(source, tables, primaryKeys, LiveTables.NONE);
    }

    /**
     * The source of {@code tables} and, where {@code live} has patterns of this source, of every
     * table created while the job runs that they match.
     */
    public static MySqlSource<ChangeEvent> create(
            SourceConfig source,
            List<String> tables,
            Map<String, List<String>> primaryKeys,
            LiveTables live) {
        return create(source, tables, primaryKeys, live, BinlogOrder.BINLOG_POSITION);
    }

    /** The same, placing binlog changes in {@code order} ({@link #binlogOrder} resolves it). */
    public static MySqlSource<ChangeEvent> create(
            SourceConfig source,
            List<String> tables,
            Map<String, List<String>> primaryKeys,
            LiveTables live,
            BinlogOrder order) {
        return create(
                source,
                tables,
                live,
                new ChangeEventDeserializer(
                        new DebeziumDecoder(source.id(), primaryKeys, live, order)));
    }

    /** {@code source.binlog-order} resolved against the server (it connects to ask). */
    public static BinlogOrder binlogOrder(SourceConfig source) {
        try (Connection connection = SourceDialect.of(source).connect()) {
            return MySqlSchemaReader.binlogOrder(connection, source.binlogOrder());
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "cannot ask " + source + " for its gtid_mode: " + e.getMessage(), e);
        }
    }

    /** The source of {@code tables} with its own deserializer (tests wrap Tidemark's). */
    public static MySqlSource<ChangeEvent> create(
            SourceConfig source,
            List<String> tables,
            DebeziumDeserializationSchema<ChangeEvent> deserializer) {
        return create(source, tables, LiveTables.NONE, deserializer);
    }

    private static MySqlSource<ChangeEvent> create(
            SourceConfig source,
            List<String> tables,
            LiveTables live,
            DebeziumDeserializationSchema<ChangeEvent> deserializer) {
        return create(source, tables, live, deserializer, source.serverId());
    }

    /**
     * The connector's configuration for a re-read of {@code table} while the pipeline runs ({@link
     * MySqlReread}): the pipeline's own settings, so that rows decode as the pipeline's snapshot
     * decodes them, with a binlog client id of its own ({@link #rereadServerId}); chunks without
     * their binlog backfills when {@code skipBackfill}.
     */
    static MySqlSourceConfig rereadConfig(SourceConfig source, String table, boolean skipBackfill) {
        return create(
                        source,
                        List.of(table),
                        LiveTables.NONE,
                        new ChangeEventDeserializer(new DebeziumDecoder(source.id(), Map.of())),
                        rereadServerId(source))
                .getConfigFactory()
                .skipSnapshotBackfill(skipBackfill)
                .createConfig(0);
    }

    /**
     * The replica server id a re-read's chunk backfills read the binlog with: the one after the
     * pipeline's range ({@code source.server-id}), which no reader of the pipeline uses.
     */
    static String rereadServerId(SourceConfig source) {
        String ids = source.serverId().trim();
        String last = ids.contains("-") ? ids.substring(ids.indexOf('-') + 1).trim() : ids;
        return Long.toString(Long.parseLong(last) + 1);
    }

    private static MySqlSource<ChangeEvent> create(
            SourceConfig source,
            List<String> tables,
            LiveTables live,
            DebeziumDeserializationSchema<ChangeEvent> deserializer,
            String serverId) {
        Properties debezium = new Properties();
        debezium.setProperty("decimal.handling.mode", "precise");
        // BIGINT UNSIGNED beyond Long.MAX_VALUE stays exact: decimal(20,0) in Iceberg
        debezium.setProperty("bigint.unsigned.handling.mode", "precise");
        // the server stores four-digit years: Debezium's default adjustment of years below 100
        // made DATE '0001-01-01' (and DATETIME '0001-...') year 2001, on the snapshot and the log
        debezium.setProperty("enable.time.adjuster", "false");
        debezium.putAll(source.properties());
        if (source.tinyInt1AsBoolean()) {
            // the columns' source types reach the decoder, which reads a tinyint(1) as a boolean
            debezium.setProperty("column.propagate.source.type", ".*");
        }
        List<String> filters = new ArrayList<>();
        List<String> names = new ArrayList<>(tables);
        // exact names, and patterns (less what they exclude), as Debezium table filter expressions
        tables.forEach(t -> filters.add(TableConfig.regex(t)));
        for (TableConfig pattern : live.patterns()) {
            if (pattern.sources().contains(source.id())) {
                filters.add(pattern.filterRegex());
                names.add(pattern.source());
            }
        }
        String[] databases =
                names.stream()
                        .map(t -> TableConfig.regex(t.substring(0, t.indexOf('.'))))
                        .distinct()
                        .toArray(String[]::new);
        MySqlSource<ChangeEvent> built =
                MySqlSource.<ChangeEvent>builder()
                        .hostname(source.hostname())
                        .port(source.port())
                        .databaseList(databases)
                        .tableList(filters.toArray(String[]::new))
                        .username(source.username())
                        .password(source.password())
                        .serverId(serverId)
                        .serverTimeZone(source.serverTimeZone())
                        .splitSize(source.splitSize())
                        .fetchSize(source.fetchSize())
                        .heartbeatInterval(source.heartbeatInterval())
                        .startupOptions(
                                source.startOffset().isEmpty()
                                        ? startupOptions(source.startupMode())
                                        : StartupOptions.specificOffset(
                                                new BinlogOffset(source.startOffset())))
                        // a table created while the job runs is read from the binlog only when
                        // newly added
                        // tables are not scanned (Flink CDC then emits the binlog changes of any
                        // table the
                        // filter matches that had no snapshot); otherwise a table added to the file
                        // is
                        // snapshotted on restore
                        .scanNewlyAddedTableEnabled(live.isEmpty())
                        .debeziumProperties(debezium)
                        .jdbcProperties(jdbcProperties(source))
                        // DDL records: the decoder turns a TRUNCATE TABLE into its table's change
                        // and
                        // drops the rest (columns are followed through the rows' own schemas)
                        .includeSchemaChanges(true)
                        .deserializer(deserializer)
                        .build();
        // a snapshot row gets back the sign of a TIME the reader dropped; a TRUNCATE TABLE is
        // marked when it came while its table's chunks were read
        MySqlTimeSigns timeSigns = new MySqlTimeSigns();
        MySqlSource<ChangeEvent> emitting =
                MySqlSourceWithEmitter.of(
                        built,
                        deserializer,
                        (decoder, metrics, config) ->
                                new MySqlEmitter<>(
                                        decoder,
                                        metrics,
                                        config.isIncludeSchemaChanges(),
                                        timeSigns,
                                        new MySqlBinlogLag(source)));
        emitting.setSnapshotHooks(timeSigns.hooks());
        return emitting;
    }

    /**
     * The file's {@code source.jdbc.properties} for Flink CDC's own JDBC connections (the snapshot
     * reader's), over its defaults.
     */
    private static Properties jdbcProperties(SourceConfig source) {
        Properties properties = new Properties();
        properties.putAll(source.jdbcProperties());
        return properties;
    }

    /**
     * Where {@code source}'s binlog ends now, as Flink CDC keeps an offset (file, position, and the
     * executed GTID set where the server has GTIDs): before a fresh start that keeps the tables'
     * rows ({@code run --fresh --keep-serving}), so that the pipeline reads the binlog from a place
     * before any position a re-read of a table takes later. {@code table} is any table of it.
     */
    public static Map<String, String> currentOffset(SourceConfig source, String table)
            throws Exception {
        try (JdbcConnection jdbc =
                DebeziumUtils.openJdbcConnection(rereadConfig(source, table, true))) {
            // the keys Flink CDC reads back; a server without GTIDs has none (null)
            Map<String, String> offset = new java.util.TreeMap<>();
            DebeziumUtils.currentBinlogOffset(jdbc)
                    .getOffset()
                    .forEach(
                            (key, value) -> {
                                if (value != null) {
                                    offset.put(key, value);
                                }
                            });
            return offset;
        }
    }

    static StartupOptions startupOptions(StartupMode mode) {
        return switch (mode) {
            case LATEST_OFFSET -> StartupOptions.latest();
            case COMMITTED_OFFSET ->
                    throw new IllegalArgumentException(
                            "scan.startup.mode 'committed-offset' is for postgres sources (a replication slot "
                                    + "remembers the position); a mysql pipeline resumes from its savepoint");
            case INITIAL -> StartupOptions.initial();
        };
    }
}
