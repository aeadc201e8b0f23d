package io.tidemark.contract;

import io.tidemark.decode.ChangeEvent;
import org.apache.flink.streaming.api.operators.ProcessOperator;

/** Runs the {@link ContractGate} and evaluates its data-quality checks at every barrier. */
public final class ContractGateOperator extends ProcessOperator<ChangeEvent, ChangeEvent> {

    private static final long serialVersionUID = 1L;

    public ContractGateOperator(ContractGate gate) {
        super(gate);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        ((ContractGate) userFunction).evaluateChecks(checkpointId);
    }
}
