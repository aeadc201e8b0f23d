package io.tidemark.cli;

import io.tidemark.config.PipelineConfig;
import io.tidemark.job.TidemarkJob;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.TableDiscovery;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark run --config pipeline.yaml}: validates the file, prepares the target tables and
 * runs the job on the environment it finds (a cluster under {@code flink run}, in-process
 * otherwise).
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description =
                "Run the pipeline described by a pipeline file (submit with `flink run`, or in-process).")
final class RunCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Option(
            names = {"-c", "--config"},
            required = true,
            paramLabel = "<pipeline.yaml>",
            description = "The pipeline file (see the README's configuration reference).")
    Path config;

    @Option(
            names = "--run-id",
            paramLabel = "<id>",
            description = "Run id to use instead of a generated one.")
    String runId;

    @Option(
            names = "--print-config",
            description = "Print the validated configuration (secrets masked) and exit.")
    boolean printConfig;

    @Override
    public Integer call() throws Exception {
        PipelineConfig pipeline = Tidemark.loadPipeline(config, "run");
        if (pipeline == null) {
            return Tidemark.EXIT_USAGE;
        }
        if (printConfig) {
            System.out.print(pipeline.describe());
            return 0;
        }
        RunContext run = RunContext.start(pipeline.pipelineId(), runId);
        run.enterLogContext();
        LOG.info(
                "Starting pipeline {} run {} (code version {}) with configuration:\n{}",
                pipeline.pipelineId(),
                run.runId(),
                run.codeVersion(),
                pipeline.describe());
        System.out.printf(
                "tidemark run: pipeline %s, run id %s%n", pipeline.pipelineId(), run.runId());
        // whole-database capture: the file's table patterns become the tables they match now
        pipeline = TableDiscovery.resolve(pipeline);
        List<ResolvedTable> tables = TidemarkJob.prepare(pipeline);
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(
                        TidemarkJob.flinkConfiguration(pipeline));
        TidemarkJob.assemble(env, pipeline, run, tables, TidemarkJob.cdc(pipeline));
        env.execute(pipeline.jobName());
        return 0;
    }
}
