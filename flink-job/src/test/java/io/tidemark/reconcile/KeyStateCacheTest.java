package io.tidemark.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.LatePolicy;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.runtime.RunContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The reconciler's key-state cache in front of RocksDB: least recently used keys leave it written
 * back, a barrier writes every change back, and the reconciler with a cache of two keys over more
 * keys, restored from a checkpoint taken anywhere, ends like applying the history in order.
 */
class KeyStateCacheTest {

    private static final RunContext RUN = new RunContext("run-cache", "pipeline-cache", "test");

    private static KeyState state(long lsn) {
        return new KeyState(new Sequence(0, lsn, lsn), false, lsn, lsn + 1_000);
    }

    @Test
    void theLeastRecentlyUsedKeysLeaveWrittenBackAndABarrierWritesEveryChange() throws Exception {
        Map<String, KeyState> backend = new HashMap<>();
        List<String> writes = new ArrayList<>();
        KeyStateCache cache =
                new KeyStateCache(
                        2,
                        (key, state) -> {
                            writes.add(key);
                            if (state == null) {
                                backend.remove(key);
                            } else {
                                backend.put(key, state);
                            }
                        });
        backend.put("a", state(1));
        assertThat(cache.get("a", () -> backend.get("a"))).isEqualTo(state(1));
        cache.put("b", state(2));
        cache.put("b", state(3));
        cache.put("c", state(4));
        cache.evictOverflow();
        // "a" was read, not changed: it leaves without a write
        assertThat(writes).isEmpty();
        assertThat(cache.size()).isEqualTo(2);

        cache.put("d", null);
        cache.evictOverflow();
        assertThat(writes).containsExactly("b");
        assertThat(backend).containsEntry("b", state(3));

        cache.flush();
        assertThat(writes).containsExactly("b", "c", "d");
        assertThat(backend).containsEntry("c", state(4)).doesNotContainKey("d");
        // written back, still cached: a read is not a backend read, a second flush writes nothing
        assertThat(cache.get("c", () -> null)).isEqualTo(state(4));
        cache.flush();
        assertThat(writes).hasSize(3);
    }

    @Provide
    Arbitrary<List<ReconcilerPropertiesTest.Step>> histories() {
        return Combinators.combine(
                        Arbitraries.longs().between(1, 6), Arbitraries.integers().between(0, 2))
                .as(ReconcilerPropertiesTest.Step::new)
                .list()
                .ofMinSize(1)
                .ofMaxSize(40);
    }

    @Test
    void readsAloneKeepTheCacheWithinItsCapacityAndWriteBackWhatLeaves() throws Exception {
        // a replay whose changes are all stale reads every key and writes none: the cache must
        // not grow with the keys it reads
        Map<String, KeyState> backend = new HashMap<>();
        List<String> writes = new ArrayList<>();
        KeyStateCache cache =
                new KeyStateCache(
                        2,
                        (key, state) -> {
                            writes.add(key);
                            backend.put(key, state);
                        });
        cache.put("a", state(1));
        cache.evictOverflow();
        for (int i = 0; i < 1_000; i++) {
            String key = "k" + i;
            backend.put(key, state(i));
            assertThat(cache.get(key, () -> backend.get(key))).isEqualTo(state(i));
            assertThat(cache.size()).isLessThanOrEqualTo(2);
        }
        // the changed key left with its change written back; the read-only ones were not written
        assertThat(writes).containsExactly("a");
        assertThat(backend.get("a")).isEqualTo(state(1));
    }

    @Property(tries = 60)
    void aCacheOfTwoKeysRestoredFromAnyCheckpointEndsLikeInOrder(
            @ForAll("histories") List<ReconcilerPropertiesTest.Step> history,
            @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 100) int checkpointAt)
            throws Exception {
        List<ChangeEvent> changes = ReconcilerPropertiesTest.changes(history);
        List<ChangeEvent> arrivals =
                ReconcilerPropertiesTest.deliver(
                        changes, seed, ReconcilerPropertiesTest.LATENESS, history.size() / 3 + 1);
        int cut = arrivals.size() * checkpointAt / 100;

        List<ChangeEvent> emitted = new ArrayList<>();
        OperatorSubtaskState checkpoint;
        long[] maxSeen = {Long.MIN_VALUE};
        try (var harness = harness()) {
            harness.open();
            deliver(harness, arrivals.subList(0, cut), maxSeen);
            // as Flink checkpoints: the barrier first, then the snapshot
            harness.prepareSnapshotPreBarrier(1);
            checkpoint = harness.snapshot(1, 1);
            emitted.addAll(harness.extractOutputValues());
            // the process fails here: what it emitted after the checkpoint is not kept
        }
        try (var harness = harness()) {
            harness.initializeState(checkpoint);
            harness.open();
            deliver(harness, arrivals.subList(cut, arrivals.size()), maxSeen);
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            emitted.addAll(harness.extractOutputValues());
            harness.prepareSnapshotPreBarrier(2);
            // every key's state cleared after retention, and written back
            try (var keys =
                    harness.getOperator()
                            .getKeyedStateBackend()
                            .getKeys(
                                    Reconciler.KEY_STATE.getName(),
                                    org.apache.flink.runtime.state.VoidNamespace.INSTANCE)) {
                assertThat(keys.count()).isZero();
            }
        }
        assertThat(Changes.materialize(emitted)).isEqualTo(Changes.materialize(changes));
    }

    private static void deliver(
            KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> harness,
            List<ChangeEvent> arrivals,
            long[] maxSeen)
            throws Exception {
        for (ChangeEvent change : arrivals) {
            harness.processElement(new StreamRecord<>(change, change.sourceTimeMillis()));
            maxSeen[0] = Math.max(maxSeen[0], change.sourceTimeMillis());
            harness.processWatermark(new Watermark(maxSeen[0] - 1));
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent>
            harness() throws Exception {
        ReconcileSettings settings =
                new ReconcileSettings(
                        Duration.ZERO,
                        Duration.ofMillis(ReconcilerPropertiesTest.LATENESS),
                        Duration.ofSeconds(1),
                        Map.of(
                                Changes.TABLE,
                                new ReconcileSettings.TableRule(
                                        OrderingRule.commitOrder(), LatePolicy.FAIL)));
        var harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new ReconcilerOperator(new Reconciler(RUN, settings), 2),
                        Reconciler::keyOf,
                        Types.STRING);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend());
        return harness;
    }
}
