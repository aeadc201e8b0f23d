package io.tidemark.benchmarks.e2e;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.demo.EmbeddedDatabase;
import io.tidemark.job.TidemarkJob;
import io.tidemark.runtime.RunContext;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.catalog.TableIdentifier;

/** Tidemark's pipeline, from the same pipeline file format {@code tidemark run} reads. */
final class TidemarkSide implements Side {

    @Override
    public String name() {
        return "tidemark";
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
        BenchSettings settings = bench.settings();
        EmbeddedDatabase db = bench.database();
        String yaml =
                String.join(
                        "\n",
                        "pipeline:",
                        "  id: bench-" + run,
                        "  parallelism: " + settings.parallelism(),
                        "checkpoint:",
                        "  interval: " + settings.checkpointInterval().toMillis() + "ms",
                        "  dir: " + settings.workDir().resolve("checkpoints").toUri(),
                        "source:",
                        "  type: postgres",
                        "  hostname: 127.0.0.1",
                        "  port: " + db.port(),
                        "  database: " + Bench.SOURCE_DATABASE,
                        "  username: " + EmbeddedDatabase.USER,
                        "  password: \"\"",
                        "  slot-name: " + slot(run),
                        "  snapshot:",
                        "    split-size: " + settings.splitSize(),
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
                        "    target: " + table(run),
                        "");
        PipelineConfig config = new PipelineConfigLoader().parse(yaml, "bench-" + run + ".yaml");
        List<TidemarkJob.ResolvedTable> tables = TidemarkJob.prepare(config);
        Configuration flink = TidemarkJob.flinkConfiguration(config);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        TidemarkJob.assemble(
                env,
                config,
                RunContext.start(config.pipelineId(), "bench-" + run),
                tables,
                TidemarkJob.postgres(config));
        return env.executeAsync(config.jobName());
    }
}
