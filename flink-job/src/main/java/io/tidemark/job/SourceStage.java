package io.tidemark.job;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.job.TidemarkJob.ChangeSource;
import io.tidemark.reconcile.Reconciler;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.ColumnDefaults;
import io.tidemark.source.LiveTables;
import io.tidemark.source.SourceDialect;
import io.tidemark.source.TransactionFence;
import io.tidemark.source.resnapshot.ResnapshotBackfill;
import io.tidemark.source.resnapshot.ResnapshotSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.Partitioner;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job's first stage: the sources' changes. The Flink CDC source of each database (Postgres or
 * MySQL) with its guard and its {@link TransactionFence}, and beside it the re-snapshots asked for
 * while the job runs, with what the contract gate needs to ask for one (the sources' column
 * defaults).
 */
public final class SourceStage {

    private SourceStage() {}

    /**
     * The Flink CDC sources of {@code config} (Postgres or MySQL), one per database, as one stream.
     */
    public static ChangeSource cdc(PipelineConfig config) {
        LiveTables live = LiveTables.of(config);
        return (env, primaryKeys, watermarks) -> {
            DataStream<ChangeEvent> all = null;
            for (SourceConfig source : config.sources()) {
                List<String> tables = TidemarkJob.tablesOf(config, source.id());
                boolean livePatterns =
                        live.patterns().stream().anyMatch(p -> p.sources().contains(source.id()));
                if (tables.isEmpty() && !livePatterns) {
                    continue;
                }
                SourceDialect dialect = SourceDialect.of(source);
                DataStream<ChangeEvent> changes =
                        env.fromSource(
                                        dialect.cdcSource(
                                                tables, primaryKeys, live, sourceName(source)),
                                        watermarks,
                                        dialect.connectorName() + "-" + source.id(),
                                        ChangeEventTypeInfo.INSTANCE)
                                .uid(Uids.source(source.id()))
                                .name("source: " + dialect.connectorName() + " " + source.id());
                int transactionMaxChanges = config.reconcile().transactionMaxChanges();
                if (transactionMaxChanges > 0) {
                    // chained to the source: a transaction's changes pass on between two barriers
                    changes =
                            changes.transform(
                                            "transaction fence " + source.id(),
                                            ChangeEventTypeInfo.INSTANCE,
                                            new TransactionFence(
                                                    source.id(), transactionMaxChanges))
                                    .uid(Uids.transactionFence(source.id()));
                }
                all = all == null ? changes : all.union(changes);
            }
            return all;
        };
    }

    /** {@code source} as a message names it: "the source", or "source 'id'" of several. */
    static String sourceName(SourceConfig source) {
        return ChangeEvent.DEFAULT_SOURCE.equals(source.id())
                ? "the source ("
                        + source.kind()
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
            Map<String, List<String>> primaryKeys) {
        Map<String, String> targets = new LinkedHashMap<>();
        Map<String, List<String>> merged = new LinkedHashMap<>();
        for (TableConfig table : config.tables()) {
            if (table.sources().contains(source.id())) {
                targets.put(table.source(), table.target());
                if (table.sources().size() > 1) {
                    merged.put(table.target(), table.sources());
                }
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
                                        merged,
                                        primaryKeys,
                                        TidemarkJob.catalogLoader(config),
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
     * The sources' column defaults; a column added with one to a table of one source is backfilled
     * by a re-snapshot ({@link ResnapshotBackfill}); in a table merged from several the job stops
     * once, naming the fix (the sources add it one by one, and a re-read when the first does would
     * leave the others' rows without it).
     */
    static ColumnDefaults.Lookup columnDefaults(PipelineConfig config) {
        Map<String, String> targets = new LinkedHashMap<>();
        for (TableConfig table : config.tables()) {
            // not a table merged from several sources: a re-read now would find the column in
            // one of them, and the others' rows would miss their default when those add it later
            if (table.sources().size() == 1) {
                targets.put(table.source(), table.target());
            }
        }
        return new ResnapshotBackfill(
                ColumnDefaults.of(config.sources()), targets, TidemarkJob.catalogLoader(config));
    }
}
