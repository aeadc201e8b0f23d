package io.tidemark.benchmarks.e2e;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.job.JobPreparation;
import io.tidemark.job.SourceStage;
import io.tidemark.job.TidemarkJob;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedDatabase;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Tidemark's pipeline, from the same pipeline file format {@code tidemark run} reads, with its
 * state on the heap ({@code tidemark}) or in RocksDB ({@code tidemark-rocksdb}, {@code
 * checkpoint.state-backend: rocksdb}).
 */
final class TidemarkSide implements Side {

    private final boolean rocksdb;

    /** The table's {@code bucket(N, id)} partitioning (0: unpartitioned). */
    private final int buckets;

    /** Debezium's {@code poll.interval.ms} on this side, or null for Tidemark's own. */
    private final String pollInterval;

    TidemarkSide(boolean rocksdb) {
        this(rocksdb, 0);
    }

    /** Heap or RocksDB state, the table partitioned by {@code bucket(buckets, id)} unless 0. */
    TidemarkSide(boolean rocksdb, int buckets) {
        this(rocksdb, buckets, null);
    }

    private TidemarkSide(boolean rocksdb, int buckets, String pollInterval) {
        this.rocksdb = rocksdb;
        this.buckets = buckets;
        this.pollInterval = pollInterval;
    }

    /**
     * Tidemark with Debezium's own 500 ms {@code poll.interval.ms} ({@code tidemark-poll500}): the
     * setting before 2026-12-06, beside the current one in one run.
     */
    static TidemarkSide debeziumPollInterval() {
        return new TidemarkSide(false, 0, "500");
    }

    @Override
    public String name() {
        return (rocksdb ? "tidemark-rocksdb" : "tidemark")
                + (buckets > 0 ? "-bucket" : "")
                + (pollInterval != null ? "-poll" + pollInterval : "");
    }

    @Override
    public TableIdentifier table(String run) {
        return TableIdentifier.of("bench_tm", "items_" + run);
    }

    @Override
    public String slot(String run) {
        return "tm_" + run;
    }

    @Override
    public JobClient start(Bench bench, String run) throws Exception {
        return resume(bench, run, null);
    }

    /** As {@link #start}, restored from {@code savepoint} unless it is null. */
    @Override
    public JobClient resume(Bench bench, String run, String savepoint) throws Exception {
        List<String> yaml = new ArrayList<>(head(bench, run));
        yaml.add("source:");
        yaml.addAll(source(bench, "  ", Bench.SOURCE_DATABASE, slot(run)));
        yaml.addAll(tail(bench, run, null));
        return submit(run, yaml, savepoint);
    }

    @Override
    public JobClient startShards(Bench bench, String run, List<String> shards) throws Exception {
        List<String> yaml = new ArrayList<>(head(bench, run));
        yaml.add("sources:");
        for (int i = 0; i < shards.size(); i++) {
            List<String> source = source(bench, "    ", shards.get(i), slot(run) + "_" + i);
            yaml.add("  - id: " + shards.get(i));
            yaml.addAll(source);
        }
        // the shards write the same keys: the newest updated_at wins, not the last to arrive
        yaml.addAll(tail(bench, run, "event-time:updated_at"));
        return submit(run, yaml, null);
    }

    private List<String> head(Bench bench, String run) {
        BenchSettings settings = bench.settings();
        return List.of(
                "pipeline:",
                "  id: bench-" + run,
                "  parallelism: " + settings.parallelism(),
                "checkpoint:",
                "  interval: " + settings.checkpointInterval().toMillis() + "ms",
                "  state-backend: " + (rocksdb ? "rocksdb" : "hashmap"),
                "  dir: " + settings.workDir().resolve("checkpoints").toUri());
    }

    private List<String> source(Bench bench, String indent, String database, String slot) {
        List<String> lines = new ArrayList<>(sourceLines(bench, indent, database, slot));
        // -Dbench.tidemark.source-properties=k=v,k=v: Debezium properties for Tidemark's side
        // (source.debezium), to compare settings on the same workload
        String properties = System.getProperty("bench.tidemark.source-properties", "");
        if (pollInterval != null) {
            properties =
                    "poll.interval.ms="
                            + pollInterval
                            + (properties.isBlank() ? "" : "," + properties);
        }
        if (!properties.isBlank()) {
            lines.add(indent + "debezium:");
            for (String property : properties.split(",")) {
                String[] kv = property.split("=", 2);
                lines.add(indent + "  " + kv[0].trim() + ": \"" + kv[1].trim() + "\"");
            }
        }
        return lines;
    }

    private static List<String> sourceLines(
            Bench bench, String indent, String database, String slot) {
        EmbeddedDatabase db = bench.database();
        return List.of(
                indent + "type: postgres",
                indent + "hostname: 127.0.0.1",
                indent + "port: " + db.port(),
                indent + "database: " + database,
                indent + "username: " + EmbeddedDatabase.USER,
                indent + "password: \"\"",
                indent + "slot.name: " + slot,
                indent + "publication: " + slot + "_pub",
                indent + "scan.incremental.snapshot.chunk.size: " + bench.settings().splitSize());
    }

    private List<String> tail(Bench bench, String run, String ordering) {
        EmbeddedDatabase db = bench.database();
        List<String> lines =
                new ArrayList<>(
                        List.of(
                                "catalog:",
                                "  name: " + Bench.CATALOG_NAME,
                                "  type: jdbc",
                                "  properties:",
                                "    uri: " + db.jdbcUrl(Bench.CATALOG_DATABASE),
                                "    jdbc.user: " + EmbeddedDatabase.USER,
                                "    jdbc.password: \"\"",
                                "    jdbc.schema-version: V1",
                                "    warehouse: " + bench.warehouse(),
                                "tables:",
                                "  - source: " + SourceTable.TABLE,
                                "    target: " + table(run)));
        if (ordering != null) {
            lines.add("    ordering: " + ordering);
        }
        if (buckets > 0) {
            lines.add("    partition-by: [\"bucket(" + buckets + ", id)\"]");
        }
        lines.add("");
        return lines;
    }

    /** Submits the pipeline of {@code yaml}, restored from {@code savepoint} unless it is null. */
    private static JobClient submit(String run, List<String> yaml, String savepoint)
            throws Exception {
        PipelineConfig config =
                new PipelineConfigLoader().parse(String.join("\n", yaml), "bench-" + run + ".yaml");
        List<TidemarkJob.ResolvedTable> tables = JobPreparation.prepare(config);
        Configuration flink = TidemarkJob.flinkConfiguration(config);
        if (savepoint != null) {
            flink.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        TidemarkJob.assemble(
                env,
                config,
                RunContext.start(config.pipelineId(), "bench-" + run),
                tables,
                SourceStage.cdc(config));
        return env.executeAsync(config.jobName());
    }
}
