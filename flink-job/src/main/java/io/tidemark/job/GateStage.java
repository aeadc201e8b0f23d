package io.tidemark.job;

import io.tidemark.config.PipelineConfig;
import io.tidemark.contract.ContractGate;
import io.tidemark.contract.ContractGateOperator;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.reconcile.KeyChangeSplitter;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.LiveTables;
import java.util.List;
import java.util.function.Supplier;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.table.data.RowData;

/**
 * The contract gate in the graph, one per input so that each chains to what feeds it: the gate of
 * the CDC sources' changes ({@link Uids#CONTRACT_GATE}, in the source's task: a change is not
 * serialized to another task before the reconciler's exchange) and the gate of the re-snapshots
 * ({@link Uids#RESNAPSHOT_GATE}, after their exchange by key). One gate over the union of both
 * could chain to neither. Each gate is followed by the split of primary-key updates, in its task
 * too. Both gates check the same contracts and tell the committer what they saw (each subtask of
 * each gate sends a tally per checkpoint: {@link #subtasks}).
 */
final class GateStage {

    /** The gated changes, key changes split, ready for the reconciler's exchange. */
    private final DataStream<ChangeEvent> split;

    private final DataStream<RowData> quarantined;

    private final DataStream<byte[]> tallies;

    /** How many gates the stage made (each of the pipeline's parallelism). */
    private final int gates;

    private GateStage(
            DataStream<ChangeEvent> split,
            DataStream<RowData> quarantined,
            DataStream<byte[]> tallies,
            int gates) {
        this.split = split;
        this.quarantined = quarantined;
        this.tallies = tallies;
        this.gates = gates;
    }

    /**
     * The gates over {@code changes} (the CDC sources') and {@code resnapshots} (null: none), each
     * followed by {@code splitter}.
     */
    static GateStage of(
            DataStream<ChangeEvent> changes,
            DataStream<ChangeEvent> resnapshots,
            PipelineConfig config,
            RunContext run,
            List<ResolvedTable> tables,
            JobWiring wiring,
            KeyChangeSplitter splitter,
            LiveTables live) {
        // each gate an operator of its own, on the same contracts and policies
        Supplier<ContractGateOperator> operator =
                () ->
                        new ContractGateOperator(
                                new ContractGate(
                                        run,
                                        wiring.contracts(),
                                        TablePolicies.implicitContracts(config, tables),
                                        splitter,
                                        TablePolicies.truncatePolicies(config),
                                        TablePolicies.orderingColumns(tables),
                                        live,
                                        SourceStage.columnDefaults(config)));
        SingleOutputStreamOperator<ChangeEvent> gated =
                gate(changes, operator).uid(Uids.CONTRACT_GATE);
        DataStream<ChangeEvent> split = split(gated, splitter).uid(Uids.KEY_SPLIT);
        DataStream<RowData> quarantined = gated.getSideOutput(ContractGate.QUARANTINE);
        DataStream<byte[]> tallies = gated.getSideOutput(ContractGate.TALLY);
        int gates = 1;
        if (resnapshots != null) {
            gates++;
            SingleOutputStreamOperator<ChangeEvent> reread =
                    gate(resnapshots, operator)
                            .uid(Uids.RESNAPSHOT_GATE)
                            .name("contract gate (re-snapshots)");
            split = split.union(split(reread, splitter).uid(Uids.RESNAPSHOT_KEY_SPLIT));
            quarantined = quarantined.union(reread.getSideOutput(ContractGate.QUARANTINE));
            tallies = tallies.union(reread.getSideOutput(ContractGate.TALLY));
        }
        return new GateStage(split, quarantined, tallies, gates);
    }

    /**
     * How many tallies the committer gets per checkpoint when every gate subtask has sent its own:
     * each gate runs at the pipeline's parallelism.
     */
    int subtasks(PipelineConfig config) {
        return config.parallelism() * gates;
    }

    /** The gated changes with primary-key updates split into a delete and an upsert. */
    DataStream<ChangeEvent> split() {
        return split;
    }

    /** The changes the gates quarantined, as rows of their quarantine tables. */
    DataStream<RowData> quarantined() {
        return quarantined;
    }

    /** The gates' tallies for the committer. */
    DataStream<byte[]> tallies() {
        return tallies;
    }

    private static SingleOutputStreamOperator<ChangeEvent> gate(
            DataStream<ChangeEvent> changes, Supplier<ContractGateOperator> operator) {
        return changes.transform("contract gate", ChangeEventTypeInfo.INSTANCE, operator.get());
    }

    private static SingleOutputStreamOperator<ChangeEvent> split(
            DataStream<ChangeEvent> gated, KeyChangeSplitter splitter) {
        return gated.flatMap(
                        (FlatMapFunction<ChangeEvent, ChangeEvent>)
                                (change, out) -> splitter.split(change, out::collect),
                        ChangeEventTypeInfo.INSTANCE)
                .name("split key changes");
    }
}
