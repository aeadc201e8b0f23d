package io.tidemark.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.LatePolicy;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.runtime.RunContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

/**
 * Random change histories over a few keys, delivered in any order whose disorder stays within the
 * allowed lateness, with random duplicates, through the real operator: the result must equal
 * applying the history in order. jqwik prints the seed of a failing try.
 */
class ReconcilerPropertiesTest {

    static final long LATENESS = 50;
    private static final RunContext RUN = new RunContext("run-prop", "pipeline-prop", "test");

    /** One step of a history: which key, and insert (0), update (1) or delete (2). */
    record Step(long key, int kind) {}

    @Provide
    Arbitrary<List<Step>> histories() {
        Arbitrary<Step> step =
                Combinators.combine(
                                Arbitraries.longs().between(1, 3),
                                Arbitraries.integers().between(0, 2))
                        .as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(40);
    }

    static List<ChangeEvent> changes(List<Step> history) {
        List<ChangeEvent> changes = new ArrayList<>();
        for (int i = 0; i < history.size(); i++) {
            Step step = history.get(i);
            long lsn = 100 + i;
            long ts = 1_000 + 10L * i;
            Operation op =
                    step.kind() == 0
                            ? Operation.INSERT
                            : step.kind() == 1 ? Operation.UPDATE : Operation.DELETE;
            changes.add(Changes.change(op, step.key(), "v" + i, lsn, ts));
        }
        return changes;
    }

    /**
     * Delivery order: each copy arrives at its event time plus a delay of at most {@code maxDelay}.
     */
    static List<ChangeEvent> deliver(
            List<ChangeEvent> changes, long seed, long maxDelay, int duplicates) {
        Random random = new Random(seed);
        record Arrival(ChangeEvent change, long at, int tie) {}
        List<Arrival> arrivals = new ArrayList<>();
        for (ChangeEvent change : changes) {
            arrivals.add(
                    new Arrival(
                            change,
                            change.sourceTimeMillis() + (long) (random.nextDouble() * maxDelay),
                            random.nextInt()));
        }
        for (int i = 0; i < duplicates; i++) {
            ChangeEvent copy = changes.get(random.nextInt(changes.size()));
            arrivals.add(
                    new Arrival(
                            copy,
                            copy.sourceTimeMillis() + (long) (random.nextDouble() * maxDelay),
                            random.nextInt()));
        }
        arrivals.sort(Comparator.comparingLong(Arrival::at).thenComparingInt(Arrival::tie));
        return arrivals.stream().map(Arrival::change).toList();
    }

    private static Map<List<Object>, Object> reconcile(
            List<ChangeEvent> arrivals, long emitDelay, LatePolicy policy, Duration retention)
            throws Exception {
        ReconcileSettings settings =
                new ReconcileSettings(
                        Duration.ofMillis(emitDelay),
                        Duration.ofMillis(LATENESS),
                        retention,
                        Map.of(
                                Changes.TABLE,
                                new ReconcileSettings.TableRule(
                                        OrderingRule.commitOrder(), policy)));
        try (var harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(new Reconciler(RUN, settings)),
                        Reconciler::keyOf,
                        Types.STRING)) {
            harness.open();
            long maxSeen = Long.MIN_VALUE;
            for (ChangeEvent change : arrivals) {
                harness.processElement(new StreamRecord<>(change, change.sourceTimeMillis()));
                maxSeen = Math.max(maxSeen, change.sourceTimeMillis());
                // what the source's bounded-out-of-orderness generator would emit
                harness.processWatermark(new Watermark(maxSeen - emitDelay - 1));
            }
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            harness.setProcessingTime(Long.MAX_VALUE / 2);
            assertThat(harness.numKeyedStateEntries()).isZero();
            return Changes.materialize(harness.extractOutputValues());
        }
    }

    @Property(tries = 1000)
    void boundedDisorderWithDuplicatesEndsLikeInOrder(
            @ForAll("histories") List<Step> history,
            @ForAll long seed,
            @ForAll boolean delayedEmission)
            throws Exception {
        List<ChangeEvent> changes = changes(history);
        Map<List<Object>, Object> expected = Changes.materialize(changes);
        long emitDelay = delayedEmission ? 20 : 0;
        // disorder within the allowed lateness: the 'fail' policy proves no change was late
        List<ChangeEvent> arrivals = deliver(changes, seed, LATENESS, history.size() / 3 + 1);

        assertThat(reconcile(arrivals, emitDelay, LatePolicy.FAIL, Duration.ofHours(1)))
                .isEqualTo(expected);
    }

    @Property(tries = 1000)
    void lateDeletesNeverResurrect(@ForAll("histories") List<Step> history, @ForAll long seed)
            throws Exception {
        List<ChangeEvent> changes = new ArrayList<>(changes(history));
        long last = changes.size();
        changes.add(Changes.delete(1, 100 + last, 1_000 + 10 * last)); // key 1 ends deleted
        // disorder far beyond the allowed lateness but within retention, under apply-if-newer
        List<ChangeEvent> arrivals = deliver(changes, seed, 10 * LATENESS, 3);

        Map<List<Object>, Object> result =
                reconcile(arrivals, 0, LatePolicy.APPLY_IF_NEWER, Duration.ofHours(1));

        assertThat(result).doesNotContainKey(List.of((Object) 1L));
        assertThat(result).isEqualTo(Changes.materialize(changes));
    }
}
