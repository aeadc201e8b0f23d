package io.tidemark.reconcile;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.protocol.CommitMessage.Tally;
import io.tidemark.protocol.CommitMessageSerializer;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.runtime.state.heap.HeapKeyedStateBackend;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * Runs the {@link Reconciler} and, at every checkpoint barrier, tells the committer what this
 * subtask saw since the last one ({@link Tally} on {@link #TALLY}): changes in, stale and late per
 * table, the newest source position per source, and the watermark, through which every change has
 * been emitted. The reconciler's state is the function's; this operator adds none. On RocksDB it
 * puts a {@link KeyStateCache} in front of the function's key states and writes it back before
 * every barrier.
 */
public final class ReconcilerOperator
        extends KeyedProcessOperator<String, ChangeEvent, ChangeEvent> {

    private static final long serialVersionUID = 1L;

    /** The committer's side of the reconciler: serialized {@link Tally} messages. */
    public static final OutputTag<byte[]> TALLY =
            new OutputTag<>("tally", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    private transient long watermark;

    /**
     * Keys whose state a subtask keeps on the heap in front of RocksDB ({@link KeyStateCache}):
     * about 15 MiB of heap at most.
     */
    static final int CACHED_KEYS = 65_536;

    private final int cachedKeys;

    public ReconcilerOperator(Reconciler reconciler) {
        this(reconciler, CACHED_KEYS);
    }

    ReconcilerOperator(Reconciler reconciler, int cachedKeys) {
        super(reconciler);
        this.cachedKeys = cachedKeys;
    }

    @Override
    public void open() throws Exception {
        super.open();
        watermark = Long.MIN_VALUE;
        if (!(getKeyedStateBackend() instanceof HeapKeyedStateBackend)) {
            Reconciler reconciler = (Reconciler) getUserFunction();
            reconciler.cacheKeyStates(
                    cachedKeys,
                    (key, state) -> {
                        Object current = getCurrentKey();
                        setCurrentKey(key);
                        try {
                            reconciler.writeKeyState(state);
                        } finally {
                            if (current != null) {
                                setCurrentKey(current);
                            }
                        }
                    });
        }
    }

    @Override
    public void finish() throws Exception {
        ((Reconciler) getUserFunction()).flushKeyStates();
        super.finish();
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        // timers fire (and emit held changes) before the watermark moves on
        super.processWatermark(mark);
        watermark = Math.max(watermark, mark.getTimestamp());
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        // the key states cached since the last barrier are in the snapshot
        ((Reconciler) getUserFunction()).flushKeyStates();
        super.prepareSnapshotPreBarrier(checkpointId);
        CheckpointTally tally = ((Reconciler) getUserFunction()).tally();
        Tally message =
                new Tally(
                        checkpointId,
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                        watermark,
                        tally.drainCounts(),
                        tally.positions(),
                        tally.drainResnapshots());
        output.collect(TALLY, new StreamRecord<>(CommitMessageSerializer.serialize(message)));
    }
}
