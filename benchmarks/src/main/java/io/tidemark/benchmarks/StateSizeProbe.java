package io.tidemark.benchmarks;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import io.tidemark.reconcile.LatePolicy;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.reconcile.ReconcileSettings;
import io.tidemark.reconcile.Reconciler;
import io.tidemark.runtime.RunContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

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
        ReconcileSettings settings =
                new ReconcileSettings(
                        Duration.ZERO,
                        Duration.ofSeconds(30),
                        Duration.ofMinutes(10),
                        Map.of(
                                "public.orders",
                                new ReconcileSettings.TableRule(
                                        OrderingRule.commitOrder(), LatePolicy.APPLY_IF_NEWER)));
        try (var harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                new Reconciler(
                                        new RunContext("probe", "probe", "probe"), settings)),
                        Reconciler::keyOf,
                        Types.STRING)) {
            harness.setStateBackend(
                    backend.equals("rocksdb")
                            ? new EmbeddedRocksDBStateBackend()
                            : new HashMapStateBackend());
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
            OperatorSubtaskState state = harness.snapshot(1L, 1L);
            return (double)
                            state.getManagedKeyedState().stream()
                                    .mapToLong(s -> s.getStateSize())
                                    .sum()
                    / keys;
        }
    }
}
