package io.tidemark.benchmarks;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.reconcile.LatePolicy;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.reconcile.ReconcileSettings;
import io.tidemark.reconcile.Reconciler;
import io.tidemark.runtime.RunContext;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/** The real reconciler operator for {@code public.orders}, in Flink's test harness. */
final class Harnesses {

    private Harnesses() {}

    /**
     * @param backend {@code heap}, {@code rocksdb} (RocksDB timers, Flink's default) or {@code
     *     rocksdb-heap-timers} (what Tidemark configures for RocksDB)
     */
    static KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> reconciler(
            String backend) throws Exception {
        ReconcileSettings settings =
                new ReconcileSettings(
                        Duration.ZERO,
                        Duration.ofSeconds(30),
                        Duration.ofMinutes(10),
                        Map.of(
                                "public.orders",
                                new ReconcileSettings.TableRule(
                                        OrderingRule.commitOrder(), LatePolicy.APPLY_IF_NEWER)));
        KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                new Reconciler(
                                        new RunContext("bench", "bench", "bench"), settings)),
                        Reconciler::keyOf,
                        Types.STRING);
        if (backend.startsWith("rocksdb")) {
            EmbeddedRocksDBStateBackend rocksdb = new EmbeddedRocksDBStateBackend();
            if (backend.equals("rocksdb-heap-timers")) {
                rocksdb.setPriorityQueueStateType(
                        EmbeddedRocksDBStateBackend.PriorityQueueStateType.HEAP);
            }
            harness.setStateBackend(rocksdb);
        } else {
            harness.setStateBackend(new HashMapStateBackend());
        }
        return harness;
    }
}
