package io.tidemark.job;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.TableManager;
import io.tidemark.catalog.TableSpec;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.job.TableRouter.Route;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.RowDataConverter;
import io.tidemark.source.PostgresCdcSource;
import io.tidemark.source.PostgresPublication;
import io.tidemark.source.PostgresSchemaReader;
import java.io.Closeable;
import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.util.OutputTag;
import org.apache.iceberg.DistributionMode;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.flink.sink.IcebergSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Assembles the pipeline, top to bottom:
 *
 * <pre>
 * source -> decode -> route by table -> write (per table, keyed by primary key) -> commit
 * </pre>
 *
 * <p>{@link #prepare} runs on the client before the job starts: it reads each captured table's
 * schema from the source, creates missing Iceberg tables and checks existing ones. {@link
 * #assemble} then builds the graph; the source is injected so tests can swap it.
 */
public final class TidemarkJob {

    private static final Logger LOG = LoggerFactory.getLogger(TidemarkJob.class);

    /** Snapshot summary keys every commit carries. */
    public static final String SUMMARY_PIPELINE_ID = "tidemark.pipeline-id";

    public static final String SUMMARY_RUN_ID = "tidemark.run-id";
    public static final String SUMMARY_CODE_VERSION = "tidemark.code-version";

    private TidemarkJob() {}

    /** A captured table resolved against the source database and the catalog. */
    public record ResolvedTable(
            String sourceTable, TableIdentifier target, Schema schema, List<String> primaryKey)
            implements Serializable {}

    /** Creates the changes stream of the job; tests swap the real source for their own. */
    @FunctionalInterface
    public interface ChangeSource extends Serializable {
        DataStream<ChangeEvent> create(
                StreamExecutionEnvironment env, Map<String, List<String>> primaryKeys);
    }

    /** The Flink CDC Postgres source of {@code config}. */
    public static ChangeSource postgres(PipelineConfig config) {
        return (env, primaryKeys) ->
                env.fromSource(
                                PostgresCdcSource.create(config, primaryKeys),
                                WatermarkStrategy.noWatermarks(),
                                "postgres-cdc",
                                ChangeEventTypeInfo.INSTANCE)
                        .uid(Uids.SOURCE)
                        .name("source: postgres-cdc");
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
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        conf.set(StateBackendOptions.STATE_BACKEND, config.stateBackend());
        if (config.checkpointDir() != null) {
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, config.checkpointDir());
        }
        if (config.savepointDir() != null) {
            conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, config.savepointDir());
        }
        return conf;
    }

    /**
     * Reads every captured table's schema from the source and makes sure its Iceberg table exists
     * and fits. Runs on the client.
     */
    public static List<ResolvedTable> prepare(PipelineConfig config) throws SQLException {
        Properties credentials = new Properties();
        credentials.setProperty("user", config.source().username());
        credentials.setProperty("password", config.source().password());
        List<TableSpec> specs = new ArrayList<>();
        try (Connection connection =
                DriverManager.getConnection(config.source().jdbcUrl(), credentials)) {
            for (TableConfig table : config.tables()) {
                specs.add(PostgresSchemaReader.read(connection, table));
            }
            PostgresPublication.ensure(
                    connection,
                    config.source().publication(),
                    config.tables().stream().map(TableConfig::source).toList());
        }
        Catalog catalog =
                Catalogs.load(config.catalogName(), config.catalogProperties(), hadoopConf());
        try {
            TableManager tables = new TableManager(catalog);
            List<ResolvedTable> resolved = new ArrayList<>();
            for (int i = 0; i < specs.size(); i++) {
                TableSpec spec = specs.get(i);
                Table table = tables.ensure(spec);
                resolved.add(
                        new ResolvedTable(
                                config.tables().get(i).source(),
                                spec.identifier(),
                                table.schema(),
                                spec.primaryKey()));
                LOG.info(
                        "Table {} -> {} key {}",
                        config.tables().get(i).source(),
                        spec.identifier(),
                        spec.primaryKey());
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

    /** Builds the job graph on {@code env}. */
    public static void assemble(
            StreamExecutionEnvironment env,
            PipelineConfig config,
            RunContext run,
            List<ResolvedTable> tables,
            ChangeSource source) {
        Map<String, List<String>> primaryKeys = new LinkedHashMap<>();
        Map<String, Route> routes = new HashMap<>();
        for (ResolvedTable table : tables) {
            primaryKeys.put(table.sourceTable(), table.primaryKey());
            RowType rowType = FlinkSchemaUtil.convert(table.schema());
            routes.put(
                    table.sourceTable(),
                    new Route(
                            table.sourceTable(),
                            new OutputTag<>("rows-" + table.target(), InternalTypeInfo.of(rowType)),
                            new RowDataConverter(
                                    table.sourceTable(), table.schema(), table.primaryKey())));
        }

        // source -> decode (the source's deserializer emits ChangeEvents)
        DataStream<ChangeEvent> changes = source.create(env, primaryKeys);

        // -> route by table
        SingleOutputStreamOperator<ChangeEvent> routed =
                changes.process(new TableRouter(run, routes), ChangeEventTypeInfo.INSTANCE)
                        .uid(Uids.ROUTER)
                        .name("route by table");

        // -> write (keyed by primary key) -> commit, one sink per table
        CatalogLoader catalogLoader = catalogLoader(config);
        Map<String, String> snapshotProperties =
                Map.of(
                        SUMMARY_PIPELINE_ID, run.pipelineId(),
                        SUMMARY_RUN_ID, run.runId(),
                        SUMMARY_CODE_VERSION, run.codeVersion());
        for (ResolvedTable table : tables) {
            DataStream<RowData> rows =
                    routed.getSideOutput(routes.get(table.sourceTable()).output());
            IcebergSink.forRowData(rows)
                    .tableLoader(TableLoader.fromCatalog(catalogLoader, table.target()))
                    .equalityFieldColumns(table.primaryKey())
                    .upsert(true)
                    .distributionMode(DistributionMode.HASH)
                    .writeParallelism(config.parallelism())
                    .snapshotProperties(snapshotProperties)
                    .uidSuffix(Uids.sink(table.target().toString()))
                    .append();
        }
    }

    /** The catalog as the job's operators load it. */
    public static CatalogLoader catalogLoader(PipelineConfig config) {
        Map<String, String> properties = new HashMap<>(config.catalogProperties());
        String impl = Catalogs.implementation(properties);
        properties.remove(Catalogs.TYPE);
        properties.remove(Catalogs.IMPL);
        return CatalogLoader.custom(config.catalogName(), properties, hadoopConf(), impl);
    }

    static org.apache.hadoop.conf.Configuration hadoopConf() {
        return new org.apache.hadoop.conf.Configuration();
    }
}
