package io.tidemark.source;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.decode.GtidPosition;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Right after a CDC source: a source transaction's changes pass on together, so that no checkpoint
 * barrier falls between them and the transaction lands in one commit of each table (a reader never
 * sees a transfer's debit without its credit, or a row deleted and inserted again missing).
 *
 * <p>The changes of the open transaction ({@link #transaction}: Postgres' transaction id, a MySQL
 * transaction's GTID or the binlog place of its first event) are held until a change of another
 * transaction or one without a transaction (a snapshot row) shows it ended. Only a barrier can part
 * a transaction, so the held changes go out before a barrier only when no change came for {@link
 * #QUIET_MILLIS} (the log sends a transaction whole, so such a pause falls between transactions);
 * otherwise the barrier stores them in this operator's state, the source's offset in the same
 * checkpoint being past them, and they go out after it (after a restore, first). Holding costs no
 * freshness: a commit happens only at a checkpoint, and a held transaction that is quiet by then is
 * in it. The watermark is held with them (a held change is never behind it). A transaction of more
 * than {@code maxChanges} changes is let through as it comes, beyond that bound: it may span
 * commits ({@code tidemark_source_transactionsOverLimit} counts them).
 */
public final class TransactionFence extends AbstractStreamOperator<ChangeEvent>
        implements OneInputStreamOperator<ChangeEvent, ChangeEvent> {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(TransactionFence.class);

    /** No change for this long before a barrier: the held transaction is whole, it goes in. */
    static final long QUIET_MILLIS = 500;

    /** No transaction: the change passes at once. */
    static final long NONE = Long.MIN_VALUE;

    static final ListStateDescriptor<ChangeEvent> HELD =
            new ListStateDescriptor<>("transaction-fence-held", ChangeEventTypeInfo.INSTANCE);

    private final String sourceId;
    private final int maxChanges;

    private transient List<StreamRecord<ChangeEvent>> held;
    private transient long heldTransaction;

    /** A transaction over the limit, passing as it comes; {@link #NONE} if none. */
    private transient long passing;

    private transient Watermark heldWatermark;
    private transient long lastArrival;
    private transient ListState<ChangeEvent> heldState;
    private transient Counter overLimit;

    /**
     * The fence of source {@code sourceId}; {@code maxChanges}: the most changes of one transaction
     * held (at least 1).
     */
    public TransactionFence(String sourceId, int maxChanges) {
        if (maxChanges < 1) {
            throw new IllegalArgumentException("maxChanges " + maxChanges);
        }
        this.sourceId = sourceId;
        this.maxChanges = maxChanges;
        // chained to its source (an operator is a chain's head by default): each change passed on
        // by a method call, not serialized to another task and read back
        setChainingStrategy(ChainingStrategy.ALWAYS);
    }

    /** The transaction {@code change} belongs to, or {@link #NONE}. */
    static long transaction(ChangeEvent change) {
        if (change.operation() == Operation.READ) {
            return NONE;
        }
        SourcePosition position = change.position();
        if (position.isResnapshot()) {
            return NONE;
        }
        if (GtidPosition.isGtid(position)) {
            return position.commitLsn();
        }
        return position.txId() == SourcePosition.UNKNOWN ? NONE : position.txId();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        heldState = context.getOperatorStateStore().getListState(HELD);
        held = new ArrayList<>();
        heldTransaction = NONE;
        passing = NONE;
        for (ChangeEvent change : heldState.get()) {
            // stored at a barrier: the rest of their transaction, if any, comes from the source
            held.add(new StreamRecord<>(change));
            heldTransaction = transaction(change);
        }
        lastArrival = getProcessingTimeService().getCurrentProcessingTime();
    }

    @Override
    public void open() throws Exception {
        super.open();
        overLimit =
                getMetricGroup()
                        .addGroup("tidemark")
                        .addGroup("source", sourceId)
                        .counter("transactionsOverLimit");
    }

    @Override
    public void processElement(StreamRecord<ChangeEvent> element) throws Exception {
        long transaction = transaction(element.getValue());
        if (transaction != passing) {
            passing = NONE;
        }
        if (transaction == NONE || transaction == passing) {
            release();
            output.collect(element);
            return;
        }
        if (transaction != heldTransaction) {
            release();
            heldTransaction = transaction;
        }
        if (held.size() >= maxChanges) {
            LOG.warn(
                    "Source '{}': a transaction ({}, table {}) has more than {} changes: the rest"
                            + " of it passes as it comes and may span commits; raise"
                            + " reconcile.transaction-max-changes to keep such transactions whole",
                    sourceId,
                    element.getValue().position(),
                    element.getValue().table(),
                    maxChanges);
            overLimit.inc();
            release();
            passing = transaction;
            output.collect(element);
            return;
        }
        held.add(element);
        lastArrival = getProcessingTimeService().getCurrentProcessingTime();
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        if (!held.isEmpty()
                && getProcessingTimeService().getCurrentProcessingTime() - lastArrival
                        >= QUIET_MILLIS) {
            // quiet: the transaction is whole, it goes into this checkpoint
            release();
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (held.isEmpty()) {
            super.processWatermark(mark);
        } else {
            heldWatermark = mark;
        }
    }

    /** Emits the held changes, then the watermark held with them. */
    private void release() throws Exception {
        for (StreamRecord<ChangeEvent> change : held) {
            output.collect(change);
        }
        held.clear();
        heldTransaction = NONE;
        if (heldWatermark != null) {
            Watermark mark = heldWatermark;
            heldWatermark = null;
            super.processWatermark(mark);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<ChangeEvent> changes = new ArrayList<>(held.size());
        for (StreamRecord<ChangeEvent> change : held) {
            changes.add(change.getValue());
        }
        heldState.update(changes);
    }

    @Override
    public void finish() throws Exception {
        release();
        super.finish();
    }
}
