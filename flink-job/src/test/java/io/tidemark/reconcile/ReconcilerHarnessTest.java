package io.tidemark.reconcile;

import static io.tidemark.reconcile.Changes.delete;
import static io.tidemark.reconcile.Changes.insert;
import static io.tidemark.reconcile.Changes.read;
import static io.tidemark.reconcile.Changes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.config.LatePolicy;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.runtime.RunContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.table.data.RowData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The reconciler operator with explicit watermarks, state, timers and snapshots. */
class ReconcilerHarnessTest {

    private static final RunContext RUN = new RunContext("run-test", "pipeline-test", "test");
    private static final Duration RETENTION = Duration.ofSeconds(60);

    private static ReconcileSettings settings(long emitDelayMillis, LatePolicy policy) {
        return new ReconcileSettings(
                Duration.ofMillis(emitDelayMillis),
                Duration.ofSeconds(1),
                RETENTION,
                Map.of(
                        Changes.TABLE,
                        new ReconcileSettings.TableRule(OrderingRule.commitOrder(), policy)));
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> harness(
            ReconcileSettings settings) throws Exception {
        return harness(settings, "heap");
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> harness(
            ReconcileSettings settings, String backend) throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> harness =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(new Reconciler(RUN, settings)),
                        Reconciler::keyOf,
                        Types.STRING);
        harness.setStateBackend(
                backend.equals("rocksdb")
                        ? new org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend()
                        : new org.apache.flink.runtime.state.hashmap.HashMapStateBackend());
        harness.setup();
        return harness;
    }

    // insert < update < delete by position; the duplicate replays the update
    private static final ChangeEvent INS = insert(1, "inserted", 10, 1_000);
    private static final ChangeEvent UPD = update(1, "updated", 20, 2_000);
    private static final ChangeEvent DEL = delete(1, 30, 3_000);
    private static final ChangeEvent DUP = update(1, "updated", 20, 2_000);

    static Stream<Arguments> pairs() {
        List<ChangeEvent> all = List.of(INS, UPD, DEL, DUP);
        List<String> names = List.of("insert", "update", "delete", "stale duplicate");
        List<Arguments> pairs = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            for (int j = i + 1; j < all.size(); j++) {
                for (long delay : new long[] {0, 5_000}) {
                    pairs.add(
                            Arguments.of(
                                    names.get(i) + " / " + names.get(j),
                                    all.get(i),
                                    all.get(j),
                                    delay));
                }
            }
        }
        return pairs.stream();
    }

    private static Map<List<Object>, Object> run(long emitDelay, ChangeEvent... changes)
            throws Exception {
        try (var harness = harness(settings(emitDelay, LatePolicy.APPLY_IF_NEWER))) {
            harness.open();
            for (ChangeEvent change : changes) {
                harness.processElement(new StreamRecord<>(change, change.sourceTimeMillis()));
            }
            harness.processWatermark(new Watermark(10_000));
            harness.setProcessingTime(Long.MAX_VALUE / 2);
            return Changes.materialize(harness.extractOutputValues());
        }
    }

    @ParameterizedTest(name = "{0}, emit delay {3} ms")
    @MethodSource("pairs")
    void bothOrdersOfEveryPairEndTheSame(String name, ChangeEvent a, ChangeEvent b, long emitDelay)
            throws Exception {
        ChangeEvent newer = b.position().commitLsn() >= a.position().commitLsn() ? b : a;
        Map<List<Object>, Object> expected = Changes.materialize(List.of(newer));

        assertThat(run(emitDelay, a, b)).as("in order").isEqualTo(expected);
        assertThat(run(emitDelay, b, a)).as("reversed").isEqualTo(expected);
    }

    @ParameterizedTest(name = "emit delay {0} ms")
    @ValueSource(longs = {0, 5_000})
    void aTruncateEmptiesTheTableInItsPlaceAndLeavesOlderChangesStale(long emitDelay)
            throws Exception {
        Map<List<Object>, Object> table =
                run(
                        emitDelay,
                        insert(1, "a", 10, 1_000),
                        update(1, "b", 20, 2_000),
                        // held when the truncate comes (emit delay): never emitted after it
                        insert(4, "held", 21, 2_100),
                        Changes.truncate(25, 2_500),
                        insert(2, "c", 30, 3_000),
                        // replayed or late, from before the truncate: stale
                        update(1, "late", 22, 2_200),
                        read(3, "snapshot row", 500),
                        // key 1's state is from before the truncate: a new insert is applied
                        insert(1, "again", 40, 4_000));

        assertThat(table)
                .containsOnly(
                        Map.entry(List.of((Object) 1L), "again"),
                        Map.entry(List.of((Object) 2L), "c"));
    }

    @Test
    void aChangeReadAgainThatTheTableHoldsIsNotAppliedAgain() throws Exception {
        ReconcileSettings base = settings(0, LatePolicy.APPLY_IF_NEWER);
        ReconcileSettings replaying =
                new ReconcileSettings(
                        base.emitDelay(),
                        base.allowedLateness(),
                        base.retention(),
                        base.tables(),
                        base.live(),
                        Map.of(
                                Changes.TABLE,
                                Map.of(
                                        ChangeEvent.DEFAULT_SOURCE,
                                        new ReplayFloor(
                                                new io.tidemark.decode.SourcePosition(20, 20, 20),
                                                5))));
        try (var harness = harness(replaying)) {
            harness.open();
            // a start without state reads the log again from before the table's newest commit
            harness.processElement(new StreamRecord<>(insert(1, "first", 10, 1_000), 1_000));
            harness.processElement(new StreamRecord<>(update(1, "older", 20, 2_000), 2_000));
            harness.processElement(new StreamRecord<>(delete(2, 15, 1_500), 1_500));
            assertThat(harness.extractOutputValues()).isEmpty();
            // after it: applied
            harness.processElement(new StreamRecord<>(update(1, "newer", 21, 2_100), 2_100));
            assertThat(Changes.materialize(harness.extractOutputValues()))
                    .containsOnly(Map.entry(List.of((Object) 1L), "newer"));
        }
    }

    @Test
    void whereATableWasTruncatedSurvivesARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness(settings(0, LatePolicy.APPLY_IF_NEWER))) {
            harness.open();
            harness.processElement(new StreamRecord<>(Changes.truncate(25, 2_500), 2_500));
            snapshot = harness.snapshot(1L, 1L);
        }
        try (var harness = harness(settings(0, LatePolicy.APPLY_IF_NEWER))) {
            harness.initializeState(snapshot);
            harness.open();
            harness.processElement(new StreamRecord<>(update(1, "late", 22, 2_200), 2_200));
            harness.processElement(new StreamRecord<>(insert(2, "new", 30, 3_000), 3_000));
            assertThat(Changes.materialize(harness.extractOutputValues()))
                    .containsOnly(Map.entry(List.of((Object) 2L), "new"));
        }
    }

    @ParameterizedTest(name = "emit delay {0} ms")
    @ValueSource(longs = {0, 5_000})
    void lateUpdateNeverResurrectsADeletedRow(long emitDelay) throws Exception {
        assertThat(run(emitDelay, INS, DEL, UPD, DUP)).isEmpty();
        assertThat(run(emitDelay, DEL, INS, UPD)).isEmpty();
        assertThat(run(emitDelay, DEL, insert(1, "re-created", 40, 4_000), UPD))
                .containsEntry(List.of((Object) 1L), "re-created");
    }

    @org.junit.jupiter.api.Test
    void emitDelayCollapsesChangesUntilTheWatermarkPassesThem() throws Exception {
        try (var harness = harness(settings(5_000, LatePolicy.APPLY_IF_NEWER))) {
            harness.open();
            harness.processElement(new StreamRecord<>(INS, 1_000));
            harness.processElement(new StreamRecord<>(UPD, 2_000));
            assertThat(harness.extractOutputValues()).isEmpty();

            harness.processWatermark(new Watermark(1_500));
            assertThat(harness.extractOutputValues()).isEmpty();

            harness.processWatermark(new Watermark(2_000));
            assertThat(harness.extractOutputValues()).containsExactly(UPD);
        }
    }

    @org.junit.jupiter.api.Test
    void stalledWatermarkStillEmitsAfterTheDelay() throws Exception {
        try (var harness = harness(settings(5_000, LatePolicy.APPLY_IF_NEWER))) {
            harness.open();
            harness.setProcessingTime(100);
            harness.processElement(new StreamRecord<>(UPD, 2_000));
            harness.setProcessingTime(5_099);
            assertThat(harness.extractOutputValues()).isEmpty();
            harness.setProcessingTime(5_100);
            assertThat(harness.extractOutputValues()).containsExactly(UPD);
        }
    }

    @ParameterizedTest(name = "{0} state, emit delay {1} ms")
    @org.junit.jupiter.params.provider.CsvSource({
        "heap, 0",
        "heap, 5000",
        "rocksdb, 0",
        "rocksdb, 5000"
    })
    void stateAndTimersReturnToZeroAfterRetention(String backend, long emitDelay) throws Exception {
        try (var harness = harness(settings(emitDelay, LatePolicy.APPLY_IF_NEWER), backend)) {
            harness.open();
            for (long id = 1; id <= 50; id++) {
                harness.processElement(new StreamRecord<>(insert(id, "a", 10 + id, 1_000 + id)));
                harness.processElement(new StreamRecord<>(delete(id, 100 + id, 2_000 + id)));
            }
            harness.processWatermark(new Watermark(3_000));
            assertThat(stateEntries(harness)).isPositive();

            // due at 2,000 + id + retention; the cleanup timers fire at most an eighth of the
            // retention later, one per key
            harness.processWatermark(new Watermark(2_050 + RETENTION.toMillis()));
            assertThat(harness.numEventTimeTimers()).isBetween(1, 50);
            harness.processWatermark(
                    new Watermark(
                            Reconciler.cleanupTimer(
                                    2_050 + RETENTION.toMillis(), RETENTION.toMillis())));
            harness.setProcessingTime(Long.MAX_VALUE / 2);

            assertThat(stateEntries(harness)).isZero();
            assertThat(harness.numEventTimeTimers()).isZero();
            assertThat(harness.numProcessingTimeTimers()).isZero();
            assertThat(Changes.materialize(harness.extractOutputValues())).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"heap", "rocksdb"})
    void aKeyChangedOftenKeepsOneCleanupTimerThatMovesWithIt(String backend) throws Exception {
        try (var harness = harness(settings(0, LatePolicy.APPLY_IF_NEWER), backend)) {
            harness.open();
            // event times 1,020 to 21,000: the key's cleanup time moves across three granules
            for (long n = 1; n <= 1_000; n++) {
                harness.processElement(
                        new StreamRecord<>(Changes.update(1, "v" + n, 10 + n, 1_000 + 20 * n)));
            }
            assertThat(harness.numEventTimeTimers()).isEqualTo(1);
            // the first timer (set for 61,020) fires before the key is due: set again, later
            long first =
                    Reconciler.cleanupTimer(1_020 + RETENTION.toMillis(), RETENTION.toMillis());
            long due = 21_000 + RETENTION.toMillis();
            harness.processWatermark(new Watermark(first));
            assertThat(stateEntries(harness)).isEqualTo(1);
            assertThat(harness.numEventTimeTimers()).isEqualTo(1);
            harness.processWatermark(new Watermark(due - 1));
            assertThat(stateEntries(harness)).isEqualTo(1);
            harness.processWatermark(
                    new Watermark(Reconciler.cleanupTimer(due, RETENTION.toMillis())));
            assertThat(stateEntries(harness)).isZero();
            assertThat(harness.numEventTimeTimers()).isZero();
        }
    }

    @org.junit.jupiter.api.Test
    void cleanupTimersAreRoundedUpToAnEighthOfTheRetention() {
        assertThat(Reconciler.cleanupTimer(62_001, 60_000)).isEqualTo(67_500);
        assertThat(Reconciler.cleanupTimer(67_500, 60_000)).isEqualTo(67_500);
        assertThat(Reconciler.cleanupTimer(-1, 60_000)).isZero();
        assertThat(Reconciler.cleanupTimer(Long.MAX_VALUE - 1, 60_000)).isEqualTo(Long.MAX_VALUE);
        assertThat(Reconciler.cleanupTimer(5, 0)).isEqualTo(5);
    }

    @org.junit.jupiter.api.Test
    void underCommitOrderASnapshotRowLeavesNoStateAndARereadReplacesIt() throws Exception {
        try (var harness = harness(settings(0, LatePolicy.APPLY_IF_NEWER))) {
            harness.open();
            ChangeEvent first = Changes.read(1, "read", 1_000);
            // the same chunk read again after a restore, at a newer point of the log
            ChangeEvent reread = Changes.read(1, "read again", 1_500);
            harness.processElement(new StreamRecord<>(first));
            harness.processElement(new StreamRecord<>(reread));
            assertThat(stateEntries(harness)).isZero();
            assertThat(harness.numEventTimeTimers()).isZero();

            // a log change applies and is remembered; a snapshot row after it is stale
            harness.processElement(new StreamRecord<>(UPD));
            harness.processElement(new StreamRecord<>(Changes.read(1, "too old", 2_500)));

            assertThat(harness.extractOutputValues()).containsExactly(first, reread, UPD);
            assertThat(stateEntries(harness)).isEqualTo(1);
        }
    }

    @org.junit.jupiter.api.Test
    void lateChangeUnderQuarantineGoesToTheLateOutput() throws Exception {
        try (var harness = harness(settings(0, LatePolicy.QUARANTINE))) {
            harness.open();
            harness.processElement(new StreamRecord<>(INS));
            harness.processWatermark(new Watermark(20_000));
            harness.processElement(new StreamRecord<>(UPD)); // event time 2,000: 18 s late

            assertThat(harness.extractOutputValues()).containsExactly(INS);
            var late = harness.getSideOutput(Reconciler.LATE);
            assertThat(late).hasSize(1);
            RowData row = late.peek().getValue();
            assertThat(row.getString(0).toString()).isEqualTo(Changes.TABLE);
            assertThat(row.getString(1).toString()).isEqualTo("[1]");
            assertThat(row.getString(2).toString()).isEqualTo("UPDATE");
            assertThat(row.getLong(5)).isEqualTo(18_000L);
            assertThat(row.getString(10).toString()).isEqualTo("run-test");
            assertThat(row.getString(12).toString()).contains("\"v\":\"updated\"");
        }
    }

    @org.junit.jupiter.api.Test
    void lateChangeUnderFailFailsNamingTableKeyAndLateness() throws Exception {
        try (var harness = harness(settings(0, LatePolicy.FAIL))) {
            harness.open();
            harness.processWatermark(new Watermark(20_000));
            assertThatThrownBy(() -> harness.processElement(new StreamRecord<>(UPD)))
                    .hasMessage(
                            "table 'public.t' key [1]: a UPDATE change is 18000 ms behind the watermark "
                                    + "(allowed lateness 1000 ms) and the table's late policy is 'fail'; raise "
                                    + "reconcile.allowed-lateness or choose late-policy apply-if-newer or quarantine");
        }
    }

    /** A scripted run of changes (value) and watermarks (Long). */
    private static final List<Object> SCRIPT =
            List.of(
                    insert(1, "a", 10, 1_000),
                    insert(2, "b", 11, 1_001),
                    update(1, "a2", 12, 1_500),
                    1_200L,
                    delete(2, 13, 1_600),
                    update(2, "ghost", 9, 900),
                    insert(3, "c", 14, 1_700),
                    2_000L,
                    update(3, "c2", 15, 2_500),
                    insert(2, "b again", 16, 2_600),
                    update(1, "a2", 12, 1_500),
                    3_000L,
                    delete(3, 17, 3_100),
                    100_000L);

    private static void play(
            KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> harness,
            List<Object> steps)
            throws Exception {
        for (Object step : steps) {
            if (step instanceof ChangeEvent) {
                harness.processElement(new StreamRecord<>((ChangeEvent) step));
            } else {
                harness.processWatermark(new Watermark((Long) step));
            }
        }
    }

    @ParameterizedTest(name = "{0} state, emit delay {1} ms")
    @org.junit.jupiter.params.provider.CsvSource({
        "heap, 0",
        "heap, 500",
        "rocksdb, 0",
        "rocksdb, 500"
    })
    void snapshotAndRestoreAtEveryStepGivesTheUninterruptedOutput(String backend, long emitDelay)
            throws Exception {
        List<ChangeEvent> uninterrupted;
        try (var harness = harness(settings(emitDelay, LatePolicy.APPLY_IF_NEWER), backend)) {
            harness.open();
            play(harness, SCRIPT);
            uninterrupted = harness.extractOutputValues();
        }
        assertThat(Changes.materialize(uninterrupted))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of(List.of((Object) 1L), "a2", List.of((Object) 2L), "b again"));

        for (int cut = 0; cut <= SCRIPT.size(); cut++) {
            List<ChangeEvent> output = new ArrayList<>();
            OperatorSubtaskState snapshot;
            try (var first = harness(settings(emitDelay, LatePolicy.APPLY_IF_NEWER), backend)) {
                first.open();
                play(first, SCRIPT.subList(0, cut));
                snapshot = first.snapshot(1L, 1L);
                output.addAll(first.extractOutputValues());
            }
            try (var second = harness(settings(emitDelay, LatePolicy.APPLY_IF_NEWER), backend)) {
                second.initializeState(snapshot);
                second.open();
                play(second, SCRIPT.subList(cut, SCRIPT.size()));
                output.addAll(second.extractOutputValues());
            }
            assertThat(output).as("restored after step %d", cut).isEqualTo(uninterrupted);
        }
    }

    /** Keys holding reconciler state, through the keyed state backend (heap or RocksDB). */
    private static long stateEntries(
            KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> harness) {
        var backend = harness.getOperator().getKeyedStateBackend();
        long entries = 0;
        for (String state : List.of(Reconciler.KEY_STATE.getName(), Reconciler.PENDING.getName())) {
            try (var keys =
                    backend.getKeys(state, org.apache.flink.runtime.state.VoidNamespace.INSTANCE)) {
                entries += keys.count();
            }
        }
        return entries;
    }
}
