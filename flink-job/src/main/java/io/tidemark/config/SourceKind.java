package io.tidemark.config;

import io.tidemark.config.PipelineConfig.SourceConfig;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The kind of a source database ({@code source.type}) as the pipeline file sees it: its name, its
 * default port, the keys only it takes, what it can resume from and follow, and its JDBC URL. What
 * the job does with a kind (schema reading, checks, the Flink CDC source, re-reads) is its dialect,
 * {@code io.tidemark.source.SourceDialect}, chosen by this value.
 */
public enum SourceKind {
    POSTGRES(
            "postgres",
            5432,
            List.of(PipelineOptions.SOURCE_SLOT_NAME, PipelineOptions.SOURCE_PUBLICATION)) {
        @Override
        String jdbcUrl(SourceConfig source) {
            return "jdbc:postgresql://"
                    + source.hostname()
                    + ":"
                    + source.port()
                    + "/"
                    + source.database()
                    + query(Map.of(), source.jdbcProperties());
        }

        @Override
        public boolean resumesFromSource() {
            return true;
        }

        @Override
        public boolean followsNewTables() {
            return false;
        }

        @Override
        String describeCapture(SourceConfig source) {
            return "slot=" + source.slotName();
        }
    },

    /** MySQL 8 and MariaDB: the row binlog. */
    MYSQL(
            "mysql",
            3306,
            List.of(
                    PipelineOptions.SOURCE_SERVER_ID,
                    PipelineOptions.SOURCE_SERVER_TIME_ZONE,
                    PipelineOptions.SOURCE_BINLOG_ORDER,
                    PipelineOptions.SOURCE_TINYINT1_AS_BOOLEAN)) {
        @Override
        String jdbcUrl(SourceConfig source) {
            // the server's zone reads TIMESTAMP columns as the binlog reader does
            return "jdbc:mysql://"
                    + source.hostname()
                    + ":"
                    + source.port()
                    + "/"
                    + source.database()
                    + query(MYSQL_DEFAULTS, source.jdbcProperties())
                    + "&connectionTimeZone="
                    + source.serverTimeZone()
                    + "&forceConnectionTimeZoneToSession=true"
                    // a zero date (0000-00-00, legal under a lax sql_mode) reads as null, as the
                    // binlog reader and the snapshot give it (not an SQLException)
                    + "&zeroDateTimeBehavior=CONVERT_TO_NULL";
        }

        @Override
        public boolean resumesFromSource() {
            return false;
        }

        @Override
        public boolean followsNewTables() {
            return true;
        }

        @Override
        String describeCapture(SourceConfig source) {
            return "server-id=" + source.serverId();
        }
    };

    private final String typeName;
    private final int defaultPort;
    private final List<ConfigKey> ownKeys;

    SourceKind(String typeName, int defaultPort, List<ConfigKey> ownKeys) {
        this.typeName = typeName;
        this.defaultPort = defaultPort;
        this.ownKeys = ownKeys;
    }

    /** The kind {@code source.type} names ({@code postgres}, {@code mysql}). */
    public static SourceKind of(String typeName) {
        return Stream.of(values())
                .filter(kind -> kind.typeName.equals(typeName))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "unknown source type '" + typeName + "'"));
    }

    /** Its {@code source.type}. */
    public String typeName() {
        return typeName;
    }

    /** The port when the file names none. */
    public int defaultPort() {
        return defaultPort;
    }

    /** Whether {@code key} is one of the keys only this kind takes. */
    public boolean owns(ConfigKey key) {
        return ownKeys.contains(key);
    }

    /** The keys other kinds own, which a source of this kind refuses. */
    List<ConfigKey> foreignKeys() {
        return Stream.of(values())
                .filter(kind -> kind != this)
                .flatMap(kind -> kind.ownKeys.stream())
                .filter(key -> !ownKeys.contains(key))
                .toList();
    }

    /**
     * Whether the source keeps the position a pipeline consumed through (a Postgres replication
     * slot), so that {@code scan.startup.mode: committed-offset} can resume from it.
     */
    public abstract boolean resumesFromSource();

    /**
     * Whether a running job can follow tables created in the source ({@code new-tables: capture}).
     */
    public abstract boolean followsNewTables();

    abstract String jdbcUrl(SourceConfig source);

    /**
     * The JDBC properties of a MySQL connection that {@code source.jdbc.properties} may change (TLS
     * is off unless the file turns it on, as in Flink CDC).
     */
    static final Map<String, String> MYSQL_DEFAULTS =
            new TreeMap<>(Map.of("useSSL", "false", "allowPublicKeyRetrieval", "true"));

    /**
     * The JDBC properties of a MySQL connection that Tidemark sets and the file may not: the
     * server's time zone (from {@code source.server-time-zone}), so that TIMESTAMP values read as
     * the binlog reader reads them, and zero dates as null.
     */
    static final List<String> MYSQL_FIXED =
            List.of(
                    "connectionTimeZone",
                    "forceConnectionTimeZoneToSession",
                    "zeroDateTimeBehavior");

    /** {@code defaults} overridden by {@code properties}, as a URL query ({@code ?a=b&c=d}). */
    static String query(Map<String, String> defaults, Map<String, String> properties) {
        Map<String, String> merged = new TreeMap<>(defaults);
        merged.putAll(properties);
        StringBuilder query = new StringBuilder();
        for (Map.Entry<String, String> e : merged.entrySet()) {
            query.append(query.length() == 0 ? '?' : '&')
                    .append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
                    .append('=')
                    .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        }
        return query.toString();
    }

    /** What names this pipeline's reader on the server, for messages. */
    abstract String describeCapture(SourceConfig source);

    @Override
    public String toString() {
        return typeName;
    }
}
