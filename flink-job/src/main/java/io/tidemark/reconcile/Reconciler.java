package io.tidemark.reconcile;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.decode.Operation;
import io.tidemark.metrics.ReconcilerMetrics;
import io.tidemark.reconcile.ReconcileSettings.TableRule;
import io.tidemark.reconcile.Reconciliation.Decision;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.LateTable;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.typeutils.TupleTypeInfo;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.table.data.RowData;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keyed by (table, primary key): applies each key's changes in the table's declared order, whatever
 * order they arrive in, and emits one net change per key. The decisions are {@link
 * Reconciliation}'s; this class moves data in and out of state and timers.
 *
 * <ul>
 *   <li>applied change: emitted at once when {@code emitDelay} is 0; otherwise held as the key's
 *       pending net change (a newer change replaces it: "collapsed") and emitted when the watermark
 *       passes its event time, or after {@code emitDelay} of processing time if the watermark
 *       stalls;
 *   <li>stale change (not newer than the applied one, including replayed duplicates, and on a start
 *       without state that reads the log again, one its table's newest commit holds: {@link
 *       ReconcileSettings#committedBefore}): dropped;
 *   <li>late change: by the table's policy; {@code quarantine} goes to {@link #LATE};
 *   <li>cleanup: when the watermark passes the key's newest event time plus retention, its state
 *       (including a tombstone) is cleared, so state grows with change rate times retention. A
 *       key's cleanup timer is set when it gains state, rounded up to an eighth of the retention
 *       ({@link #cleanupTimer}), and when it fires before the key is due it is set again from the
 *       key's newer cleanup time: one timer per key and granule, not a timer deleted and set again
 *       on every change (the cost that dominated on RocksDB and showed on the heap);
 *   <li>truncate ({@link Operation#TRUNCATE}, one copy per subtask, see {@link KeyChangeSplitter}):
 *       emitted at once, for the writer to empty the table in its place; from then on a change of
 *       the table from before it in the source's order (a snapshot row, a held change, a replayed
 *       one) is stale, and a key's state from before it counts as no state. Where each table was
 *       last truncated is kept in operator state ({@link Truncates#STATE}).
 * </ul>
 */
public final class Reconciler extends KeyedProcessFunction<String, ChangeEvent, ChangeEvent>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

    /** Last applied sequence, tombstone and cleanup time of the key: the ordering memory. */
    static final ValueStateDescriptor<KeyState> KEY_STATE =
            new ValueStateDescriptor<>("reconcile-key", KeyStateSerializer.INSTANCE);

    /** The key's net change not yet emitted (only when emitDelay > 0). */
    static final ValueStateDescriptor<ChangeEvent> PENDING =
            new ValueStateDescriptor<>("reconcile-pending", ChangeEventTypeInfo.INSTANCE);

    /** Late changes under the {@code quarantine} policy, as rows of the table's late table. */
    public static final OutputTag<RowData> LATE = new OutputTag<>("late", LateTable.TYPE_INFO);

    /**
     * Every applied change of a table that keeps a history ({@code history: scd2}) with its event
     * time, when it is applied (before an emit delay collapses it), and each truncate of such a
     * table: the versions {@code io.tidemark.commit.HistoryWriter} writes.
     */
    public static final OutputTag<Tuple2<Long, ChangeEvent>> HISTORY =
            new OutputTag<>(
                    "history",
                    new TupleTypeInfo<>(
                            org.apache.flink.api.common.typeinfo.Types.LONG,
                            ChangeEventTypeInfo.INSTANCE));

    private final RunContext run;
    private final ReconcileSettings settings;

    /** The source tables whose applied changes go to {@link #HISTORY}. */
    private Set<String> history = Set.of();

    private transient ValueState<KeyState> keyState;

    /** {@link #keyState} of recent keys when the backend is RocksDB, or null. */
    private transient KeyStateCache cache;

    private transient ValueState<ChangeEvent> pending;
    private transient Map<String, ReconcilerMetrics> metrics;

    /** Each table's rule, looked up once (a table created while running derives its rule). */
    private transient Map<String, TableRule> rules;

    /** Where each table was last truncated. */
    private transient Truncates truncates;

    private transient ListState<String> truncatesState;

    private transient long emitDelay;
    private transient long allowedLateness;
    private transient long retention;
    private transient CheckpointTally tally;

    public Reconciler(RunContext run, ReconcileSettings settings) {
        this.run = run;
        this.settings = settings;
    }

    /** This reconciler, sending the applied changes of {@code tables} to {@link #HISTORY}. */
    public Reconciler withHistory(Set<String> tables) {
        this.history = Set.copyOf(tables);
        return this;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        truncatesState = context.getOperatorStateStore().getUnionListState(Truncates.STATE);
        truncates = Truncates.read(truncatesState.get());
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        truncatesState.update(truncates.write());
    }

    @Override
    public void open(OpenContext openContext) {
        run.enterLogContext();
        keyState = getRuntimeContext().getState(KEY_STATE);
        pending = getRuntimeContext().getState(PENDING);
        metrics = new HashMap<>();
        rules = new HashMap<>();
        for (String table : settings.tables().keySet()) {
            metrics.put(table, new ReconcilerMetrics(getRuntimeContext(), table));
        }
        emitDelay = settings.emitDelay().toMillis();
        allowedLateness = settings.allowedLateness().toMillis();
        retention = settings.retention().toMillis();
        tally = new CheckpointTally();
    }

    /**
     * The metrics of {@code table}; registered on first sight for a table created while running.
     */
    private ReconcilerMetrics metrics(String table) {
        ReconcilerMetrics m = metrics.get(table);
        if (m == null) {
            m = new ReconcilerMetrics(getRuntimeContext(), table);
            metrics.put(table, m);
        }
        return m;
    }

    /** What this subtask saw since the last checkpoint barrier, for the committer. */
    CheckpointTally tally() {
        return tally;
    }

    @Override
    public void processElement(ChangeEvent change, Context ctx, Collector<ChangeEvent> out)
            throws Exception {
        TableRule rule = rules.computeIfAbsent(change.table(), settings::rule);
        ReconcilerMetrics m = metrics(change.table());
        tally.in(change);
        if (settings.committedBefore(change)) {
            // read again from the log, and in the table already (a fresh start from a slot)
            m.staleDropped.inc();
            tally.stale(change.table());
            return;
        }
        if (change.operation() == Operation.TRUNCATE) {
            truncates.truncated(change);
            if (history.contains(change.table())) {
                ctx.output(HISTORY, Tuple2.of(OrderingRule.NO_EVENT_TIME, change));
            }
            out.collect(change);
            return;
        }
        // one lookup per change: most tables were never truncated
        long[] truncate = truncates.at(change.table());
        if (Truncates.isBefore(change, truncate)) {
            m.staleDropped.inc();
            tally.stale(change.table());
            return;
        }
        String key = ctx.getCurrentKey();
        KeyState stored = cache == null ? keyState.value() : cache.get(key, keyState::value);
        // state from before the table's truncate orders nothing: the row it describes is gone
        KeyState before =
                stored != null
                                && truncate != null
                                && stored.applied().isBefore(truncate[0], truncate[1])
                        ? null
                        : stored;
        long eventTime = rule.ordering().eventTimeMillis(change, before);
        long watermark = ctx.timerService().currentWatermark();
        Decision decision =
                Reconciliation.decide(
                        before,
                        change,
                        rule.ordering().sequence(change, before),
                        eventTime,
                        watermark,
                        allowedLateness,
                        retention,
                        rule.latePolicy());
        if (!applies(decision, change, eventTime, watermark, m, ctx)) {
            return;
        }
        if (history.contains(change.table())) {
            ctx.output(HISTORY, Tuple2.of(eventTime, change));
        }
        if (change.operation() == Operation.READ && !rule.ordering().snapshotRowsKeepState()) {
            // nothing to remember (see OrderingRule#snapshotRowsKeepState): no state, no timer
            out.collect(change);
            return;
        }
        remember(key, stored, decision.next(), m, ctx);
        emit(change, eventTime, m, ctx, out);
    }

    /**
     * Whether the change {@code decision} is about applies; a stale change is counted and dropped,
     * a late one quarantined (its table's late table) or, under {@code late-policy: fail}, the job
     * stopped.
     */
    private boolean applies(
            Decision decision,
            ChangeEvent change,
            long eventTime,
            long watermark,
            ReconcilerMetrics m,
            Context ctx) {
        switch (decision.verdict()) {
            case STALE:
                m.staleDropped.inc();
                tally.stale(change.table());
                return false;
            case QUARANTINE_LATE:
                m.lateQuarantined.inc();
                tally.late(change.table());
                ctx.output(LATE, LateTable.row(change, eventTime, watermark, run.runId()));
                return false;
            case FAIL_LATE:
                throw new LateChangeException(
                        String.format(
                                "table '%s' key %s: a %s change is %d ms behind the watermark (allowed lateness %d ms) "
                                        + "and the table's late policy is 'fail'; raise reconcile.allowed-lateness or "
                                        + "choose late-policy apply-if-newer or quarantine",
                                change.table(),
                                change.key(),
                                change.operation(),
                                watermark - eventTime,
                                allowedLateness));
            case APPLY:
            default:
                break;
        }
        if (decision.late()) {
            m.lateApplied.inc();
            tally.late(change.table());
        }
        m.applied.inc();
        return true;
    }

    /**
     * Keeps {@code next} as the key's state (the cache's, on RocksDB), counting state entries and
     * tombstones; a key that had no state gets its cleanup timer.
     */
    private void remember(
            String key, KeyState stored, KeyState next, ReconcilerMetrics m, Context ctx)
            throws Exception {
        if (stored == null) {
            m.stateEntries.inc();
        }
        if (next.tombstone() && (stored == null || !stored.tombstone())) {
            m.tombstones.inc();
        } else if (!next.tombstone() && stored != null && stored.tombstone()) {
            m.tombstones.dec();
        }
        if (cache == null) {
            keyState.update(next);
        } else {
            cache.put(key, next);
            cache.evictOverflow();
        }
        if (stored == null) {
            // a key with state has its cleanup timer already, which sets itself again (onTimer)
            ctx.timerService().registerEventTimeTimer(cleanupTimer(next.cleanupAt(), retention));
        }
    }

    /**
     * Emits an applied change: at once without an emit delay (and for a snapshot row, applied only
     * to a key without state, so nothing is pending), else as the key's pending change, which a
     * later change of the key replaces (collapsed) until its timer fires.
     */
    private void emit(
            ChangeEvent change,
            long eventTime,
            ReconcilerMetrics m,
            Context ctx,
            Collector<ChangeEvent> out)
            throws Exception {
        if (emitDelay == 0 || change.operation() == Operation.READ) {
            // a snapshot row is only ever applied to a key without state, so nothing is pending
            out.collect(change);
            return;
        }
        if (pending.value() != null) {
            m.collapsed.inc();
        } else {
            long processingDeadline = ctx.timerService().currentProcessingTime() + emitDelay;
            ctx.timerService().registerProcessingTimeTimer(processingDeadline);
        }
        pending.update(change);
        if (eventTime != OrderingRule.NO_EVENT_TIME) {
            ctx.timerService().registerEventTimeTimer(eventTime);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ChangeEvent> out)
            throws Exception {
        ChangeEvent held = pending.value();
        if (held != null && Truncates.isBefore(held, truncates.at(held.table()))) {
            // its table was truncated after it: the writer must not see it after the truncate
            pending.clear();
            metrics(held.table()).staleDropped.inc();
            held = null;
        }
        // emit once the watermark passes the held change itself (not an older change it replaced),
        // or when the processing-time bound is reached
        if (held != null
                && (ctx.timeDomain() == TimeDomain.PROCESSING_TIME
                        || timestamp
                                >= rules.computeIfAbsent(held.table(), settings::rule)
                                        .ordering()
                                        .eventTimeMillis(
                                                held,
                                                cache == null
                                                        ? keyState.value()
                                                        : cache.get(
                                                                ctx.getCurrentKey(),
                                                                keyState::value)))) {
            out.collect(held);
            pending.clear();
        }
        if (ctx.timeDomain() != TimeDomain.EVENT_TIME) {
            return;
        }
        String key = ctx.getCurrentKey();
        KeyState state = cache == null ? keyState.value() : cache.get(key, keyState::value);
        if (state != null && timestamp < state.cleanupAt()) {
            // changed since the timer was set: due later (the same time again is a no-op)
            ctx.timerService().registerEventTimeTimer(cleanupTimer(state.cleanupAt(), retention));
        } else if (state != null) {
            String table = tableOf(ctx.getCurrentKey());
            ReconcilerMetrics m = metrics(table);
            if (m != null) {
                m.stateEntries.dec();
                if (state.tombstone()) {
                    m.tombstones.dec();
                }
            }
            if (cache == null) {
                keyState.clear();
            } else {
                cache.put(key, null);
            }
        }
        if (cache != null) {
            cache.evictOverflow();
        }
    }

    /**
     * Reads and writes key states through a {@link KeyStateCache} of {@code capacity} keys; {@code
     * writer} writes one back under its key (the operator switches the current key).
     */
    void cacheKeyStates(int capacity, KeyStateCache.Writer writer) {
        cache = new KeyStateCache(capacity, writer);
    }

    /** Writes every cached change back to the state backend (before a checkpoint's barrier). */
    void flushKeyStates() throws Exception {
        if (cache != null) {
            cache.flush();
        }
    }

    /** Writes {@code state} ({@code null}: clears it) as the current key's, for the cache. */
    void writeKeyState(KeyState state) throws java.io.IOException {
        if (state == null) {
            keyState.clear();
        } else {
            keyState.update(state);
        }
    }

    /**
     * When the cleanup timer of a key due at {@code cleanupAt} fires: rounded up to a multiple of
     * an eighth of {@code retention} (a key's state lives at most that much longer), so that the
     * timer of a key changed often moves once per granule.
     */
    static long cleanupTimer(long cleanupAt, long retention) {
        long granule = Math.max(1, retention / 8);
        long past = Math.floorMod(cleanupAt, granule);
        if (past == 0) {
            return cleanupAt;
        }
        return cleanupAt > Long.MAX_VALUE - granule ? Long.MAX_VALUE : cleanupAt + granule - past;
    }

    /** The table part of a reconciler key ({@code table NUL key}). */
    static String tableOf(String key) {
        int sep = key.indexOf(KEY_SEPARATOR);
        return sep < 0 ? key : key.substring(0, sep);
    }

    static final char KEY_SEPARATOR = '\u0000';

    /**
     * The reconciler's key of a change: its table and primary key values. The same on every JVM and
     * every run (it routes changes and names state): decimals by their value, binary keys in hex.
     */
    public static String keyOf(ChangeEvent change) {
        StringBuilder key = new StringBuilder(change.table()).append(KEY_SEPARATOR);
        for (Object value : change.key()) {
            if (value instanceof java.math.BigDecimal) {
                key.append(((java.math.BigDecimal) value).stripTrailingZeros().toPlainString());
            } else if (value instanceof byte[]) {
                key.append("0x").append(HexFormat.of().formatHex((byte[]) value));
            } else {
                key.append(value);
            }
            key.append(KEY_SEPARATOR);
        }
        return key.toString();
    }

    /** The job fails on a late change under the {@code fail} policy. */
    public static final class LateChangeException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LateChangeException(String message) {
            super(message);
            LOG.error(message);
        }
    }
}
