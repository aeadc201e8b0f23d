package io.tidemark.job;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.TableManager;
import io.tidemark.catalog.TableSpec;
import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.ContractLoader;
import io.tidemark.catalog.contract.ContractTables;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.commit.AppendWriter;
import io.tidemark.commit.ChangeWriter;
import io.tidemark.commit.CommitListener;
import io.tidemark.commit.TidemarkCommitter;
import io.tidemark.commit.TidemarkCommitter.CommitTarget;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.ReconcileConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.contract.ContractGate;
import io.tidemark.contract.ContractGateOperator;
import io.tidemark.decode.BinlogOrder;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.decode.Operation;
import io.tidemark.reconcile.KeyChangeSplitter;
import io.tidemark.reconcile.LatePolicy;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.reconcile.ReconcileSettings;
import io.tidemark.reconcile.Reconciler;
import io.tidemark.reconcile.ReconcilerOperator;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.LateTable;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.sink.RowDataConverter;
import io.tidemark.source.ColumnDefaults;
import io.tidemark.source.GuardedSource;
import io.tidemark.source.LiveTables;
import io.tidemark.source.MySqlCdcSource;
import io.tidemark.source.MySqlSchemaReader;
import io.tidemark.source.PostgresCdcSource;
import io.tidemark.source.PostgresGeneratedColumns;
import io.tidemark.source.PostgresPublication;
import io.tidemark.source.PostgresReplicaIdentity;
import io.tidemark.source.PostgresSchemaReader;
import io.tidemark.source.PostgresSlotCheck;
import io.tidemark.source.resnapshot.ResnapshotBackfill;
import io.tidemark.source.resnapshot.ResnapshotSource;
import java.io.Closeable;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.Partitioner;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Assembles the pipeline, top to bottom:
 *
 * <pre>
 * source -> decode -> split key changes -> reconcile (keyed by table, key) -> write files
 *        -> commit (one committer, one snapshot per table and checkpoint, with provenance);
 * late -> write late files -> the same committer; reconcile tallies -> the same committer
 * </pre>
 *
 * <p>{@link #prepare} runs on the client before the job starts: it reads each captured table's
 * schema from the source, creates missing Iceberg tables and checks existing ones. {@link
 * #assemble} then builds the graph; the source is injected so tests can swap it.
 */
public final class TidemarkJob {

    private static final Logger LOG = LoggerFactory.getLogger(TidemarkJob.class);

    static final org.apache.flink.configuration.ConfigOption<String> ROCKSDB_TIMER_SERVICE =
            org.apache.flink.configuration.ConfigOptions.key(
                            "state.backend.rocksdb.timer-service.factory")
                    .stringType()
                    .defaultValue("ROCKSDB");

    private TidemarkJob() {}

    /** A captured table resolved against the source database and the catalog. */
    public record ResolvedTable(
            String sourceTable,
            TableIdentifier target,
            Schema schema,
            List<String> primaryKey,
            OrderingRule ordering,
            LatePolicy latePolicy,
            Contract contract)
            implements Serializable {

        /** A table without a contract. */
        public ResolvedTable(
                String sourceTable,
                TableIdentifier target,
                Schema schema,
                List<String> primaryKey,
                OrderingRule ordering,
                LatePolicy latePolicy) {
            this(sourceTable, target, schema, primaryKey, ordering, latePolicy, null);
        }
    }

    /**
     * Creates the changes stream of the job, with event-time watermarks per source split; tests
     * swap the real source for their own.
     */
    @FunctionalInterface
    public interface ChangeSource extends Serializable {
        DataStream<ChangeEvent> create(
                StreamExecutionEnvironment env,
                Map<String, List<String>> primaryKeys,
                WatermarkStrategy<ChangeEvent> watermarks);
    }

    /**
     * The Flink CDC sources of {@code config} (Postgres or MySQL), one per database, as one stream.
     */
    public static ChangeSource cdc(PipelineConfig config) {
        LiveTables live = LiveTables.of(config);
        return (env, primaryKeys, watermarks) -> {
            DataStream<ChangeEvent> all = null;
            for (SourceConfig source : config.sources()) {
                List<String> tables = tablesOf(config, source.id());
                boolean livePatterns =
                        live.patterns().stream().anyMatch(p -> p.sources().contains(source.id()));
                if (tables.isEmpty() && !livePatterns) {
                    continue;
                }
                String kind = source.isMySql() ? "mysql-cdc" : "postgres-cdc";
                DataStream<ChangeEvent> changes =
                        (source.isMySql()
                                        ? env.fromSource(
                                                new GuardedSource<>(
                                                        MySqlCdcSource.create(
                                                                source,
                                                                tables,
                                                                primaryKeys,
                                                                live,
                                                                MySqlCdcSource.binlogOrder(source)),
                                                        sourceName(source)),
                                                watermarks,
                                                kind + "-" + source.id(),
                                                ChangeEventTypeInfo.INSTANCE)
                                        : env.fromSource(
                                                new GuardedSource<>(
                                                        PostgresCdcSource.create(
                                                                source, tables, primaryKeys),
                                                        sourceName(source),
                                                        new PostgresSlotCheck(source)),
                                                watermarks,
                                                kind + "-" + source.id(),
                                                ChangeEventTypeInfo.INSTANCE))
                                .uid(Uids.source(source.id()))
                                .name("source: " + kind + " " + source.id());
                all = all == null ? changes : all.union(changes);
            }
            return all;
        };
    }

    /** {@code source} as a message names it: "the source", or "source 'id'" of several. */
    static String sourceName(SourceConfig source) {
        return ChangeEvent.DEFAULT_SOURCE.equals(source.id())
                ? "the source ("
                        + source.type()
                        + " "
                        + source.hostname()
                        + ":"
                        + source.port()
                        + ")"
                : "source '" + source.id() + "'";
    }

    /**
     * The re-snapshots of {@code source}'s tables ({@link ResnapshotSource}), partitioned by the
     * reconciler's key so that each key's re-read row and delete reach it in the order they were
     * read. Their stream never holds the watermark back: it is idle between its rows.
     */
    static DataStream<ChangeEvent> resnapshots(
            StreamExecutionEnvironment env,
            PipelineConfig config,
            RunContext run,
            SourceConfig source,
            Map<String, List<String>> primaryKeys,
            Function<SourceConfig, BinlogOrder> binlogOrders) {
        Map<String, String> targets = new LinkedHashMap<>();
        Map<String, String> refusals = new LinkedHashMap<>();
        for (TableConfig table : config.tables()) {
            if (!table.sources().contains(source.id())) {
                continue;
            }
            String refusal = ResnapshotSource.refusal(config, table, binlogOrders);
            if (refusal != null) {
                refusals.put(table.target(), refusal);
            } else {
                targets.put(table.source(), table.target());
            }
        }
        WatermarkStrategy<ChangeEvent> idle =
                WatermarkStrategy.<ChangeEvent>forGenerator(
                                context ->
                                        new WatermarkGenerator<>() {
                                            @Override
                                            public void onEvent(
                                                    ChangeEvent change,
                                                    long timestamp,
                                                    WatermarkOutput output) {}

                                            @Override
                                            public void onPeriodicEmit(WatermarkOutput output) {
                                                output.markIdle();
                                            }
                                        })
                        .withTimestampAssigner((change, timestamp) -> change.sourceTimeMillis());
        return env.fromSource(
                        new ResnapshotSource(
                                new ResnapshotSource.Settings(
                                        run,
                                        source,
                                        targets,
                                        refusals,
                                        primaryKeys,
                                        catalogLoader(config),
                                        source.resnapshotRowsPerSecond())),
                        idle,
                        "resnapshot-" + source.id(),
                        ChangeEventTypeInfo.INSTANCE)
                .uid(Uids.resnapshot(source.id()))
                .name("source: re-snapshots " + source.id())
                .setParallelism(1)
                .partitionCustom(
                        (Partitioner<String>)
                                (key, partitions) -> Math.floorMod(key.hashCode(), partitions),
                        (KeySelector<ChangeEvent, String>) Reconciler::keyOf);
    }

    /**
     * The sources' column defaults; a column added with one to a table that can be re-read while
     * running is backfilled by a re-snapshot ({@link ResnapshotBackfill}).
     */
    static ColumnDefaults.Lookup columnDefaults(
            PipelineConfig config, Function<SourceConfig, BinlogOrder> binlogOrders) {
        Map<String, String> targets = new LinkedHashMap<>();
        for (TableConfig table : config.tables()) {
            if (ResnapshotSource.refusal(config, table, binlogOrders) == null) {
                targets.put(table.source(), table.target());
            }
        }
        return new ResnapshotBackfill(
                ColumnDefaults.of(config.sources()), targets, catalogLoader(config));
    }

    /**
     * Each MySQL source's {@code source.binlog-order}, resolved once per source: {@code auto} asks
     * the server, an explicit order is taken as written.
     */
    static Function<SourceConfig, BinlogOrder> binlogOrders() {
        Map<String, BinlogOrder> resolved = new HashMap<>();
        return source ->
                resolved.computeIfAbsent(
                        source.id(),
                        id ->
                                switch (String.valueOf(source.binlogOrder())) {
                                    case "gtid" -> BinlogOrder.GTID;
                                    case "auto" -> MySqlCdcSource.binlogOrder(source);
                                    default -> BinlogOrder.BINLOG_POSITION;
                                });
    }

    /** The source tables that {@code sourceId} feeds. */
    static List<String> tablesOf(PipelineConfig config, String sourceId) {
        config.requireResolvedTables();
        return config.tables().stream()
                .filter(t -> t.sources().contains(sourceId))
                .map(TableConfig::source)
                .toList();
    }

    /** Event time of a change by its table's ordering rule. */
    static final class EventTimeAssigner implements SerializableTimestampAssigner<ChangeEvent> {
        private static final long serialVersionUID = 1L;
        private final Map<String, OrderingRule> rules;
        private final ReconcileSettings live;

        EventTimeAssigner(Map<String, OrderingRule> rules) {
            this(rules, null);
        }

        /** With {@code settings} for the rules of tables created while the job runs. */
        EventTimeAssigner(Map<String, OrderingRule> rules, ReconcileSettings settings) {
            this.rules = Map.copyOf(rules);
            this.live = settings;
        }

        @Override
        public long extractTimestamp(ChangeEvent change, long recordTimestamp) {
            if (change.operation() == Operation.MALFORMED
                    || change.operation() == Operation.TRUNCATE) {
                // no row to take an event time from: the quarantine and the truncate order by
                // the source's position, not by event time
                return change.sourceTimeMillis() > 0 ? change.sourceTimeMillis() : recordTimestamp;
            }
            OrderingRule rule = rules.get(change.table());
            if (rule == null && live != null && live.live().entryFor(change.table()).isPresent()) {
                rule = live.rule(change.table()).ordering();
            }
            if (rule == null) {
                return recordTimestamp;
            }
            try {
                return rule.eventTimeMillis(change);
            } catch (IllegalArgumentException | ArithmeticException e) {
                // a row without its ordering column: the contract gate quarantines it
                return change.sourceTimeMillis() > 0 ? change.sourceTimeMillis() : recordTimestamp;
            }
        }
    }

    /** Flink settings the pipeline file decides. */
    public static Configuration flinkConfiguration(PipelineConfig config) {
        Configuration conf = new Configuration();
        conf.set(org.apache.flink.configuration.PipelineOptions.NAME, config.jobName());
        conf.set(CoreOptions.DEFAULT_PARALLELISM, config.parallelism());
        conf.set(
                org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM,
                config.maxParallelism());
        // a missing uid fails the build instead of silently breaking savepoint compatibility
        conf.set(org.apache.flink.configuration.PipelineOptions.AUTO_GENERATE_UIDS, false);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, config.checkpointInterval());
        conf.set(
                CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                CheckpointingMode.EXACTLY_ONCE);
        conf.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, config.checkpointTimeout());
        // aligned barriers, whatever the cluster's default: the committer's nothing-lost audit
        // counts, per checkpoint, what the gate sent before its barrier against what the
        // reconcilers received before theirs, which an unaligned checkpoint does not keep apart
        // (its in-flight records belong to the checkpoint without having been received)
        conf.set(CheckpointingOptions.ENABLE_UNALIGNED, false);
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        conf.set(StateBackendOptions.STATE_BACKEND, config.stateBackend());
        if (config.stateBackend().equals("rocksdb")) {
            // timers on the heap, bounded by the keys with retained state; ReconcilerBenchmark
            // measured no difference against RocksDB timers (RocksDB state itself is the cost)
            conf.set(ROCKSDB_TIMER_SERVICE, "HEAP");
        }
        // the pipeline file's directories, each with the pipeline id appended (RetainedState)
        RetainedState.locate(config, new Configuration(), null).applyTo(conf);
        return conf;
    }

    /**
     * Reads every captured table's schema from the source and makes sure its Iceberg table exists
     * and fits. Runs on the client.
     */
    public static List<ResolvedTable> prepare(PipelineConfig config) throws SQLException {
        config.requireResolvedTables();
        List<TableSpec> specs = new ArrayList<>();
        Map<String, Connection> connections = new HashMap<>();
        Map<String, SourceConfig> sourcesById = new HashMap<>();
        Catalogs.registerJdbcDrivers();
        try {
            for (SourceConfig source : config.sources()) {
                Properties credentials = new Properties();
                credentials.setProperty("user", source.username());
                credentials.setProperty("password", source.password());
                Connection connection = DriverManager.getConnection(source.jdbcUrl(), credentials);
                connections.put(source.id(), connection);
                sourcesById.put(source.id(), source);
                if (source.isMySql()) {
                    MySqlSchemaReader.checkBinlog(connection, source.username());
                    MySqlSchemaReader.binlogOrder(connection, source.binlogOrder());
                }
            }
            for (TableConfig table : config.tables()) {
                TableSpec spec = null;
                String readFrom = null;
                for (String sourceId : table.sources()) {
                    TableSpec read =
                            sourcesById.get(sourceId).isMySql()
                                    ? MySqlSchemaReader.read(connections.get(sourceId), table)
                                    : PostgresSchemaReader.read(connections.get(sourceId), table);
                    if (spec == null) {
                        spec = read;
                        readFrom = sourceId;
                    } else if (!read.columns().equals(spec.columns())
                            || !read.primaryKey().equals(spec.primaryKey())) {
                        throw new IllegalStateException(
                                String.format(
                                        "table '%s' differs between sources '%s' (%s) and '%s' (%s): every source "
                                                + "of a table must have the same columns, types and key",
                                        table.source(), readFrom, spec, sourceId, read));
                    }
                }
                specs.add(spec);
            }
            for (SourceConfig source : config.sources()) {
                List<String> tables = tablesOf(config, source.id());
                if (!tables.isEmpty() && !source.isMySql()) {
                    // before the publication is touched: a table it would break is refused
                    PostgresCdcSource.refuseUnreadableNames(tables);
                    PostgresReplicaIdentity.check(connections.get(source.id()), tables);
                    PostgresGeneratedColumns.warn(
                            PostgresGeneratedColumns.of(connections.get(source.id()), tables));
                    PostgresPublication.ensure(
                            connections.get(source.id()), source.publication(), tables);
                }
            }
        } finally {
            for (Connection connection : connections.values()) {
                connection.close();
            }
        }
        Catalog catalog =
                Catalogs.load(config.catalogName(), config.catalogProperties(), hadoopConf());
        try {
            TableManager tables = new TableManager(catalog);
            List<ResolvedTable> resolved = new ArrayList<>();
            for (int i = 0; i < specs.size(); i++) {
                TableSpec spec = specs.get(i);
                TableConfig tableConfig = config.tables().get(i);
                Contract contract = null;
                Table table;
                List<String> primaryKey = spec.primaryKey();
                String ordering = tableConfig.ordering();
                if (tableConfig.contract() != null) {
                    contract = contract(config, tableConfig, catalog, spec.identifier());
                    table = catalog.loadTable(spec.identifier());
                    tables.ensureAppendOnly(
                            QuarantineTable.of(spec.identifier()), QuarantineTable.SCHEMA);
                    primaryKey = contract.primaryKey();
                    if (!contract.ordering().equals(Contract.COMMIT_ORDER)) {
                        if (!ordering.equals(Contract.COMMIT_ORDER)
                                && !ordering.equals(contract.ordering())) {
                            throw new IllegalStateException(
                                    String.format(
                                            "table '%s': the pipeline file orders by '%s' but contract %s by '%s'; "
                                                    + "remove 'ordering' from the pipeline file or make them agree",
                                            tableConfig.source(),
                                            ordering,
                                            contract.id(),
                                            contract.ordering()));
                        }
                        ordering = contract.ordering();
                    }
                } else {
                    // a column added or widened in the source while the pipeline was stopped: the
                    // running job's schema evolution applies it (evolve, lenient), or the gate
                    // checks changes against the table as it is and holds the new shape back
                    // (quarantine), or stops at it once (fail), as for a change made while running
                    table = tables.ensure(spec, true);
                }
                LatePolicy latePolicy = LatePolicy.parse(tableConfig.latePolicy());
                if (latePolicy == LatePolicy.QUARANTINE) {
                    tables.ensureAppendOnly(LateTable.of(spec.identifier()), LateTable.SCHEMA);
                }
                resolved.add(
                        new ResolvedTable(
                                tableConfig.source(),
                                spec.identifier(),
                                table.schema(),
                                primaryKey,
                                OrderingRule.parse(ordering).withSources(tableConfig.sources()),
                                latePolicy,
                                contract));
                LOG.info(
                        "Table {} -> {} key {} ordering {} late-policy {} contract {}",
                        tableConfig.source(),
                        spec.identifier(),
                        primaryKey,
                        ordering,
                        tableConfig.latePolicy(),
                        contract == null ? "none" : contract.id());
            }
            if (!resolved.isEmpty()) {
                tables.ensureAppendOnly(
                        QuarantineTable.unrouted(resolved.get(0).target()), QuarantineTable.SCHEMA);
            }
            return resolved;
        } finally {
            if (catalog instanceof Closeable) {
                try {
                    ((Closeable) catalog).close();
                } catch (IOException e) {
                    LOG.warn("Closing catalog {} failed", config.catalogName(), e);
                }
            }
        }
    }

    /**
     * Loads the table's active contract and makes the Iceberg table fit it: created from it when
     * missing; evolved when the table was made for an older version that the active one may
     * replace; checked against it when the table was made without a contract. Refused with every
     * reason otherwise.
     */
    static Contract contract(
            PipelineConfig config, TableConfig tableConfig, Catalog catalog, TableIdentifier id) {
        ContractLoader loader = new ContractLoader(Path.of(config.contractsDir()));
        try {
            Contract contract = loader.load(tableConfig.source(), tableConfig.contract());
            Optional<Contract> previous = Optional.empty();
            if (catalog.tableExists(id)) {
                Optional<Integer> recorded = ContractTables.version(catalog.loadTable(id));
                if (recorded.isPresent()) {
                    previous = Optional.of(loader.load(tableConfig.source(), recorded.get()));
                } else {
                    // made before contracts: it must already fit this one
                    new TableManager(catalog).ensure(contract.spec(id));
                }
            }
            new ContractTables(catalog).ensure(id, contract, previous);
            return contract;
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read the contracts of "
                            + tableConfig.source()
                            + " in "
                            + config.contractsDir(),
                    e);
        }
    }

    /** Builds the job graph on {@code env}. */
    public static void assemble(
            StreamExecutionEnvironment env,
            PipelineConfig config,
            RunContext run,
            List<ResolvedTable> tables,
            ChangeSource source) {
        assemble(env, config, run, tables, source, CommitListener.NONE);
    }

    /** Builds the job graph on {@code env}, with {@code listener} around every table commit. */
    public static void assemble(
            StreamExecutionEnvironment env,
            PipelineConfig config,
            RunContext run,
            List<ResolvedTable> tables,
            ChangeSource source,
            CommitListener listener) {
        config.requireResolvedTables();
        Map<String, List<String>> primaryKeys = new LinkedHashMap<>();
        List<ChangeWriter.Route> routes = new ArrayList<>();
        Map<String, String> lateTables = new LinkedHashMap<>();
        Map<String, String> quarantineTables = new LinkedHashMap<>();
        Map<String, Contract> contracts = new LinkedHashMap<>();
        List<CommitTarget> commitTargets = new ArrayList<>();
        Map<String, OrderingRule> orderings = new HashMap<>();
        Map<String, ReconcileSettings.TableRule> rules = new HashMap<>();
        Map<String, Integer> sourcesPerTable = new HashMap<>();
        for (TableConfig tableConfig : config.tables()) {
            sourcesPerTable.merge(tableConfig.source(), tableConfig.sources().size(), Integer::sum);
        }
        for (ResolvedTable table : tables) {
            primaryKeys.put(table.sourceTable(), table.primaryKey());
            routes.add(
                    new ChangeWriter.Route(
                            table.sourceTable(),
                            table.target().toString(),
                            new RowDataConverter(
                                    table.sourceTable(), table.schema(), table.primaryKey()),
                            evolution(config, table).evolves(),
                            evolution(config, table) == EvolutionPolicy.LENIENT,
                            // one Flink CDC source reads each key once in its snapshot, before the
                            // key's log changes; commit order keeps them in that order
                            sourcesPerTable.getOrDefault(table.sourceTable(), 0) == 1
                                    && OrderingRule.commitOrder().equals(table.ordering())));
            String contractVersion =
                    table.contract() == null
                            ? CONTRACT_VERSION_NONE
                            : Integer.toString(table.contract().version());
            commitTargets.add(
                    new CommitTarget(
                            table.target().toString(),
                            table.sourceTable(),
                            CommitTarget.Kind.TARGET,
                            contractVersion));
            if (table.contract() != null) {
                contracts.put(table.sourceTable(), table.contract());
                String quarantine = QuarantineTable.of(table.target()).toString();
                quarantineTables.put(table.sourceTable(), quarantine);
                commitTargets.add(
                        new CommitTarget(
                                quarantine,
                                table.sourceTable(),
                                CommitTarget.Kind.QUARANTINE,
                                contractVersion));
            }
            if (table.latePolicy() == LatePolicy.QUARANTINE) {
                String late = LateTable.of(table.target()).toString();
                lateTables.put(table.sourceTable(), late);
                commitTargets.add(new CommitTarget(late, table.sourceTable(), true));
            }
            orderings.put(table.sourceTable(), table.ordering());
            rules.put(
                    table.sourceTable(),
                    new ReconcileSettings.TableRule(table.ordering(), table.latePolicy()));
        }
        if (!tables.isEmpty()) {
            // undecodable changes of tables without a contract, changes of tables not captured
            String unrouted = QuarantineTable.unrouted(tables.get(0).target()).toString();
            quarantineTables.put(QuarantineTable.ANY_TABLE, unrouted);
            commitTargets.add(
                    new CommitTarget(
                            unrouted,
                            QuarantineTable.ANY_TABLE,
                            CommitTarget.Kind.QUARANTINE,
                            CONTRACT_VERSION_NONE));
        }
        ReconcileConfig timing = config.reconcile();
        LiveTables live = LiveTables.of(config).withTargets(catalogLoader(config));
        ReconcileSettings settings =
                new ReconcileSettings(
                        timing.emitDelay(),
                        timing.allowedLateness(),
                        timing.retention(),
                        rules,
                        live);
        WatermarkStrategy<ChangeEvent> watermarks =
                WatermarkStrategy.<ChangeEvent>forBoundedOutOfOrderness(timing.emitDelay())
                        .withTimestampAssigner(new EventTimeAssigner(orderings, settings))
                        .withIdleness(timing.idleness());

        // source -> decode (the source's deserializer emits ChangeEvents, watermarked per split)
        DataStream<ChangeEvent> changes = source.create(env, primaryKeys, watermarks);
        // + the re-snapshots asked for while the job runs
        Function<SourceConfig, BinlogOrder> binlogOrders = binlogOrders();
        for (SourceConfig database : config.sources()) {
            changes =
                    changes.union(
                            resnapshots(env, config, run, database, primaryKeys, binlogOrders));
        }

        // -> contract gate: changes that break their table's contract go to its quarantine table
        KeyChangeSplitter splitter =
                new KeyChangeSplitter(
                        primaryKeys, live, config.parallelism(), config.maxParallelism());
        SingleOutputStreamOperator<ChangeEvent> gated =
                changes.transform(
                                "contract gate",
                                ChangeEventTypeInfo.INSTANCE,
                                new ContractGateOperator(
                                        new ContractGate(
                                                run,
                                                contracts,
                                                implicitContracts(config, tables),
                                                splitter,
                                                truncatePolicies(config),
                                                orderingColumns(tables),
                                                live,
                                                columnDefaults(config, binlogOrders))))
                        .uid(Uids.CONTRACT_GATE);

        // -> split primary-key updates into delete + upsert, truncates into one per reconciler
        DataStream<ChangeEvent> split =
                gated.flatMap(
                                (FlatMapFunction<ChangeEvent, ChangeEvent>)
                                        (change, out) -> splitter.split(change, out::collect),
                                ChangeEventTypeInfo.INSTANCE)
                        .uid(Uids.KEY_SPLIT)
                        .name("split key changes");

        // -> reconcile per (table, primary key): declared order, tombstones, late policy
        SingleOutputStreamOperator<ChangeEvent> reconciled =
                split.keyBy((KeySelector<ChangeEvent, String>) Reconciler::keyOf, Types.STRING)
                        .transform(
                                "reconcile",
                                ChangeEventTypeInfo.INSTANCE,
                                new ReconcilerOperator(new Reconciler(run, settings)))
                        .uid(Uids.RECONCILER);

        // -> write files per table, on the reconciler's partitioning (no further exchange)
        TypeInformation<byte[]> bytes = PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
        DataStream<byte[]> toCommit =
                reconciled
                        .transform(
                                "write",
                                bytes,
                                new ChangeWriter(run, catalogLoader(config), routes, live))
                        .uid(Uids.WRITER);

        // late changes under the quarantine policy -> the table's late table, same checkpoints
        if (!lateTables.isEmpty()) {
            toCommit =
                    toCommit.union(
                            reconciled
                                    .getSideOutput(Reconciler.LATE)
                                    .transform(
                                            "write late",
                                            bytes,
                                            new AppendWriter(
                                                    run, catalogLoader(config), lateTables, "late"))
                                    .uid(Uids.LATE_WRITER));
        }

        // quarantined changes -> the table's quarantine table (or the pipeline's unrouted one),
        // same checkpoints
        if (!quarantineTables.isEmpty()) {
            toCommit =
                    toCommit.union(
                            gated.getSideOutput(ContractGate.QUARANTINE)
                                    .transform(
                                            "write quarantine",
                                            bytes,
                                            new AppendWriter(
                                                    run,
                                                    catalogLoader(config),
                                                    quarantineTables,
                                                    "quarantine"))
                                    .uid(Uids.QUARANTINE_WRITER));
        }

        // -> one committer: per completed checkpoint one snapshot per table, with provenance
        toCommit.union(
                        reconciled.getSideOutput(ReconcilerOperator.TALLY),
                        gated.getSideOutput(ContractGate.TALLY))
                .transform(
                        "commit",
                        Types.VOID,
                        new TidemarkCommitter(
                                run,
                                catalogLoader(config),
                                commitTargets,
                                CONTRACT_VERSION_NONE,
                                config.parallelism(),
                                listener,
                                live,
                                snapshotsEveryTable(config)))
                .uid(Uids.COMMITTER)
                .setParallelism(1)
                .setMaxParallelism(1)
                .sinkTo(new DiscardingSink<>())
                .uid(Uids.COMMIT_END)
                .name("end")
                .setParallelism(1);
    }

    /**
     * Each table's {@code truncate} policy. A table fed by several sources cannot apply one
     * source's truncate to the rows of the others: its {@code apply} is {@code quarantine}.
     */
    static Map<String, String> truncatePolicies(PipelineConfig config) {
        Map<String, String> policies = new HashMap<>();
        for (TableConfig table : config.tables()) {
            String policy = table.truncate();
            if (table.sources().size() > 1 && policy.equals(TableConfig.TRUNCATE_APPLY)) {
                LOG.warn(
                        "Table {} is fed by sources {}: a TRUNCATE in one of them cannot empty only that "
                                + "source's rows of the target, so it is quarantined (truncate: quarantine)",
                        table.source(),
                        table.sources());
                policy = "quarantine";
            }
            policies.put(table.source(), policy);
        }
        return policies;
    }

    /** The {@code schema-evolution} of {@code table}: its contract's, else its entry's. */
    static EvolutionPolicy evolution(PipelineConfig config, ResolvedTable table) {
        return table.contract() != null
                ? table.contract().evolution()
                : schemaEvolution(config, table.sourceTable());
    }

    /**
     * The {@code schema-evolution} of a table without a contract: its entry's or the pipeline's.
     */
    static EvolutionPolicy schemaEvolution(PipelineConfig config, String sourceTable) {
        for (TableConfig table : config.tables()) {
            if (table.source().equals(sourceTable)) {
                return EvolutionPolicy.parse(table.schemaEvolution());
            }
        }
        return EvolutionPolicy.EVOLVE;
    }

    /**
     * Per table without a contract, its Iceberg table's columns and key as a contract under its
     * {@code schema-evolution}: the gate checks a change against it when the source's schema has
     * changed. A table whose columns cannot be one (a nested type, a nullable key) has none: its
     * changes go to the writer as they are.
     */
    static Map<String, Contract> implicitContracts(
            PipelineConfig config, List<ResolvedTable> tables) {
        Map<String, Contract> implicit = new HashMap<>();
        for (ResolvedTable table : tables) {
            if (table.contract() != null) {
                continue;
            }
            Contract contract =
                    ContractGate.implicitContract(
                            table.sourceTable(),
                            table.schema().columns(),
                            table.primaryKey(),
                            schemaEvolution(config, table.sourceTable()));
            if (contract != null) {
                implicit.put(table.sourceTable(), contract);
            }
        }
        return implicit;
    }

    /** Source table to the column its event-time rule reads (contract's or pipeline file's). */
    static Map<String, String> orderingColumns(List<ResolvedTable> tables) {
        Map<String, String> columns = new HashMap<>();
        for (ResolvedTable table : tables) {
            String column = OrderingRule.eventTimeColumn(table.ordering().toString());
            if (column != null) {
                columns.put(table.sourceTable(), column);
            }
        }
        return columns;
    }

    /** Written as the contract version until tables have versioned contracts. */
    public static final String CONTRACT_VERSION_NONE = "none";

    /** The catalog as the job's operators load it. */
    public static CatalogLoader catalogLoader(PipelineConfig config) {
        Map<String, String> properties = new HashMap<>(config.catalogProperties());
        String impl = Catalogs.implementation(properties);
        properties.remove(Catalogs.TYPE);
        properties.remove(Catalogs.IMPL);
        return CatalogLoader.custom(config.catalogName(), properties, hadoopConf(), impl);
    }

    /**
     * Whether a start without state reads every table again (each source starts with a snapshot):
     * then the committer's first commit to each table replaces what the table held.
     */
    public static boolean snapshotsEveryTable(PipelineConfig config) {
        return config.sources().stream().allMatch(source -> source.startupMode().equals("initial"));
    }

    static org.apache.hadoop.conf.Configuration hadoopConf() {
        return new org.apache.hadoop.conf.Configuration();
    }
}
