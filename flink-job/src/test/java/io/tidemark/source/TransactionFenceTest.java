package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.GtidPosition;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * {@link TransactionFence} on its own: a transaction's changes pass on together (at the next
 * transaction's change, a snapshot row, or a barrier after a quiet pause), a barrier that comes
 * right after a change keeps them in state and a restore emits them first, the watermark never
 * passes a held change, and a transaction over the limit passes as it comes.
 */
class TransactionFenceTest {

    private static ChangeEvent change(long id, long tx, long lsn) {
        return new ChangeEvent(
                "public.t",
                Operation.UPDATE,
                List.of(id),
                null,
                Map.of("id", id),
                new SourcePosition(lsn, lsn, tx),
                1_000 + lsn);
    }

    private static ChangeEvent snapshotRow(long id) {
        return new ChangeEvent(
                "public.t",
                Operation.READ,
                List.of(id),
                null,
                Map.of("id", id),
                SourcePosition.NONE,
                0);
    }

    private static OneInputStreamOperatorTestHarness<ChangeEvent, ChangeEvent> harness(int max)
            throws Exception {
        OneInputStreamOperatorTestHarness<ChangeEvent, ChangeEvent> harness =
                new OneInputStreamOperatorTestHarness<>(new TransactionFence("source", max));
        harness.setup();
        return harness;
    }

    private static List<Long> ids(OneInputStreamOperatorTestHarness<ChangeEvent, ChangeEvent> h) {
        List<Long> ids = new ArrayList<>();
        for (ChangeEvent change : h.extractOutputValues()) {
            ids.add((Long) change.key().get(0));
        }
        return ids;
    }

    @Test
    void aTransactionPassesWhenTheNextOneBegins() throws Exception {
        try (var harness = harness(100)) {
            harness.open();
            harness.processElement(new StreamRecord<>(change(1, 7, 10)));
            harness.processElement(new StreamRecord<>(change(2, 7, 11)));
            assertThat(ids(harness)).isEmpty();
            harness.processElement(new StreamRecord<>(change(3, 8, 12)));
            assertThat(ids(harness)).containsExactly(1L, 2L);
            // a snapshot row passes at once, after what was held
            harness.processElement(new StreamRecord<>(snapshotRow(4)));
            assertThat(ids(harness)).containsExactly(1L, 2L, 3L, 4L);
        }
    }

    @Test
    void aBarrierLetsAQuietTransactionInAndKeepsOneThatMayGoOn() throws Exception {
        try (var harness = harness(100)) {
            harness.setProcessingTime(1_000);
            harness.open();
            harness.processElement(new StreamRecord<>(change(1, 7, 10)));
            harness.setProcessingTime(1_000 + TransactionFence.QUIET_MILLIS / 2);
            harness.processElement(new StreamRecord<>(change(2, 7, 11)));
            // a barrier right after a change: the transaction may go on, it stays held
            harness.setProcessingTime(1_000 + TransactionFence.QUIET_MILLIS);
            harness.prepareSnapshotPreBarrier(1);
            harness.snapshot(1, 1_000 + TransactionFence.QUIET_MILLIS);
            assertThat(ids(harness)).isEmpty();
            // quiet long enough before the next barrier: it goes in ahead of that barrier
            harness.setProcessingTime(1_000 + 2 * TransactionFence.QUIET_MILLIS);
            harness.prepareSnapshotPreBarrier(2);
            assertThat(ids(harness)).containsExactly(1L, 2L);
        }
    }

    @Test
    void theWatermarkWaitsForHeldChanges() throws Exception {
        try (var harness = harness(100)) {
            harness.open();
            harness.processElement(new StreamRecord<>(change(1, 7, 10)));
            harness.processWatermark(new Watermark(5_000));
            assertThat(harness.getOutput()).isEmpty();
            harness.processElement(new StreamRecord<>(change(2, 8, 11)));
            List<Object> out = new ArrayList<>(harness.getOutput());
            assertThat(out).hasSize(2);
            assertThat(out.get(0)).isInstanceOf(StreamRecord.class);
            assertThat(out.get(1)).isEqualTo(new Watermark(5_000));
        }
    }

    @Test
    void changesHeldAtABarrierAreEmittedFirstAfterARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness(100)) {
            harness.open();
            harness.processElement(new StreamRecord<>(change(1, 7, 10)));
            harness.processElement(new StreamRecord<>(change(2, 7, 11)));
            snapshot = harness.snapshot(1L, 1L);
            assertThat(ids(harness)).isEmpty();
        }
        try (var harness = harness(100)) {
            harness.initializeState(snapshot);
            harness.open();
            harness.processElement(new StreamRecord<>(change(3, 8, 12)));
            assertThat(ids(harness)).containsExactly(1L, 2L);
        }
        // restored, then more of their transaction, then nothing: the first quiet barrier lets
        // the whole of it in
        try (var harness = harness(100)) {
            harness.setProcessingTime(5_000);
            harness.initializeState(snapshot);
            harness.open();
            harness.processElement(new StreamRecord<>(change(9, 7, 12)));
            harness.prepareSnapshotPreBarrier(2);
            assertThat(ids(harness)).isEmpty();
            harness.setProcessingTime(5_000 + TransactionFence.QUIET_MILLIS);
            harness.prepareSnapshotPreBarrier(3);
            assertThat(ids(harness)).containsExactly(1L, 2L, 9L);
        }
    }

    @Test
    void aTransactionOverTheLimitPassesAsItComes() throws Exception {
        try (var harness = harness(2)) {
            harness.open();
            for (long id = 1; id <= 4; id++) {
                harness.processElement(new StreamRecord<>(change(id, 7, 10 + id)));
            }
            assertThat(ids(harness)).containsExactly(1L, 2L, 3L, 4L);
            // the next transaction is held again
            harness.processElement(new StreamRecord<>(change(5, 8, 20)));
            assertThat(ids(harness)).containsExactly(1L, 2L, 3L, 4L);
        }
    }

    @Test
    void theTransactionOfAChange() {
        assertThat(TransactionFence.transaction(change(1, 7, 10))).isEqualTo(7);
        assertThat(TransactionFence.transaction(snapshotRow(1))).isEqualTo(TransactionFence.NONE);
        assertThat(
                        TransactionFence.transaction(
                                new ChangeEvent(
                                        "db.t",
                                        Operation.INSERT,
                                        List.of(1L),
                                        null,
                                        Map.of("id", 1L),
                                        GtidPosition.of(
                                                "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-4",
                                                "3e11fa47-71ca-11e1-9e33-c80aa9429562:5",
                                                2,
                                                0),
                                        0)))
                .isEqualTo(
                        GtidPosition.of(
                                        "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-4",
                                        "3e11fa47-71ca-11e1-9e33-c80aa9429562:5",
                                        0,
                                        0)
                                .commitLsn());
        assertThat(
                        TransactionFence.transaction(
                                new ChangeEvent(
                                        "public.t",
                                        Operation.UPDATE,
                                        List.of(1L),
                                        null,
                                        Map.of("id", 1L),
                                        SourcePosition.resnapshot(10, 3),
                                        0)))
                .isEqualTo(TransactionFence.NONE);
    }

    @Test
    void theFenceRunsInItsSourcesTask() {
        org.apache.flink.streaming.api.environment.StreamExecutionEnvironment env =
                org.apache.flink.streaming.api.environment.StreamExecutionEnvironment
                        .getExecutionEnvironment();
        env.setParallelism(1);
        env.fromData(
                        List.<ChangeEvent>of(),
                        io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo.INSTANCE)
                .transform(
                        "fence",
                        io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo.INSTANCE,
                        new TransactionFence("source", 10))
                .sinkTo(new org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink<>());

        List<String> vertices = new ArrayList<>();
        for (org.apache.flink.runtime.jobgraph.JobVertex vertex :
                env.getStreamGraph().getJobGraph().getVertices()) {
            vertices.add(vertex.getName());
        }
        assertThat(vertices).anyMatch(name -> name.contains("fence") && name.contains("Source"));
    }
}
