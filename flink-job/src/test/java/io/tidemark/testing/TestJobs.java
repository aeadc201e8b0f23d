package io.tidemark.testing;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.JobPreparation;
import io.tidemark.job.SourceStage;
import io.tidemark.job.TidemarkJob;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.awaitility.Awaitility;

/** Starting the real pipeline on the class's MiniCluster, and reading single rows back. */
public final class TestJobs {

    /** Stops {@code job} with a canonical savepoint under {@code dir}; its path. */
    public static Path stopWithSavepoint(JobClient job, Path dir) throws Exception {
        return Path.of(
                java.net.URI.create(
                        job.stopWithSavepoint(
                                        false,
                                        dir.toUri().toString(),
                                        org.apache.flink.core.execution.SavepointFormatType
                                                .CANONICAL)
                                .get()));
    }

    private TestJobs() {}

    /** Starts {@code config}'s pipeline fresh, in a new run, without a commit listener. */
    public static JobClient start(PipelineConfig config) throws Exception {
        return start(
                config, RunContext.start(config.pipelineId(), null), CommitListener.NONE, null);
    }

    /**
     * Prepares and starts {@code config}'s pipeline, waits until it runs. {@code savepoint} (or
     * null) is restored with {@code allowNonRestoredState=false}; failed jobs restart quickly.
     */
    public static JobClient start(
            PipelineConfig config, RunContext run, CommitListener listener, Path savepoint)
            throws Exception {
        return start(config, run, listener, savepoint, SourceStage.cdc(config));
    }

    /** As {@link #start(PipelineConfig, RunContext, CommitListener, Path)}, from {@code source}. */
    public static JobClient start(
            PipelineConfig config,
            RunContext run,
            CommitListener listener,
            Path savepoint,
            TidemarkJob.ChangeSource source)
            throws Exception {
        JobClient job = submit(config, run, listener, savepoint, source);
        Awaitility.await("job running")
                .atMost(Duration.ofMinutes(1))
                .until(() -> job.getJobStatus().get().name().equals("RUNNING"));
        return job;
    }

    /**
     * As {@link #start(PipelineConfig, RunContext, CommitListener, Path)} without waiting until the
     * job runs (a job expected to fail at once may never be seen running).
     */
    public static JobClient submit(
            PipelineConfig config,
            RunContext run,
            CommitListener listener,
            Path savepoint,
            TidemarkJob.ChangeSource source)
            throws Exception {
        List<ResolvedTable> tables = JobPreparation.prepare(config);
        Configuration flink = TidemarkJob.flinkConfiguration(config);
        TestPipelines.restartQuickly(flink);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        TidemarkJob.assemble(env, config, run, tables, source, listener);
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName(config.jobName());
        if (savepoint != null) {
            // set on the graph: a savepoint path in the environment's configuration does not
            // reach a MiniCluster job
            graph.setSavepointRestoreSettings(
                    SavepointRestoreSettings.forPath(savepoint.toUri().toString(), false));
        }
        return env.executeAsync(graph);
    }

    /** Column {@code column} of the row whose {@code id} is {@code id}, as text, or null. */
    public static String field(Table table, long id, String column) throws Exception {
        table.refresh();
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(table).where(Expressions.equal("id", id)).build()) {
            for (Record row : rows) {
                return String.valueOf(row.getField(column));
            }
        }
        return null;
    }
}
