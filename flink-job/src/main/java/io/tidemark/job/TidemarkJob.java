package io.tidemark.job;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.contract.Contract;
import io.tidemark.commit.ChangeWriter;
import io.tidemark.commit.CommitListener;
import io.tidemark.commit.TidemarkCommitter;
import io.tidemark.config.LatePolicy;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.config.ReconcileConfig;
import io.tidemark.config.StartupMode;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.decode.Operation;
import io.tidemark.reconcile.KeyChangeSplitter;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.reconcile.ReconcileSettings;
import io.tidemark.reconcile.Reconciler;
import io.tidemark.reconcile.ReconcilerOperator;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.LiveTables;
import io.tidemark.source.SourceLag;
import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
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

    static final org.apache.flink.configuration.ConfigOption<Boolean> ROCKSDB_BLOOM_FILTER =
            org.apache.flink.configuration.ConfigOptions.key(
                            "state.backend.rocksdb.use-bloom-filter")
                    .booleanType()
                    .defaultValue(false);

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
            conf.addAll(rocksDbSettings());
        }
        // the pipeline file's directories, each with the pipeline id appended (RetainedState)
        RetainedState.locate(config, new Configuration(), null).applyTo(conf);
        return conf;
    }

    /**
     * What Tidemark sets on RocksDB state, whatever the platform says: timers on the heap (bounded
     * by the keys with retained state, and the type savepoints of earlier releases hold), and bloom
     * filters on the state's files (a key's read skips the files that cannot hold it), with which
     * {@code ReconcilerBenchmark} measured the reconciler 1.1 to 1.2 times as fast as on Flink's
     * RocksDB defaults in the same run. The benchmark configures its RocksDB side with these too.
     */
    public static Configuration rocksDbSettings() {
        Configuration conf = new Configuration();
        conf.set(ROCKSDB_TIMER_SERVICE, "HEAP");
        conf.set(ROCKSDB_BLOOM_FILTER, true);
        return conf;
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
        JobWiring wiring = JobWiring.of(config, tables);
        ReconcileConfig timing = config.reconcile();
        LiveTables live = LiveTables.of(config).withTargets(catalogLoader(config));
        ReconcileSettings settings =
                new ReconcileSettings(
                        timing.emitDelay(),
                        timing.allowedLateness(),
                        timing.retention(),
                        wiring.rules(),
                        live,
                        TablePolicies.replayedThrough(config));
        WatermarkStrategy<ChangeEvent> watermarks =
                WatermarkStrategy.<ChangeEvent>forBoundedOutOfOrderness(timing.emitDelay())
                        .withTimestampAssigner(new EventTimeAssigner(wiring.orderings(), settings))
                        .withIdleness(timing.idleness());

        // source -> decode (the source's deserializer emits ChangeEvents, watermarked per split)
        DataStream<ChangeEvent> changes = source.create(env, wiring.primaryKeys(), watermarks);
        // -> a table created in the source while the job runs waits for its Iceberg table, which
        // the schema stage makes; every operator after this reads it from the catalog
        SchemaStage schema = SchemaStage.afterSource(changes, run, live);
        changes = schema.changes();
        // + the re-snapshots asked for while the job runs
        DataStream<ChangeEvent> resnapshots = null;
        for (SourceConfig database : config.sources()) {
            DataStream<ChangeEvent> reread =
                    SourceStage.resnapshots(env, config, run, database, wiring.primaryKeys());
            resnapshots = resnapshots == null ? reread : resnapshots.union(reread);
        }

        // -> contract gate, one per input, each in its input's task: changes that break their
        // table's contract go to its quarantine table
        // -> split primary-key updates into delete + upsert, truncates into one per reconciler
        KeyChangeSplitter splitter =
                new KeyChangeSplitter(
                        wiring.primaryKeys(), live, config.parallelism(), config.maxParallelism());
        GateStage gates =
                GateStage.of(changes, resnapshots, config, run, tables, wiring, splitter, live);

        // -> reconcile per (table, primary key): declared order, tombstones, late policy
        SingleOutputStreamOperator<ChangeEvent> reconciled =
                gates.split()
                        .keyBy((KeySelector<ChangeEvent, String>) Reconciler::keyOf, Types.STRING)
                        .transform(
                                "reconcile",
                                ChangeEventTypeInfo.INSTANCE,
                                new ReconcilerOperator(
                                        new Reconciler(run, settings)
                                                .withHistory(wiring.historyTables())))
                        .uid(Uids.RECONCILER);

        // -> write files per table, on the reconciler's partitioning (no further exchange); the
        // late and quarantined changes to their tables, on the same checkpoints
        DataStream<byte[]> toCommit = write(config, run, wiring, gates, reconciled, live, schema);

        // -> one committer: per completed checkpoint one snapshot per table, with provenance
        commit(
                toCommit.union(reconciled.getSideOutput(ReconcilerOperator.TALLY), gates.tallies()),
                config,
                run,
                wiring,
                listener,
                live,
                gates.subtasks(config));

        // beside the stream: each table's compaction, snapshot expiry and orphan removal
        MaintenanceStage.attach(env, config, run, tables);
    }

    /**
     * The one committer, on one subtask, and the end of the graph; {@code gateSubtasks} send it a
     * tally per checkpoint.
     */
    private static void commit(
            DataStream<byte[]> toCommit,
            PipelineConfig config,
            RunContext run,
            JobWiring wiring,
            CommitListener listener,
            LiveTables live,
            int gateSubtasks) {
        toCommit.transform(
                        "commit",
                        Types.VOID,
                        new TidemarkCommitter(
                                        run,
                                        catalogLoader(config),
                                        wiring.commitTargets(),
                                        CONTRACT_VERSION_NONE,
                                        config.parallelism(),
                                        listener,
                                        live,
                                        snapshotsEveryTable(config))
                                .countingGates(gateSubtasks)
                                .watchingLag(SourceLag.of(config.sources()))
                                .publishingPoints(
                                        config.points(),
                                        config.sources().stream().map(SourceConfig::id).toList()))
                .uid(Uids.COMMITTER)
                .setParallelism(1)
                .setMaxParallelism(1)
                .sinkTo(new DiscardingSink<>())
                .uid(Uids.COMMIT_END)
                .name("end")
                .setParallelism(1);
    }

    /**
     * The writers: the reconciled changes of each table to its files, and, under the quarantine
     * policies, the late changes to the table's late table and the quarantined ones to its
     * quarantine table (or the pipeline's unrouted one). Their file lists, for the committer.
     */
    private static DataStream<byte[]> write(
            PipelineConfig config,
            RunContext run,
            JobWiring wiring,
            GateStage gates,
            SingleOutputStreamOperator<ChangeEvent> reconciled,
            LiveTables live,
            SchemaStage schema) {
        TypeInformation<byte[]> bytes = PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
        SingleOutputStreamOperator<byte[]> written =
                reconciled
                        .transform(
                                "write",
                                bytes,
                                new ChangeWriter(run, catalogLoader(config), wiring.routes(), live))
                        .uid(Uids.WRITER);
        // -> the schema stage: what the writers need of their tables' schemas, and the tables
        // created in the source while the job runs, applied once
        schema.attach(written.getSideOutput(ChangeWriter.SCHEMA_CHANGES), config, run, live);
        // + the late, quarantined and history rows, each to their tables
        return SideWriters.attach(written, config, run, wiring, gates.quarantined(), reconciled);
    }

    /** Written as the contract version until tables have versioned contracts. */
    public static final String CONTRACT_VERSION_NONE = "none";

    /** The catalog as the job's operators load it. */
    public static CatalogLoader catalogLoader(PipelineConfig config) {
        Map<String, String> properties = new HashMap<>(config.catalogProperties());
        String impl = Catalogs.implementation(properties);
        properties.remove(Catalogs.TYPE);
        properties.remove(Catalogs.IMPL);
        return new DriverRegisteringCatalogLoader(
                CatalogLoader.custom(config.catalogName(), properties, hadoopConf(), impl));
    }

    /**
     * Whether a start without state reads every table again (each source starts with a snapshot):
     * then the committer's first commit to each table replaces what the table held.
     */
    public static boolean snapshotsEveryTable(PipelineConfig config) {
        return config.sources().stream()
                .allMatch(source -> source.startupMode() == StartupMode.INITIAL);
    }

    static org.apache.hadoop.conf.Configuration hadoopConf() {
        return new org.apache.hadoop.conf.Configuration();
    }
}
