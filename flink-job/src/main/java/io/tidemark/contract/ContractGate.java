package io.tidemark.contract;

import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.Contract.Checked;
import io.tidemark.catalog.contract.QualityCheck;
import io.tidemark.catalog.contract.ReasonCode;
import io.tidemark.catalog.contract.Violation;
import io.tidemark.config.TruncatePolicy;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.protocol.CommitMessage.GateCounts;
import io.tidemark.protocol.CommitMessage.GateTally;
import io.tidemark.reconcile.KeyChangeSplitter;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.source.ColumnDefaults;
import io.tidemark.source.LiveTables;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.table.data.RowData;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks every change against its table's contract before the reconciler. A passing change goes on
 * with its values coerced to the contract's types; a failing one goes to {@link #QUARANTINE} as a
 * {@link QuarantineTable} row with every reason that applies, and never stops the job. Tables
 * without a contract pass unchecked.
 *
 * <p>Inserts, updates and snapshot reads are checked on their after image; deletes on their key.
 * Payloads are never logged: log lines and reasons name the table, column and rule only.
 *
 * <p>A {@link Operation#MALFORMED} change (undecodable, or for a table the pipeline does not
 * capture) is quarantined with its decoder's reason. Under {@code schema-evolution: evolve} drift
 * the writers can apply passes ({@link DriftRules#lift}). At every barrier the gate tells the
 * committer what it saw ({@link #TALLY}), which checks that nothing was lost on the way.
 *
 * <p>Metrics per table under {@code tidemark.gate.table.<t>}: {@code passed}, {@code quarantined},
 * and {@code reason.<REASON>.quarantined} for each reason seen (table and reason as labels: {@link
 * GateMetrics}).
 */
public final class ContractGate extends ProcessFunction<ChangeEvent, ChangeEvent>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(ContractGate.class);

    public static final OutputTag<RowData> QUARANTINE =
            new OutputTag<>("tidemark-quarantine", QuarantineTable.TYPE_INFO);

    /** The committer's side of the gate: serialized {@link GateTally} messages. */
    public static final OutputTag<byte[]> TALLY =
            new OutputTag<>(
                    "tidemark-gate-tally", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    private final RunContext run;

    /** Source table to its active contract. */
    private final Map<String, Contract> contracts;

    /**
     * Tables without a contract: their Iceberg table's columns and key, as a contract under the
     * pipeline's (or the table entry's) {@code schema-evolution}; see {@link #implicit}.
     */
    private final Map<String, Contract> implicitContracts;

    /** The implicit contracts of the tables without one, and what their changes taught. */
    private transient ImplicitContracts implicits;

    /** Counts what the passing changes become for the reconciler. */
    private final KeyChangeSplitter splitter;

    private transient GateMetrics metrics;
    private transient Set<String> logged;

    /** This checkpoint's in, passed, quarantined, forwarded per source table, for the committer. */
    private transient Map<String, long[]> tallies;

    /** This checkpoint's counts per table with a contract, and the windows of the last ones. */
    private transient QualityWindows windows;

    /** The data-quality windows of every subtask, one element each ({@link #WINDOWS}). */
    private transient ListState<byte[]> windowsState;

    /** Windows restored for this subtask, applied in {@link #open}. */
    private transient byte[] restoredWindows;

    /**
     * Union state: each subtask keeps its data-quality windows as one element, so a restart
     * continues them; a subtask takes its own element back when the parallelism is unchanged (a
     * rescaled job starts its windows empty).
     */
    static final ListStateDescriptor<byte[]> WINDOWS =
            new ListStateDescriptor<>(
                    "tidemark-gate-windows", BytePrimitiveArraySerializer.INSTANCE);

    /**
     * @param contracts source table to its active contract
     * @param primaryKeys every source table of the pipeline to its key columns
     */
    public ContractGate(
            RunContext run,
            Map<String, Contract> contracts,
            Map<String, List<String>> primaryKeys) {
        this(
                run,
                contracts,
                Map.of(),
                new KeyChangeSplitter(primaryKeys, LiveTables.NONE),
                Map.of(),
                Map.of(),
                LiveTables.NONE,
                ColumnDefaults.NONE);
    }

    /**
     * @param implicitContracts tables without a contract: their Iceberg table as one
     * @param splitter what the passing changes become for the reconciler (counted here)
     * @param truncatePolicies source table to its {@code truncate} policy ({@code apply} if absent)
     * @param orderingColumns source table to the column its {@code event-time} ordering reads: a
     *     change without it is quarantined here (the reconciler could not place it), and a delete
     *     keeps it
     * @param live tables created while the job runs: their pattern's policy
     * @param columnDefaults asked before a column the source added is let through: one added with a
     *     default holds it in the source's existing rows, which the target cannot give them
     */
    public ContractGate(
            RunContext run,
            Map<String, Contract> contracts,
            Map<String, Contract> implicitContracts,
            KeyChangeSplitter splitter,
            Map<String, TruncatePolicy> truncatePolicies,
            Map<String, String> orderingColumns,
            LiveTables live,
            ColumnDefaults.Lookup columnDefaults) {
        this.run = run;
        this.contracts = Map.copyOf(contracts);
        this.implicitContracts = Map.copyOf(implicitContracts);
        this.splitter = splitter;
        this.truncates = new TruncateRules(truncatePolicies, live, columnDefaults);
        this.orderingColumns = Map.copyOf(orderingColumns);
        this.live = live;
        this.drift = new DriftRules(contracts.keySet(), orderingColumns, columnDefaults);
    }

    /** Schema drift under each table's {@code schema-evolution}. */
    private final DriftRules drift;

    /** What a source {@code TRUNCATE} does. */
    private final TruncateRules truncates;

    /** Source table to the column its {@code event-time} ordering reads. */
    private final Map<String, String> orderingColumns;

    private final LiveTables live;

    /** A truncate not applied: counted and kept in the table's quarantine with {@code why}. */
    private void holdTruncate(ChangeEvent change, String why, long[] tally, Context ctx) {
        tally[2]++;
        quarantine(change.table(), List.of(ReasonCode.TRUNCATE.name()));
        ChangeEvent held =
                ChangeEvent.malformed(
                        change.source(),
                        change.table(),
                        ReasonCode.TRUNCATE.name(),
                        why,
                        "TRUNCATE " + change.table(),
                        change.position(),
                        change.sourceTimeMillis());
        ctx.output(
                QUARANTINE,
                QuarantineTable.malformedRow(held, contracts.get(change.table()), run.runId()));
    }

    @Override
    public void open(Configuration parameters) {
        run.enterLogContext();
        metrics = new GateMetrics(getRuntimeContext(), contracts);
        logged = new HashSet<>();
        tallies = new TreeMap<>();
        windows = new QualityWindows(contracts);
        implicits = new ImplicitContracts(implicitContracts, live);
        if (restoredWindows != null) {
            windows.read(restoredWindows);
            restoredWindows = null;
        }
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        windowsState = context.getOperatorStateStore().getUnionListState(WINDOWS);
        if (!context.isRestored()) {
            return;
        }
        restoredWindows =
                QualityWindows.restoredFor(
                        windowsState.get(),
                        getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                        getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks());
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        windowsState.update(
                List.of(windows.write(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask())));
    }

    @Override
    public void processElement(ChangeEvent change, Context ctx, Collector<ChangeEvent> out) {
        long[] tally = tallies.computeIfAbsent(change.table(), t -> new long[4]);
        tally[0]++;
        if (change.operation() == Operation.TRUNCATE) {
            // forwarded, or held in the quarantine table, by the table's policy
            String held = truncates.decide(change);
            if (held != null) {
                holdTruncate(change, held, tally, ctx);
            } else {
                tally[1]++;
                forward(change, tally, out);
            }
            return;
        }
        Contract contract = contracts.get(change.table());
        QualityWindows.Counts counts = contract == null ? null : windows.current(change.table());
        if (counts != null) {
            counts.in++;
        }
        if (change.operation() == Operation.MALFORMED) {
            malformed(change, contract, counts, tally, ctx);
            return;
        }
        Violation unordered =
                GateChecks.withoutOrderingColumn(change, orderingColumns.get(change.table()));
        if (unordered != null) {
            unordered(change, contract, unordered, counts, tally, ctx);
            return;
        }
        if (contract == null) {
            Contract implicit = implicits.contractOf(change.table());
            if (implicit != null && !implicits.fits(change)) {
                implicit(implicit, change, tally, ctx, out);
                return;
            }
            tally[1]++;
            forward(change, tally, out);
            return;
        }
        explicit(contract, change, counts, tally, ctx, out);
    }

    /**
     * An undecodable change: quarantined with its decoder's reason (a truncate under fail stops).
     */
    private void malformed(
            ChangeEvent change,
            Contract contract,
            QualityWindows.Counts counts,
            long[] tally,
            Context ctx) {
        // a truncate the source cannot have applied exactly: 'fail' still means stop
        truncates.stopIfFailing(change);
        tally[2]++;
        if (counts != null) {
            counts.quarantined++;
        }
        quarantine(change.table(), List.of(change.malformedReason()));
        if (logged.add(change.table() + "/" + change.malformedReason())) {
            LOG.warn(
                    "Quarantined an undecodable change ({}) of table {}: {}; further ones are counted in"
                            + " metric tidemark.gate.table.reason.quarantined (reason {})",
                    change.malformedReason(),
                    change.table(),
                    change.malformedDetail(),
                    change.malformedReason());
        }
        ctx.output(QUARANTINE, QuarantineTable.malformedRow(change, contract, run.runId()));
    }

    /** A change of an event-time table without its ordering column: quarantined. */
    private void unordered(
            ChangeEvent change,
            Contract contract,
            Violation unordered,
            QualityWindows.Counts counts,
            long[] tally,
            Context ctx) {
        tally[2]++;
        if (counts != null) {
            counts.quarantined++;
        }
        quarantine(change.table(), List.of(unordered.reason().name()));
        if (logged.add(change.table() + "/ordering")) {
            LOG.warn(
                    "Quarantined a {} of {}: column '{}': {}; further ones are counted in metric "
                            + "tidemark.gate.table.reason.quarantined (reason {})",
                    change.operation(),
                    change.table(),
                    unordered.column(),
                    unordered.detail(),
                    unordered.reason());
        }
        ctx.output(
                QUARANTINE, QuarantineTable.row(change, contract, List.of(unordered), run.runId()));
    }

    /**
     * A change of a table with a contract: checked (and under {@code schema-evolution: evolve} its
     * drift the writers can apply lifted), counted for the data-quality checks, then forwarded
     * coerced, or quarantined with its violations.
     */
    private void explicit(
            Contract contract,
            ChangeEvent change,
            QualityWindows.Counts counts,
            long[] tally,
            Context ctx,
            Collector<ChangeEvent> out) {
        Checked checked = GateChecks.check(contract, change);
        if (!checked.passed() && contract.evolution().evolves()) {
            checked = drift.lift(contract, change, checked);
        }
        if (checked.passed()) {
            tally[1]++;
            counts.passed++;
            counts.newestSourceTime = Math.max(counts.newestSourceTime, change.sourceTimeMillis());
            if (change.operation() != Operation.DELETE) {
                counts.rows++;
                for (QualityCheck check : contract.checks()) {
                    if (check.kind() == QualityCheck.Kind.NULL_RATE
                            && checked.row().get(check.column()) == null) {
                        counts.nulls.merge(check.column(), 1L, Long::sum);
                    }
                }
            }
            metrics.passed(change.table());
            forward(
                    GateChecks.coerced(
                            contract, change, checked.row(), orderingColumns.get(change.table())),
                    tally,
                    out);
            return;
        }
        List<Violation> violations = checked.violations();
        drift.stopOnDrift(contract, violations);
        tally[2]++;
        counts.quarantined++;
        quarantine(
                change.table(),
                violations.stream().map(v -> v.reason().name()).distinct().toList());
        if (LOG.isDebugEnabled()) {
            LOG.debug(
                    "Quarantined a {} of {} under {}: {}",
                    change.operation(),
                    change.table(),
                    contract.id(),
                    violations);
        }
        ctx.output(QUARANTINE, QuarantineTable.row(change, contract, violations, run.runId()));
    }

    /**
     * A change of a table without a contract that does not fit its Iceberg table (the source's
     * schema changed): checked against the table's columns as a contract, under the table's {@code
     * schema-evolution}. {@code evolve} lets through what the writers can apply (a new column whose
     * type follows from its values, a widening) and learns it; what is left is quarantined into the
     * pipeline's unrouted quarantine table, or stops the job under {@code fail}. Never a failure of
     * the writer, which would restart the job in a loop.
     */
    private void implicit(
            Contract implicit,
            ChangeEvent change,
            long[] tally,
            Context ctx,
            Collector<ChangeEvent> out) {
        Checked checked = GateChecks.check(implicit, change);
        if (!checked.passed() && implicit.evolution().evolves()) {
            checked = drift.lift(implicit, change, checked);
        }
        if (checked.passed()) {
            implicits.learn(change);
            tally[1]++;
            forward(
                    GateChecks.coerced(
                            implicit, change, checked.row(), orderingColumns.get(change.table())),
                    tally,
                    out);
            return;
        }
        List<Violation> violations = checked.violations();
        DriftRules.stopOnImplicitDrift(implicit, change, violations);
        tally[2]++;
        quarantine(
                change.table(),
                violations.stream().map(v -> v.reason().name()).distinct().toList());
        if (logged.add(change.table() + "/drift")) {
            LOG.warn(
                    "Quarantined a {} of {}, which does not fit its Iceberg table (schema-evolution: {}): "
                            + "{}; further ones are counted in metric"
                            + " tidemark.gate.table.reason.quarantined by reason",
                    change.operation(),
                    change.table(),
                    implicit.evolution().fileValue(),
                    violations);
        }
        ctx.output(QUARANTINE, QuarantineTable.row(change, null, violations, run.runId()));
    }

    private void forward(ChangeEvent change, long[] tally, Collector<ChangeEvent> out) {
        splitter.split(change, part -> tally[3]++);
        out.collect(change);
    }

    private void quarantine(String table, List<String> reasons) {
        metrics.quarantined(table, reasons);
    }

    /**
     * What this subtask saw since the last barrier, for the committer's check that nothing was lost
     * (the operator sends it before the barrier goes on); starts again from zero.
     */
    GateTally drainTally(long checkpointId, int subtask) {
        Map<String, GateCounts> tables = new TreeMap<>();
        tallies.forEach((table, c) -> tables.put(table, new GateCounts(c[0], c[1], c[2], c[3])));
        tallies.clear();
        return new GateTally(checkpointId, subtask, tables);
    }

    /**
     * Evaluates every table's data-quality checks over its last checkpoints, at a checkpoint
     * barrier (the operator calls it before the barrier goes on): {@link QualityWindows#evaluate}.
     */
    void evaluateChecks(long checkpointId) {
        windows.evaluate(checkpointId, metrics);
    }
}
