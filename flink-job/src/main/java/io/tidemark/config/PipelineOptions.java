package io.tidemark.config;

import static io.tidemark.config.ConfigKey.Kind.DURATION;
import static io.tidemark.config.ConfigKey.Kind.INT;
import static io.tidemark.config.ConfigKey.Kind.MAP;
import static io.tidemark.config.ConfigKey.Kind.STRING;
import static io.tidemark.config.ConfigKey.Kind.STRING_LIST;

import java.util.List;

/** Every key of the pipeline file. {@code tables} is a list; its keys are given per entry. */
public final class PipelineOptions {

    private PipelineOptions() {}

    /** The values the file may spell, in their enum's order. */
    private static List<String> fileValues(FileValue[] values) {
        return java.util.Arrays.stream(values).map(FileValue::fileValue).toList();
    }

    // pipeline
    public static final ConfigKey PIPELINE_ID =
            ConfigKey.required(
                    "pipeline.id",
                    STRING,
                    "Stable identity of this pipeline across runs, job ids and upgrades; "
                            + "also names the default replication slot.");
    public static final ConfigKey PIPELINE_NAME =
            ConfigKey.optional(
                    "pipeline.name", STRING, "tidemark-<pipeline.id>", "Flink job name.");
    public static final ConfigKey PARALLELISM =
            ConfigKey.optional("pipeline.parallelism", INT, "1", "Parallelism of every operator.");
    public static final ConfigKey SCHEMA_EVOLUTION =
            ConfigKey.oneOf(
                    "pipeline.schema-evolution",
                    "evolve",
                    List.of("evolve", "lenient", "quarantine", "fail"),
                    "What a table without a contract does when the source's rows stop matching its "
                            + "Iceberg table (a column added, widened or dropped): evolve applies "
                            + "additive and widening changes while running, lenient also makes a "
                            + "dropped required column optional (null from then on), quarantine holds "
                            + "the changes of the new shape, fail stops the job (a table entry's "
                            + "schema-evolution overrides it).");
    public static final ConfigKey MAX_PARALLELISM =
            ConfigKey.optional(
                    "pipeline.max-parallelism",
                    INT,
                    "128",
                    "Upper bound for rescaling keyed state; fixed for the life of the state.");

    // checkpoint
    public static final ConfigKey CHECKPOINT_INTERVAL =
            ConfigKey.optional(
                    "checkpoint.interval",
                    DURATION,
                    "10s",
                    "Exactly-once checkpoint interval; each completed checkpoint is one Iceberg commit per table.");
    public static final ConfigKey CHECKPOINT_TIMEOUT =
            ConfigKey.optional("checkpoint.timeout", DURATION, "10min", "Checkpoint timeout.");
    public static final ConfigKey CHECKPOINT_DIR =
            ConfigKey.optional(
                    "checkpoint.dir",
                    STRING,
                    "(none: the cluster's state.checkpoints.dir)",
                    "Checkpoint directory URI, e.g. file:///var/tidemark/checkpoints or s3://bucket/path.");
    public static final ConfigKey SAVEPOINT_DIR =
            ConfigKey.optional(
                    "checkpoint.savepoint-dir",
                    STRING,
                    "(none: the cluster's default)",
                    "Default savepoint directory URI.");
    public static final ConfigKey STATE_BACKEND =
            ConfigKey.oneOf(
                    "checkpoint.state-backend",
                    "hashmap",
                    List.of("hashmap", "rocksdb"),
                    "Flink state backend.");

    // source
    public static final ConfigKey SOURCE_TYPE =
            ConfigKey.oneOf(
                    "source.type",
                    null,
                    List.of("postgres", "mysql"),
                    "Source database kind: postgres (logical replication, pgoutput) or mysql "
                            + "(MySQL 8 or MariaDB, row binlog).");
    public static final ConfigKey SOURCE_HOSTNAME =
            ConfigKey.required("source.hostname", STRING, "Database host.");
    public static final ConfigKey SOURCE_PORT =
            ConfigKey.optional(
                    "source.port", INT, "5432 (postgres), 3306 (mysql)", "Database port.");
    public static final ConfigKey SOURCE_DATABASE =
            ConfigKey.required("source.database", STRING, "Database name.");
    public static final ConfigKey SOURCE_USERNAME =
            ConfigKey.required(
                    "source.username",
                    STRING,
                    "User with SELECT on the tables and the right to read the log: REPLICATION "
                            + "(postgres); REPLICATION SLAVE, REPLICATION CLIENT (mysql).");
    public static final ConfigKey SOURCE_PASSWORD =
            ConfigKey.optional(
                    "source.password",
                    STRING,
                    "(empty)",
                    "Password; use ${env:NAME} (the environment) or ${file:/path} (a mounted secret). "
                            + "Never printed.");
    public static final ConfigKey SOURCE_SLOT_NAME =
            ConfigKey.optional(
                    "source.slot.name",
                    STRING,
                    "tidemark_<pipeline.id>",
                    "Logical replication slot (pgoutput). One per pipeline. postgres only.");
    public static final ConfigKey SOURCE_PUBLICATION =
            ConfigKey.optional(
                    "source.publication",
                    STRING,
                    "tidemark_<pipeline.id>",
                    "Publication; created for the captured tables if missing. postgres only.");
    public static final ConfigKey SOURCE_SERVER_ID =
            ConfigKey.optional(
                    "source.server-id",
                    STRING,
                    "a range of pipeline.parallelism ids derived from pipeline.id",
                    "Replica server ids the binlog readers use, as 'N' or 'N-M' (at least "
                            + "pipeline.parallelism ids); unique among the server's replicas. mysql only.");
    public static final ConfigKey SOURCE_SERVER_TIME_ZONE =
            ConfigKey.optional(
                    "source.server-time-zone",
                    STRING,
                    "UTC",
                    "The server's time zone (its time_zone), to read TIMESTAMP columns. mysql only.");
    public static final ConfigKey SOURCE_BINLOG_ORDER =
            ConfigKey.oneOf(
                    "source.binlog-order",
                    "auto",
                    List.of("auto", "gtid", "binlog-position"),
                    "Commit order of binlog changes: gtid (the order across a failover to a replica), "
                            + "binlog-position (one server's order); auto: gtid when the server's "
                            + "gtid_mode is ON. mysql only.");
    public static final ConfigKey SOURCE_TINYINT1_AS_BOOLEAN =
            ConfigKey.optional(
                    "source.treat-tinyint1-as-boolean.enabled",
                    ConfigKey.Kind.BOOLEAN,
                    "false",
                    "A tinyint(1) (BOOLEAN) column as an Iceberg boolean: 0 false, 1 true, any other"
                            + " value quarantined (the column holds any tinyint); false: an int,"
                            + " every value as it is. Flink CDC's name. mysql only.");
    public static final ConfigKey SOURCE_STARTUP_MODE =
            ConfigKey.oneOf(
                    "source.scan.startup.mode",
                    StartupMode.INITIAL.fileValue(),
                    fileValues(StartupMode.values()),
                    "initial: snapshot every table, then follow the log; latest-offset: log only, from now; "
                            + "committed-offset: log only, from the replication slot's confirmed position "
                            + "(a replay of what the slot still holds).");
    public static final ConfigKey SOURCE_SPLIT_SIZE =
            ConfigKey.optional(
                    "source.scan.incremental.snapshot.chunk.size",
                    INT,
                    "8096",
                    "Rows per snapshot chunk.");
    public static final ConfigKey SOURCE_FETCH_SIZE =
            ConfigKey.optional(
                    "source.scan.snapshot.fetch.size",
                    INT,
                    "1024",
                    "JDBC fetch size of snapshot reads.");
    public static final ConfigKey SOURCE_RESNAPSHOT_RATE =
            ConfigKey.optional(
                    "source.resnapshot.rows-per-second",
                    INT,
                    "20000",
                    "Cap on the rows a re-snapshot (tidemark resnapshot) reads per second, beside "
                            + "the live stream.");
    public static final ConfigKey SOURCE_RESNAPSHOT_POLL =
            ConfigKey.optional(
                    "source.resnapshot.poll-interval",
                    DURATION,
                    "5s",
                    "How often the running job reads its tables for re-snapshot requests (tidemark "
                            + "resnapshot, verify --repair); at least 250 ms per table.");
    public static final ConfigKey SOURCE_HEARTBEAT =
            ConfigKey.optional(
                    "source.heartbeat.interval",
                    DURATION,
                    "30s",
                    "Heartbeats let the slot advance while captured tables are quiet.");
    public static final ConfigKey SOURCE_DEBEZIUM =
            ConfigKey.optional(
                    "source.debezium",
                    MAP,
                    "{}",
                    "Extra Debezium properties, passed through unchanged; also written flat, "
                            + "debezium.<property>: value.");
    public static final ConfigKey SOURCE_JDBC_PROPERTIES =
            ConfigKey.optional(
                    "source.jdbc.properties",
                    MAP,
                    "{}",
                    "Properties of the JDBC connections to the source (Tidemark's, and the MySQL "
                            + "snapshot reader's), over Tidemark's defaults; also written flat, "
                            + "jdbc.properties.<property>: value.");

    // catalog
    public static final ConfigKey CATALOG_NAME =
            ConfigKey.optional(
                    "catalog.name",
                    STRING,
                    "tidemark",
                    "Catalog name (for a JDBC catalog, the catalog_name column other engines must use).");
    public static final ConfigKey CATALOG_TYPE =
            ConfigKey.oneOf(
                    "catalog.type",
                    "(none)",
                    List.of("jdbc", "rest", "hadoop", "hive"),
                    "Catalog kind; or set catalog.properties.catalog-impl to a class.");
    public static final ConfigKey CATALOG_PROPERTIES =
            ConfigKey.required(
                    "catalog.properties",
                    MAP,
                    "Iceberg catalog properties (uri, warehouse, jdbc.user, io-impl, ...), "
                            + "as Iceberg documents them.");

    // reconcile
    public static final ConfigKey RECONCILE_EMIT_DELAY =
            ConfigKey.optional(
                    "reconcile.emit-delay",
                    DURATION,
                    "0s",
                    "Watermark bound (out-of-orderness): a change is emitted once the watermark passes it; "
                            + "0 emits at once, more collapses several changes of a key into one write.");
    public static final ConfigKey RECONCILE_ALLOWED_LATENESS =
            ConfigKey.optional(
                    "reconcile.allowed-lateness",
                    DURATION,
                    "30s",
                    "A change older than watermark minus this is late and follows its table's late-policy.");
    public static final ConfigKey RECONCILE_RETENTION =
            ConfigKey.optional(
                    "reconcile.retention",
                    DURATION,
                    "1h",
                    "A key's ordering state and tombstone are kept until the watermark passes its newest "
                            + "event time plus this.");
    public static final ConfigKey RECONCILE_IDLENESS =
            ConfigKey.optional(
                    "reconcile.idleness",
                    DURATION,
                    "30s",
                    "A source split without changes for this long stops holding the watermark back.");

    public static final ConfigKey RECONCILE_TRANSACTION_MAX_CHANGES =
            ConfigKey.optional(
                    "reconcile.transaction-max-changes",
                    INT,
                    "20000",
                    "A source transaction of up to this many changes lands in one commit of each table "
                            + "(its changes are held together after the source); a larger one may span commits. "
                            + "0 lets every change through as it comes.");

    public static final ConfigKey CONTRACTS_DIR =
            ConfigKey.optional(
                    "contracts.dir",
                    STRING,
                    "none",
                    "Directory of contract files, <schema>.<table>/v<N>.yaml (relative to the working directory).");

    // tables[*]
    public static final ConfigKey TABLE_SOURCE =
            ConfigKey.required(
                    "source", STRING, "Source table as schema.table (tables[*].source).");
    public static final ConfigKey TABLE_TARGET =
            ConfigKey.optional(
                    "target",
                    STRING,
                    "<source schema>.<source table>",
                    "Iceberg table as namespace.table (tables[*].target).");
    public static final ConfigKey TABLE_PRIMARY_KEY =
            ConfigKey.optional(
                    "primary-key",
                    STRING_LIST,
                    "the source table's primary key",
                    "Key columns: identifier fields of the Iceberg table (tables[*].primary-key).");

    public static final ConfigKey TABLE_PARTITION_BY =
            ConfigKey.optional(
                    "partition-by",
                    STRING_LIST,
                    "unpartitioned",
                    "Iceberg partition transforms of key columns: bucket(N, col), truncate(W, col), "
                            + "year/month/day/hour(col), col (tables[*].partition-by).");
    public static final ConfigKey TABLE_PROPERTIES =
            ConfigKey.optional(
                    "table-properties",
                    MAP,
                    "{}",
                    "Iceberg table properties, set at creation and on an existing table "
                            + "(tables[*].table-properties).");
    public static final ConfigKey TABLE_SORT_ORDER =
            ConfigKey.optional(
                    "sort-order",
                    STRING_LIST,
                    "unsorted",
                    "The table's sort order: col [asc|desc] [nulls first|last] (tables[*].sort-order).");
    public static final ConfigKey TABLE_EXCLUDE =
            ConfigKey.optional(
                    "exclude",
                    STRING_LIST,
                    "none",
                    "Tables of its namespace a pattern leaves out, as names or patterns "
                            + "(tables[*].exclude).");

    public static final ConfigKey TABLE_SOURCES =
            ConfigKey.optional(
                    "sources",
                    STRING_LIST,
                    "every source",
                    "Ids of the sources that feed the table (tables[*].sources).");
    public static final ConfigKey TABLE_ORDERING =
            ConfigKey.optional(
                    "ordering",
                    STRING,
                    "commit-order",
                    "commit-order, or event-time:<column> (tables[*].ordering).");
    public static final ConfigKey TABLE_LATE_POLICY =
            ConfigKey.oneOf(
                    "late-policy",
                    LatePolicy.APPLY_IF_NEWER.fileValue(),
                    fileValues(LatePolicy.values()),
                    "What a late change does (tables[*].late-policy).");

    public static final ConfigKey TABLE_HISTORY =
            ConfigKey.oneOf(
                    "history",
                    "none",
                    List.of("none", "scd2"),
                    "scd2 keeps <target>__history beside the target: one row per version of each "
                            + "row, with valid_from, valid_to, the operation and the source position "
                            + "(tables[*].history).");

    public static final ConfigKey TABLE_SCHEMA_EVOLUTION =
            ConfigKey.oneOf(
                    "schema-evolution",
                    "the pipeline's",
                    List.of("evolve", "lenient", "quarantine", "fail"),
                    "For a table (or pattern) without a contract: as pipeline.schema-evolution "
                            + "(tables[*].schema-evolution).");

    public static final ConfigKey TABLE_TRUNCATE =
            ConfigKey.oneOf(
                    "truncate",
                    TruncatePolicy.APPLY.fileValue(),
                    fileValues(TruncatePolicy.values()),
                    "What a TRUNCATE of the source table does. apply: empties the target in its place "
                            + "in the source's order (rows written after it survive); quarantine: the "
                            + "target keeps its rows and the truncate goes to the quarantine table; fail: "
                            + "the job stops without restarts (tables[*].truncate).");

    public static final ConfigKey TABLE_NEW_TABLES =
            ConfigKey.oneOf(
                    "new-tables",
                    NewTables.IGNORE.fileValue(),
                    fileValues(NewTables.values()),
                    "For a pattern: what a table created while the job runs does. ignore: not read "
                            + "until the next start from a savepoint; capture: followed from its first "
                            + "change on, into a new Iceberg table (mysql sources) (tables[*].new-tables).");

    public static final ConfigKey TABLE_CONTRACT =
            ConfigKey.optional(
                    "contract",
                    INT,
                    "none",
                    "Active contract version of the table, read from contracts.dir (tables[*].contract).");

    /** Scalar and map keys outside {@code tables}. */
    public static final List<ConfigKey> ALL =
            List.of(
                    PIPELINE_ID,
                    PIPELINE_NAME,
                    PARALLELISM,
                    MAX_PARALLELISM,
                    SCHEMA_EVOLUTION,
                    CHECKPOINT_INTERVAL,
                    CHECKPOINT_TIMEOUT,
                    CHECKPOINT_DIR,
                    SAVEPOINT_DIR,
                    STATE_BACKEND,
                    SOURCE_TYPE,
                    SOURCE_HOSTNAME,
                    SOURCE_PORT,
                    SOURCE_DATABASE,
                    SOURCE_USERNAME,
                    SOURCE_PASSWORD,
                    SOURCE_SLOT_NAME,
                    SOURCE_PUBLICATION,
                    SOURCE_SERVER_ID,
                    SOURCE_SERVER_TIME_ZONE,
                    SOURCE_BINLOG_ORDER,
                    SOURCE_TINYINT1_AS_BOOLEAN,
                    SOURCE_STARTUP_MODE,
                    SOURCE_SPLIT_SIZE,
                    SOURCE_FETCH_SIZE,
                    SOURCE_HEARTBEAT,
                    SOURCE_RESNAPSHOT_RATE,
                    SOURCE_RESNAPSHOT_POLL,
                    SOURCE_DEBEZIUM,
                    SOURCE_JDBC_PROPERTIES,
                    CATALOG_NAME,
                    CATALOG_TYPE,
                    CATALOG_PROPERTIES,
                    RECONCILE_EMIT_DELAY,
                    RECONCILE_ALLOWED_LATENESS,
                    RECONCILE_RETENTION,
                    RECONCILE_IDLENESS,
                    RECONCILE_TRANSACTION_MAX_CHANGES,
                    PointsOptions.TABLE,
                    PointsOptions.RETAIN,
                    CONTRACTS_DIR,
                    MaintenanceOptions.COMPACT_EVERY,
                    MaintenanceOptions.COMPACT_DELETE_FILE_THRESHOLD,
                    MaintenanceOptions.FOLD_DELETES_EVERY,
                    MaintenanceOptions.EXPIRE_EVERY,
                    MaintenanceOptions.RETAIN_LAST,
                    MaintenanceOptions.MAX_SNAPSHOT_AGE,
                    MaintenanceOptions.ORPHANS_EVERY,
                    MaintenanceOptions.ORPHANS_MIN_AGE,
                    MaintenanceOptions.MIN_INTERVAL,
                    MaintenanceOptions.LOCK_URI);

    /** Keys of one entry of {@code tables}. */
    public static final List<ConfigKey> TABLE_KEYS =
            List.of(
                    TABLE_SOURCE,
                    TABLE_TARGET,
                    TABLE_PRIMARY_KEY,
                    TABLE_ORDERING,
                    TABLE_LATE_POLICY,
                    TABLE_HISTORY,
                    TABLE_TRUNCATE,
                    TABLE_SCHEMA_EVOLUTION,
                    TABLE_SOURCES,
                    TABLE_NEW_TABLES,
                    TABLE_CONTRACT,
                    TABLE_EXCLUDE,
                    TABLE_PARTITION_BY,
                    TABLE_PROPERTIES,
                    TABLE_SORT_ORDER);

    /** Whether a key (or map entry) holds a secret that is never printed. */
    public static boolean isSecret(String key) {
        String last = key.substring(key.lastIndexOf('.') + 1).toLowerCase(java.util.Locale.ROOT);
        return last.contains("password")
                || last.contains("secret")
                || last.contains("token")
                || last.contains("credential")
                || last.endsWith("access-key-id")
                || last.endsWith("private-key");
    }
}
