package io.tidemark.commit;

import io.tidemark.protocol.CommitMessage.Counts;
import io.tidemark.protocol.CommitMessage.GateCounts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/** The committer's audit of one checkpoint's counts, before it commits the checkpoint. */
final class CheckpointAudit {

    private CheckpointAudit() {}

    /**
     * The job's own check that nothing was lost between its operators in one checkpoint: per source
     * table, every change into the contract gate was passed or quarantined, the reconcilers
     * received every change the gate forwarded, and the quarantine writers wrote every change the
     * gate quarantined. A difference is a defect of this job, not of the data: it fails the run
     * without committing the checkpoint and without restarts (a restart would commit the same
     * checkpoint). Holds with aligned exactly-once checkpoints (Tidemark's setting): every change
     * the gate sent before its barrier reaches the reconciler before the reconciler's barrier.
     */
    static void checkNothingLost(
            long checkpointId,
            Map<String, GateCounts> gated,
            Map<String, Counts> reconciled,
            Map<String, Long> quarantineWritten) {
        List<String> problems = new ArrayList<>();
        long quarantinedTotal = 0;
        for (Map.Entry<String, GateCounts> entry : gated.entrySet()) {
            String table = entry.getKey();
            GateCounts gate = entry.getValue();
            quarantinedTotal += gate.quarantined();
            if (gate.in() != gate.passed() + gate.quarantined()) {
                problems.add(
                        String.format(
                                "%s: %d change(s) into the contract gate but %d passed + %d quarantined",
                                table, gate.in(), gate.passed(), gate.quarantined()));
            }
            long received = reconciled.getOrDefault(table, Counts.ZERO).in();
            if (received != gate.forwarded()) {
                problems.add(
                        String.format(
                                "%s: the contract gate forwarded %d change(s), the reconcilers received %d",
                                table, gate.forwarded(), received));
            }
        }
        for (Map.Entry<String, Counts> entry : reconciled.entrySet()) {
            if (!gated.containsKey(entry.getKey()) && entry.getValue().in() > 0) {
                problems.add(
                        String.format(
                                "%s: the reconcilers received %d change(s) the contract gate never saw",
                                entry.getKey(), entry.getValue().in()));
            }
        }
        long written = quarantineWritten.values().stream().mapToLong(Long::longValue).sum();
        if (written != quarantinedTotal) {
            problems.add(
                    String.format(
                            "the contract gate quarantined %d change(s), the quarantine writers wrote %d",
                            quarantinedTotal, written));
        }
        if (!problems.isEmpty()) {
            throw new SuppressRestartsException(
                    new IllegalStateException(
                            "checkpoint "
                                    + checkpointId
                                    + " does not add up, not committing it: "
                                    + String.join("; ", problems)));
        }
    }
}
