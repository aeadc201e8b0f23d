package io.tidemark.benchmarks.maintenance;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.job.JobPreparation;
import io.tidemark.job.SourceStage;
import io.tidemark.job.TidemarkJob;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * One side of {@link MaintenanceBenchmark}: a source database of its own with {@code public.events}
 * and Tidemark's pipeline into {@code maint.events_<side>}, with the {@code maintenance} section
 * ({@code on}) or without it ({@code off}); checkpoints every {@value #CHECKPOINT_INTERVAL_MS} ms.
 */
final class MaintenanceSide {

    static final String CATALOG_DATABASE = "iceberg_catalog";
    static final String CATALOG_NAME = "bench";
    static final String SOURCE_TABLE = "public.events";

    static final int CHECKPOINT_INTERVAL_MS = 250;

    /** Compaction and expiry every this many commits, unless {@code --compact-every} says. */
    static final int EVERY_COMMITS = 50;

    /** The least time between two runs of a maintenance task on the table, unless said. */
    static final String MIN_INTERVAL = "5s";

    /** Snapshots an expiry keeps. */
    static final int RETAIN_LAST = 20;

    /** The key of the row written after the stream: when the table shows it, it has the rest. */
    static final long MARKER = -1L;

    private final EmbeddedDatabase database;
    private final Path work;
    private final String warehouse;
    private final boolean maintained;
    private final Schedule schedule;

    MaintenanceSide(
            EmbeddedDatabase database,
            Path work,
            String warehouse,
            boolean maintained,
            Schedule schedule) {
        this.database = database;
        this.work = work;
        this.warehouse = warehouse;
        this.maintained = maintained;
        this.schedule = schedule;
    }

    String name() {
        return maintained ? "on" : "off";
    }

    EmbeddedDatabase database() {
        return database;
    }

    Path work() {
        return work;
    }

    String warehouse() {
        return warehouse;
    }

    private String sourceDatabase() {
        return "events_" + name();
    }

    TableIdentifier target() {
        return TableIdentifier.of("maint", "events_" + name());
    }

    Connection connect() throws SQLException {
        return database.connect(sourceDatabase());
    }

    /** The source table with {@code rows} rows. */
    void createSource(int rows) throws SQLException {
        database.createDatabase(sourceDatabase());
        try (Connection connection = connect()) {
            MaintenanceBenchmark.execute(
                    connection,
                    "CREATE TABLE "
                            + SOURCE_TABLE
                            + " (id bigint PRIMARY KEY, qty integer NOT NULL, name text,"
                            + " updated_at timestamptz NOT NULL)");
            MaintenanceBenchmark.execute(
                    connection,
                    "INSERT INTO "
                            + SOURCE_TABLE
                            + " SELECT g, g % 1000, 'event ' || g,"
                            + " TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second'"
                            + " FROM generate_series(1, "
                            + rows
                            + ") g");
        }
    }

    /** The pipeline file's text. */
    String pipelineYaml() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("pipeline", Map.of("id", "maint-" + name(), "parallelism", 1));
        root.put(
                "checkpoint",
                Map.of(
                        "interval",
                        CHECKPOINT_INTERVAL_MS + "ms",
                        "dir",
                        work.resolve("checkpoints").toUri().toString()));
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("type", "postgres");
        source.put("hostname", "127.0.0.1");
        source.put("port", database.port());
        source.put("database", sourceDatabase());
        source.put("username", EmbeddedDatabase.USER);
        source.put("password", "");
        source.put("slot.name", "maint_" + name());
        root.put("source", source);
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("uri", database.jdbcUrl(CATALOG_DATABASE));
        properties.put("jdbc.user", EmbeddedDatabase.USER);
        properties.put("jdbc.password", "");
        properties.put("jdbc.schema-version", "V1");
        properties.put("warehouse", warehouse);
        root.put("catalog", Map.of("name", CATALOG_NAME, "type", "jdbc", "properties", properties));
        if (maintained) {
            Map<String, Object> maintenance = new LinkedHashMap<>();
            maintenance.putAll(
                    Map.of(
                            "compaction",
                            Map.of("every-commits", schedule.compactEvery()),
                            "expire-snapshots",
                            Map.of(
                                    "every-commits",
                                    schedule.compactEvery(),
                                    "retain-last",
                                    RETAIN_LAST,
                                    "max-age",
                                    "1s"),
                            "min-interval",
                            schedule.minInterval()));
            if (schedule.foldEvery() > 0) {
                maintenance.put("fold-deletes", Map.of("every-delete-files", schedule.foldEvery()));
            }
            root.put("maintenance", maintenance);
        }
        root.put("tables", List.of(Map.of("source", SOURCE_TABLE, "target", target().toString())));
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return new Yaml(options).dump(root);
    }

    /** Starts the pipeline in this JVM (Flink's local environment). */
    JobClient start() throws Exception {
        PipelineConfig config =
                new PipelineConfigLoader().parse(pipelineYaml(), "maint-" + name() + ".yaml");
        List<TidemarkJob.ResolvedTable> tables = JobPreparation.prepare(config);
        Configuration flink = TidemarkJob.flinkConfiguration(config);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        TidemarkJob.assemble(
                env,
                config,
                RunContext.start(config.pipelineId(), "maintenance-bench-" + name()),
                tables,
                SourceStage.cdc(config));
        return env.executeAsync(config.jobName());
    }

    void assertRunning(JobClient job) throws Exception {
        JobStatus status = job.getJobStatus().get();
        if (status != JobStatus.RUNNING && status != JobStatus.CREATED) {
            throw new IllegalStateException(name() + ": the job is " + status);
        }
    }

    /**
     * Writes the marker row after the stream and waits until the table shows it: the changes before
     * it are committed then.
     */
    void awaitMarker(Connection source, Catalog catalog, JobClient job, Duration timeout)
            throws Exception {
        MaintenanceBenchmark.execute(
                source,
                "INSERT INTO "
                        + SOURCE_TABLE
                        + " VALUES ("
                        + MARKER
                        + ", 0, 'marker', clock_timestamp())");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            assertRunning(job);
            try (CloseableIterable<Record> marker =
                    IcebergGenerics.read(catalog.loadTable(target()))
                            .where(Expressions.equal("id", MARKER))
                            .build()) {
                if (marker.iterator().hasNext()) {
                    return;
                }
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException(
                name() + ": the marker row was not committed within " + timeout);
    }
}
