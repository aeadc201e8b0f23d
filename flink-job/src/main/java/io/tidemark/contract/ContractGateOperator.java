package io.tidemark.contract;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.protocol.CommitMessageSerializer;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Runs the {@link ContractGate} and, at every barrier, tells the committer what it saw and
 * evaluates its data-quality checks.
 */
public final class ContractGateOperator extends ProcessOperator<ChangeEvent, ChangeEvent> {

    private static final long serialVersionUID = 1L;

    public ContractGateOperator(ContractGate gate) {
        super(gate);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        ContractGate gate = (ContractGate) userFunction;
        output.collect(
                ContractGate.TALLY,
                new StreamRecord<>(
                        CommitMessageSerializer.serialize(
                                gate.drainTally(
                                        checkpointId,
                                        getRuntimeContext()
                                                .getTaskInfo()
                                                .getIndexOfThisSubtask()))));
        gate.evaluateChecks(checkpointId);
    }
}
