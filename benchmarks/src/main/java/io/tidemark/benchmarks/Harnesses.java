package io.tidemark.benchmarks;

import io.tidemark.config.LatePolicy;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.job.TidemarkJob;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.reconcile.ReconcileSettings;
import io.tidemark.reconcile.Reconciler;
import io.tidemark.reconcile.ReconcilerOperator;
import io.tidemark.runtime.RunContext;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.runtime.operators.testutils.MockEnvironment;
import org.apache.flink.runtime.operators.testutils.MockEnvironmentBuilder;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * The real reconciler operator for {@code public.orders} ({@link ReconcilerOperator}, as the job
 * runs it), in Flink's test harness.
 */
final class Harnesses {

    private Harnesses() {}

    /**
     * Managed memory of the operator's slot: what a TaskManager of the standalone cluster ({@code
     * taskmanager.memory.process.size: 2048m}, 0.4 of its Flink memory managed, two slots) gives
     * each slot, and what RocksDB sizes its block cache and write buffers from.
     */
    static final long SLOT_MANAGED_MEMORY = 256L << 20;

    /**
     * Managed memory of Flink's test harness ({@code AbstractStreamOperatorTestHarness}): 3 MiB, in
     * which RocksDB flushes its write buffers every few hundred writes.
     */
    static final long HARNESS_MANAGED_MEMORY = 3L << 20;

    /**
     * @param backend {@code heap}; with a slot's managed memory ({@link #SLOT_MANAGED_MEMORY}):
     *     {@code rocksdb}, RocksDB as the job configures it ({@link TidemarkJob#rocksDbSettings}:
     *     heap timers, bloom filters), {@code rocksdb-rocksdb-timers}, the same with RocksDB
     *     timers, and {@code rocksdb-flink-defaults}, Flink's own (RocksDB timers, no bloom
     *     filters), which this benchmark measured as {@code rocksdb} before; {@code
     *     rocksdb-harness-memory}: Flink's defaults in the test harness's own 3 MiB ({@link
     *     #HARNESS_MANAGED_MEMORY}), as it measured before that
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
        MockEnvironment environment =
                new MockEnvironmentBuilder()
                        .setTaskName("reconcile")
                        .setManagedMemorySize(
                                backend.equals("rocksdb-harness-memory")
                                        ? HARNESS_MANAGED_MEMORY
                                        : SLOT_MANAGED_MEMORY)
                        .build();
        KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new ReconcilerOperator(
                                new Reconciler(
                                        new RunContext("bench", "bench", "bench"), settings)),
                        Reconciler::keyOf,
                        Types.STRING,
                        environment);
        if (backend.startsWith("rocksdb")) {
            EmbeddedRocksDBStateBackend rocksdb = new EmbeddedRocksDBStateBackend();
            if (backend.equals("rocksdb") || backend.equals("rocksdb-rocksdb-timers")) {
                rocksdb =
                        rocksdb.configure(
                                TidemarkJob.rocksDbSettings(), Harnesses.class.getClassLoader());
            }
            if (backend.equals("rocksdb-rocksdb-timers")) {
                rocksdb.setPriorityQueueStateType(
                        EmbeddedRocksDBStateBackend.PriorityQueueStateType.ROCKSDB);
            }
            harness.setStateBackend(rocksdb);
        } else {
            harness.setStateBackend(new HashMapStateBackend());
        }
        return harness;
    }
}
