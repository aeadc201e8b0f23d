package io.tidemark.source;

import io.tidemark.catalog.TableSpec;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.BinlogOrder;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a captured MySQL (or MariaDB) table's columns and primary key from {@code
 * information_schema} and maps them to an Iceberg {@link TableSpec}, and checks that the server and
 * user can feed a binlog reader ({@link #checkBinlog}).
 *
 * <p>Type mapping, as the binlog reader (Debezium) decodes the values: {@code tinyint, smallint,
 * mediumint, int} int (also {@code tinyint(1)}/{@code BOOLEAN}: MySQL stores any integer there),
 * {@code int unsigned} and {@code bigint} long, {@code bigint unsigned} decimal(20,0), {@code
 * bit(1)} boolean, {@code float, double} double, {@code decimal(p,s)} decimal(p,s) (p at most 38),
 * {@code char, varchar, *text, enum, set, json} string, {@code date}, {@code time} time, {@code
 * datetime} timestamp, {@code timestamp} timestamptz, {@code year} int, {@code binary, varbinary,
 * *blob} binary. Anything else (spatial types, {@code bit(n>1)}) stops the start with a message
 * naming the column.
 */
public final class MySqlSchemaReader {

    private static final Logger LOG = LoggerFactory.getLogger(MySqlSchemaReader.class);

    private static final String COLUMNS =
            "SELECT column_name, is_nullable, data_type, column_type, numeric_precision, numeric_scale "
                    + "FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                    + "ORDER BY ordinal_position";

    private static final String PRIMARY_KEY =
            "SELECT column_name FROM information_schema.key_column_usage "
                    + "WHERE table_schema = ? AND table_name = ? AND constraint_name = 'PRIMARY' "
                    + "ORDER BY ordinal_position";

    private MySqlSchemaReader() {}

    /**
     * The spec of the Iceberg table that replicates {@code table} ({@code database.table}); a
     * {@code tinyint(1)} column a boolean where {@code tinyInt1AsBoolean}.
     */
    public static TableSpec read(
            Connection connection, TableConfig table, boolean tinyInt1AsBoolean)
            throws SQLException {
        return SchemaReading.read(
                connection,
                table,
                COLUMNS,
                (source, column, row) ->
                        icebergType(
                                source,
                                column,
                                row.getString(3),
                                row.getString(4),
                                SchemaReading.integer(row, 5),
                                SchemaReading.integer(row, 6),
                                tinyInt1AsBoolean),
                MySqlSchemaReader::primaryKey,
                MySqlSchemaReader::uniqueKeys);
    }

    private static final String FIRST_KEY_TYPE =
            "SELECT c.column_name, c.data_type FROM information_schema.key_column_usage k"
                    + " JOIN information_schema.columns c ON c.table_schema = k.table_schema"
                    + " AND c.table_name = k.table_name AND c.column_name = k.column_name"
                    + " WHERE k.table_schema = ? AND k.table_name = ? AND k.constraint_name ="
                    + " 'PRIMARY' AND k.ordinal_position = 1";

    /**
     * Refuses a table whose primary key starts with a {@code YEAR} column: Flink CDC 3.5 splits a
     * table's snapshot into chunks by that column, takes a year for a number and cannot compute
     * with the driver's value of it ("Unsupported type Date for numeric minus"), so the job failed
     * over in a loop and no table of the pipeline was read.
     *
     * @throws IllegalArgumentException naming the table, the column and the fix
     */
    static void refuseYearChunkKey(Connection connection, String table) throws SQLException {
        String database = table.substring(0, table.indexOf('.'));
        String name = table.substring(table.indexOf('.') + 1);
        try (java.sql.PreparedStatement statement = connection.prepareStatement(FIRST_KEY_TYPE)) {
            statement.setString(1, database);
            statement.setString(2, name);
            try (java.sql.ResultSet rs = statement.executeQuery()) {
                if (rs.next() && "year".equalsIgnoreCase(rs.getString(2))) {
                    throw new IllegalArgumentException(
                            String.format(
                                    "table '%s' cannot be read: its primary key starts with YEAR"
                                            + " column '%s', which Flink CDC (3.5) cannot split"
                                            + " into snapshot chunks (every start would fail). Put"
                                            + " another column first in its primary key (ALTER"
                                            + " TABLE ... DROP PRIMARY KEY, ADD PRIMARY KEY"
                                            + " (<other columns>, %s)), or leave the table out"
                                            + " of the pipeline",
                                    table, rs.getString(1), rs.getString(1)));
                }
            }
        }
    }

    private static final String UNIQUE_KEYS =
            "SELECT index_name, column_name FROM information_schema.statistics "
                    + "WHERE table_schema = ? AND table_name = ? AND non_unique = 0 "
                    + "ORDER BY index_name, seq_in_index";

    /** The column sets of the table's unique indexes (its primary key among them). */
    static List<java.util.Set<String>> uniqueKeys(
            Connection connection, String database, String table) throws SQLException {
        java.util.Map<String, java.util.Set<String>> byIndex = new java.util.LinkedHashMap<>();
        try (java.sql.PreparedStatement statement = connection.prepareStatement(UNIQUE_KEYS)) {
            statement.setString(1, database);
            statement.setString(2, table);
            try (java.sql.ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    byIndex.computeIfAbsent(rs.getString(1), i -> new java.util.HashSet<>())
                            .add(rs.getString(2));
                }
            }
        }
        return new java.util.ArrayList<>(byIndex.values());
    }

    static List<String> primaryKey(Connection connection, String database, String table)
            throws SQLException {
        return SchemaReading.firstColumn(connection, PRIMARY_KEY, database, table);
    }

    static Type icebergType(
            String table,
            String column,
            String dataType,
            String columnType,
            Integer precision,
            Integer scale,
            boolean tinyInt1AsBoolean) {
        String type = dataType.toLowerCase(Locale.ROOT);
        boolean unsigned = columnType.toLowerCase(Locale.ROOT).contains("unsigned");
        if (tinyInt1AsBoolean && columnType.equalsIgnoreCase("tinyint(1)")) {
            // BOOLEAN: the binlog reader's values 0 and 1 become false and true, any other is
            // quarantined (ValueConversion)
            return Types.BooleanType.get();
        }
        switch (type) {
            case "tinyint":
            case "smallint":
            case "mediumint":
            case "year":
                return Types.IntegerType.get();
            case "int":
            case "integer":
                return unsigned ? Types.LongType.get() : Types.IntegerType.get();
            case "bigint":
                return unsigned ? Types.DecimalType.of(20, 0) : Types.LongType.get();
            case "bit":
                if (precision != null && precision == 1 || columnType.equalsIgnoreCase("bit(1)")) {
                    return Types.BooleanType.get();
                }
                throw unsupported(table, column, columnType, "use bit(1), or an integer type");
            case "float":
            case "double":
            case "real":
                return Types.DoubleType.get();
            case "decimal":
            case "numeric":
                if (precision == null || precision > 38) {
                    throw new IllegalArgumentException(
                            String.format(
                                    "table '%s' column '%s': %s cannot be stored exactly in Iceberg; "
                                            + "declare it decimal(p,s) with p <= 38",
                                    table, column, columnType));
                }
                return Types.DecimalType.of(precision, scale == null ? 0 : scale);
            case "char":
            case "varchar":
            case "tinytext":
            case "text":
            case "mediumtext":
            case "longtext":
            case "enum":
            case "set":
            case "json":
                return Types.StringType.get();
            case "date":
                return Types.DateType.get();
            case "time":
                // time(4) to time(6): microseconds, which Iceberg's Flink writers cut to
                // milliseconds in a time column; kept exact as text (TimeText)
                return columnType.matches("(?i)time\\(([4-9])\\).*")
                        ? Types.StringType.get()
                        : Types.TimeType.get();
            case "datetime":
                return Types.TimestampType.withoutZone();
            case "timestamp":
                return Types.TimestampType.withZone();
            case "binary":
            case "varbinary":
            case "tinyblob":
            case "blob":
            case "mediumblob":
            case "longblob":
                return Types.BinaryType.get();
            default:
                throw unsupported(
                        table,
                        column,
                        columnType,
                        "the table cannot be captured while it has this column; change the column's "
                                + "type, or leave the table out of the pipeline");
        }
    }

    private static IllegalArgumentException unsupported(
            String table, String column, String columnType, String fix) {
        return new IllegalArgumentException(
                String.format(
                        "table '%s' column '%s': MySQL type '%s' is not supported; %s",
                        table, column, columnType, fix));
    }

    /**
     * The commit order the source's changes are placed in, {@code requested} (null for {@code
     * auto}, {@code gtid} or {@code binlog-position}) resolved against the server: {@code auto} is
     * GTID order when MySQL's {@code gtid_mode} is {@code ON}, binlog positions otherwise (and
     * always on MariaDB, whose GTIDs the binlog reader of Flink CDC 3.5, Debezium 1.9, does not
     * read). A {@code gtid} the server cannot give is refused, naming the fix.
     */
    public static BinlogOrder binlogOrder(Connection connection, BinlogOrder requested)
            throws SQLException {
        if (requested == BinlogOrder.BINLOG_POSITION) {
            return BinlogOrder.BINLOG_POSITION;
        }
        String version;
        String gtidMode = null;
        try (Statement s = connection.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT VERSION()")) {
                rs.next();
                version = rs.getString(1);
            }
            try (ResultSet rs = s.executeQuery("SHOW GLOBAL VARIABLES LIKE 'gtid_mode'")) {
                if (rs.next()) {
                    gtidMode = rs.getString(2).toUpperCase(Locale.ROOT);
                }
            }
        }
        boolean mariaDb = version != null && version.toLowerCase(Locale.ROOT).contains("mariadb");
        if (mariaDb || !"ON".equals(gtidMode)) {
            if (requested == BinlogOrder.GTID) {
                throw new IllegalStateException(
                        mariaDb
                                ? "source.binlog-order is gtid, but the server is MariaDB "
                                        + version
                                        + ": the binlog reader (Flink CDC 3.5, Debezium 1.9) does not read "
                                        + "MariaDB's GTIDs. Set source.binlog-order: binlog-position (or auto)"
                                : "source.binlog-order is gtid, but the server's gtid_mode is "
                                        + gtidMode
                                        + ": set gtid_mode=ON (with enforce_gtid_consistency=ON), or "
                                        + "source.binlog-order: binlog-position");
            }
            LOG.info(
                    "Binlog changes are ordered by binlog position ({}{})",
                    mariaDb ? "MariaDB " + version : "gtid_mode " + gtidMode,
                    mariaDb ? ": its GTIDs do not reach the reader" : "");
            return BinlogOrder.BINLOG_POSITION;
        }
        LOG.info(
                "Binlog changes are ordered by GTID (gtid_mode ON, {} {})",
                requested == null ? "auto" : requested,
                version);
        return BinlogOrder.GTID;
    }

    /**
     * What keeps the reader from following the server's binlog (off, not ROW format, not FULL
     * images, no positions on MariaDB 11.4+) or the user from reading it, each named with its fix.
     * The REPLICATION SLAVE grant is checked as far as {@code SHOW GRANTS} tells (a role may hold
     * it: then only a warning).
     */
    public static List<String> binlogProblems(Connection connection, String user)
            throws SQLException {
        List<String> problems = new ArrayList<>();
        try (Statement s = connection.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', "
                                        + "'binlog_row_image', 'binlog_legacy_event_pos')")) {
            java.util.Map<String, String> settings = new java.util.HashMap<>();
            while (rs.next()) {
                settings.put(
                        rs.getString(1).toLowerCase(Locale.ROOT),
                        rs.getString(2).toUpperCase(Locale.ROOT));
            }
            if (!"ON".equals(settings.get("log_bin")) && !"1".equals(settings.get("log_bin"))) {
                problems.add("the binlog is off: start the server with log-bin");
            }
            if (!"ROW".equals(settings.get("binlog_format"))) {
                problems.add(
                        "binlog_format is "
                                + settings.get("binlog_format")
                                + ": set binlog_format=ROW (changes are read as rows)");
            }
            if (!"FULL".equals(settings.get("binlog_row_image"))) {
                problems.add(
                        "binlog_row_image is "
                                + settings.get("binlog_row_image")
                                + ": set binlog_row_image=FULL (updates and deletes need whole images)");
            }
            if ("OFF".equals(settings.get("binlog_legacy_event_pos"))) {
                problems.add(
                        "binlog_legacy_event_pos is OFF (MariaDB 11.4+): set binlog_legacy_event_pos=ON, "
                                + "or the reader sees no binlog positions to order changes by");
            }
        }
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery("SHOW MASTER STATUS")) {
            rs.next();
        } catch (SQLException e) {
            problems.add(
                    "user '"
                            + user
                            + "' cannot read the binlog position ("
                            + e.getMessage()
                            + "): GRANT REPLICATION CLIENT ON *.* (MariaDB 10.5+: BINLOG MONITOR)");
        }
        if (!problems.isEmpty()) {
            return problems;
        }
        StringBuilder grants = new StringBuilder();
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery("SHOW GRANTS FOR CURRENT_USER()")) {
            while (rs.next()) {
                grants.append(rs.getString(1).toUpperCase(Locale.ROOT)).append('\n');
            }
        }
        if (!grants.toString().contains("ALL PRIVILEGES")
                && !grants.toString().contains("REPLICATION SLAVE")
                && !grants.toString().contains("REPLICATION REPLICA")) {
            LOG.warn(
                    "User '{}' shows no REPLICATION SLAVE grant (unless a role holds it, the binlog "
                            + "reader will be refused): GRANT REPLICATION SLAVE ON *.* TO '{}'",
                    user,
                    user);
        }
        return problems;
    }
}
