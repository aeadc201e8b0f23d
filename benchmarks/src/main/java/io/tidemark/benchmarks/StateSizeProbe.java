package io.tidemark.benchmarks;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Measures the reconciler's checkpointed state per key: applies one change to each of N keys
 * (bigint key) and divides the keyed state size of a checkpoint by N, for heap and RocksDB. Run:
 * {@code ./mvnw -Pjmh compile -pl benchmarks -am -Djmh.args=...} is for JMH; this one runs with
 * {@code exec} the same way, main class {@code io.tidemark.benchmarks.StateSizeProbe}.
 */
public final class StateSizeProbe {

    public static void main(String[] args) throws Exception {
        int keys = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        for (String backend : List.of("heap", "rocksdb")) {
            System.out.printf(
                    "%s: %.1f bytes of checkpointed state per key (%d keys)%n",
                    backend, bytesPerKey(backend, keys), keys);
        }
    }

    static double bytesPerKey(String backend, int keys) throws Exception {
        try (var harness = Harnesses.reconciler(backend)) {
            harness.open();
            for (long key = 0; key < keys; key++) {
                ChangeEvent change =
                        new ChangeEvent(
                                "public.orders",
                                Operation.UPDATE,
                                List.of(key),
                                null,
                                Map.of("id", key),
                                new SourcePosition(key + 1, key + 1, key),
                                1_000 + key);
                harness.processElement(new StreamRecord<>(change));
                harness.getOutput().clear();
            }
            // as Flink checkpoints: the barrier (RocksDB's key-state cache written back), then
            // the snapshot
            harness.prepareSnapshotPreBarrier(1L);
            OperatorSubtaskState state = harness.snapshot(1L, 1L);
            return (double)
                            state.getManagedKeyedState().stream()
                                    .mapToLong(s -> s.getStateSize())
                                    .sum()
                    / keys;
        }
    }
}
