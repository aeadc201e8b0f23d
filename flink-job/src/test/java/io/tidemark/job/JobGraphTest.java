package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.LatePolicy;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.runtime.RunContext;
import io.tidemark.testing.TestPipelines;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.OperatorIDPair;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

/**
 * The job's graph as Flink builds it, without running it: what a savepoint of one parallelism needs
 * to restore at another.
 */
class JobGraphTest {

    /** Each operator's max parallelism in the graph at {@code parallelism}, by operator id. */
    private static Map<String, Integer> maxParallelismByOperator(int parallelism) throws Exception {
        Map<String, Integer> byOperator = new HashMap<>();
        for (JobVertex vertex : jobGraph(parallelism).getVertices()) {
            for (OperatorIDPair operator : vertex.getOperatorIDs()) {
                byOperator.put(
                        operator.getGeneratedOperatorID().toHexString(),
                        vertex.getMaxParallelism());
            }
        }
        return byOperator;
    }

    /** The pipeline's job graph at {@code parallelism}, over a source of no changes. */
    private static JobGraph jobGraph(int parallelism) throws Exception {
        PipelineConfig config =
                new PipelineConfigLoader()
                        .parse(
                                TestPipelines.resource("graph.yaml")
                                        .replace("@parallelism@", String.valueOf(parallelism)),
                                "graph.yaml");
        ResolvedTable orders =
                new ResolvedTable(
                        "public.orders",
                        TableIdentifier.of("shop", "orders"),
                        new Schema(
                                List.of(
                                        Types.NestedField.required(1, "id", Types.LongType.get()),
                                        Types.NestedField.optional(2, "v", Types.StringType.get())),
                                java.util.Set.of(1)),
                        List.of("id"),
                        OrderingRule.parse("commit-order"),
                        LatePolicy.QUARANTINE);
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(
                        TidemarkJob.flinkConfiguration(config));
        TidemarkJob.assemble(
                env,
                config,
                new RunContext("run", config.pipelineId(), "test"),
                List.of(orders),
                (e, keys, watermarks) ->
                        e.fromData(List.<ChangeEvent>of(), ChangeEventTypeInfo.INSTANCE)
                                .uid(Uids.SOURCE)
                                .assignTimestampsAndWatermarks(watermarks)
                                .uid("graph-test-watermarks"));
        return env.getStreamGraph().getJobGraph();
    }

    /**
     * Each contract gate and its split of key changes run in the task of their input: a change is
     * not serialized to another task between the source and the reconciler's exchange (one gate
     * over the union of the sources and the re-snapshots could chain to neither).
     */
    @Test
    void eachContractGateRunsInItsInputsTask() throws Exception {
        List<String> tasks = new java.util.ArrayList<>();
        jobGraph(1).getVertices().forEach(vertex -> tasks.add(vertex.getName()));
        assertThat(tasks)
                .anySatisfy(
                        task ->
                                assertThat(task)
                                        .contains("Source")
                                        .contains("contract gate ->")
                                        .contains("split key changes"))
                .anySatisfy(
                        task ->
                                assertThat(task)
                                        .contains("contract gate (re-snapshots)")
                                        .contains("split key changes"))
                .noneSatisfy(task -> assertThat(task).startsWith("contract gate ->"));
    }

    /**
     * Maintenance covers every table the pipeline commits to: the target, its late table (the table
     * quarantines late changes) and the pipeline's quarantine of unrouted changes.
     */
    @Test
    void maintenanceCoversTheLateAndQuarantineTablesToo() throws Exception {
        PipelineConfig config =
                new PipelineConfigLoader()
                        .parse(
                                TestPipelines.resource("graph.yaml").replace("@parallelism@", "1"),
                                "graph.yaml");
        ResolvedTable orders =
                new ResolvedTable(
                        "public.orders",
                        TableIdentifier.of("shop", "orders"),
                        new Schema(
                                List.of(Types.NestedField.required(1, "id", Types.LongType.get())),
                                java.util.Set.of(1)),
                        List.of("id"),
                        OrderingRule.parse("commit-order"),
                        LatePolicy.QUARANTINE);
        assertThat(MaintenanceStage.maintained(config, List.of(orders)))
                .containsExactly(
                        TableIdentifier.of("shop", "orders"),
                        io.tidemark.sink.LateTable.of(TableIdentifier.of("shop", "orders")),
                        io.tidemark.sink.QuarantineTable.unrouted(
                                TableIdentifier.of("shop", "orders")));
    }

    @Test
    void everyOperatorKeepsItsMaxParallelismWhateverTheParallelism() throws Exception {
        Map<String, Integer> one = maxParallelismByOperator(1);
        Map<String, Integer> two = maxParallelismByOperator(2);
        assertThat(one.keySet()).isEqualTo(two.keySet());
        // a savepoint maps each operator's state by its max parallelism: a chain that took the
        // schema stage's (1) at parallelism 1 would not restore at 2
        assertThat(one).isEqualTo(two);
    }
}
