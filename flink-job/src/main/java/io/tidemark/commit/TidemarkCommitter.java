package io.tidemark.commit;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.provenance.Provenance.CommitPoint;
import io.tidemark.config.PointsConfig;
import io.tidemark.decode.SourcePositions;
import io.tidemark.metrics.CommitMetrics;
import io.tidemark.protocol.CommitMessage;
import io.tidemark.protocol.CommitMessage.Counts;
import io.tidemark.protocol.CommitMessage.FilesWritten;
import io.tidemark.protocol.CommitMessageSerializer;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.LiveTables;
import io.tidemark.source.SourceLag;
import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's only committer (parallelism 1). Collects what the writers wrote and what the
 * reconcilers saw up to each checkpoint barrier, keeps it in its state, and when the checkpoint
 * completes commits it: per table one atomic {@link RowDelta} per checkpoint, with the checkpoint's
 * provenance in the snapshot summary ({@link Provenance}).
 *
 * <ul>
 *   <li><b>Exactly once.</b> A checkpoint is committed only after Flink reports it complete; what a
 *       restored checkpoint holds and has not been committed is committed on restore. Before
 *       committing, the table's own history decides: a checkpoint of this pipeline and lineage at
 *       or below the last one found there is skipped, so nothing is committed twice, also under a
 *       new Flink job id and with several checkpoints pending.
 *   <li><b>In order.</b> Pending checkpoints are committed in checkpoint order, each as its own
 *       snapshot, also when notifications arrive late or out of order.
 *   <li><b>No empty snapshots.</b> A checkpoint that wrote no file for a table commits nothing to
 *       it.
 *   <li><b>Other writers.</b> Iceberg retries a commit that lost a race against a concurrent writer
 *       on fresh metadata (its conflict checks apply); nothing is overwritten.
 * </ul>
 *
 * <p>The lineage is the run id of the run that started without state; restored runs inherit it from
 * this operator's state, so (pipeline id, lineage, checkpoint id) names one commit. A new start
 * without state (a replay) is a new lineage and commits everything it reads again, which the
 * reconciled, keyed upserts make idempotent. So is a rollback: a restore from a checkpoint older
 * than the lineage's last commit (its checkpoint ids would repeat committed ones).
 */
public final class TidemarkCommitter extends AbstractStreamOperator<Void>
        implements OneInputStreamOperator<byte[], Void>, BoundedOneInput {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(TidemarkCommitter.class);

    /** Accumulator and metric: checkpoints the committer found to add up before committing. */
    public static final String CHECKPOINTS_VERIFIED = "checkpoints-verified";

    /** Written when no watermark has been seen yet. */
    public static final String NO_WATERMARK = "none";

    static final ListStateDescriptor<byte[]> PENDING =
            new ListStateDescriptor<>(
                    "tidemark-committer-pending", BytePrimitiveArraySerializer.INSTANCE);

    static final ListStateDescriptor<String> LINEAGE =
            new ListStateDescriptor<>("tidemark-committer-lineage", StringSerializer.INSTANCE);

    /** The lineage whose first commit to each table replaces the table's rows (or none). */
    static final ListStateDescriptor<String> REPLACING_LINEAGE =
            new ListStateDescriptor<>(
                    "tidemark-committer-replacing-lineage", StringSerializer.INSTANCE);

    private final RunContext run;
    private final CatalogLoader catalogLoader;
    private final List<CommitTarget> targets;
    private final String contractVersion;
    private final int reconcilerParallelism;

    /** The gate subtasks that send a tally per checkpoint. */
    private int gateSubtasks;

    private final CommitListener listener;
    private final LiveTables live;
    private final boolean snapshotsOnFreshStart;

    /** Each source's log ahead of what the pipeline confirmed, as gauges ({@link SourceLag}). */
    private SourceLag sourceLag = SourceLag.NONE;

    /** Where the pipeline's consistent points go ({@link ConsistentPoints}), if anywhere. */
    private PointsConfig pointsConfig = PointsConfig.NONE;

    /** The sources whose log must be read before a point is published. */
    private List<String> pointSources = List.of();

    private transient ConsistentPoints points;

    /** {@link #targets} and the tables created in the source while the job runs. */
    private transient List<CommitTarget> allTargets;

    private transient List<CommitMessage> pending;
    private transient Catalog catalog;

    /** The lineage, and what each table holds of it. */
    private transient Lineage lineage;

    /** Commits one table's part of a checkpoint. */
    private transient TableCommits tableCommits;

    private transient Map<String, CommitMetrics> metrics;
    private transient ListState<byte[]> pendingState;
    private transient ListState<String> lineageState;
    private transient ListState<String> replacingLineageState;

    /**
     * Checkpoints whose counts were checked to add up ({@link CheckpointAudit#checkNothingLost}).
     */
    private transient LongCounter verified;

    public TidemarkCommitter(
            RunContext run,
            CatalogLoader catalogLoader,
            List<CommitTarget> targets,
            String contractVersion,
            int reconcilerParallelism,
            CommitListener listener) {
        this(
                run,
                catalogLoader,
                targets,
                contractVersion,
                reconcilerParallelism,
                listener,
                LiveTables.NONE,
                false);
    }

    /** A committer that also commits the tables {@code live} captures while the job runs. */
    public TidemarkCommitter(
            RunContext run,
            CatalogLoader catalogLoader,
            List<CommitTarget> targets,
            String contractVersion,
            int reconcilerParallelism,
            CommitListener listener,
            LiveTables live,
            boolean snapshotsOnFreshStart) {
        this.run = run;
        this.catalogLoader = catalogLoader;
        this.targets = List.copyOf(targets);
        this.contractVersion = contractVersion;
        this.reconcilerParallelism = reconcilerParallelism;
        this.gateSubtasks = reconcilerParallelism;
        this.listener = listener;
        this.live = live;
        this.snapshotsOnFreshStart = snapshotsOnFreshStart;
    }

    /**
     * This committer, expecting a tally per checkpoint from {@code subtasks} gate subtasks (every
     * subtask of every gate) before it checks that the checkpoint adds up.
     */
    public TidemarkCommitter countingGates(int subtasks) {
        this.gateSubtasks = subtasks;
        return this;
    }

    /** This committer, also reporting how far each source's log runs ahead of it. */
    public TidemarkCommitter watchingLag(SourceLag lag) {
        this.sourceLag = lag;
        return this;
    }

    /**
     * This committer, also publishing a consistent point after every checkpoint it commits once the
     * log of each of {@code sources} is read (their snapshots done: a point in the middle of a
     * snapshot would name tables partly read).
     */
    public TidemarkCommitter publishingPoints(PointsConfig config, List<String> sources) {
        this.pointsConfig = config;
        this.pointSources = List.copyOf(sources);
        return this;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        run.enterLogContext();
        // the job's catalog loader registers the JDBC drivers of this job's class loader
        catalog = catalogLoader.loadCatalog();
        // live targets are added at the end, after the side tables
        allTargets = CommitTarget.inCommitOrder(targets);
        pendingState = context.getOperatorStateStore().getListState(PENDING);
        lineageState = context.getOperatorStateStore().getListState(LINEAGE);
        replacingLineageState = context.getOperatorStateStore().getListState(REPLACING_LINEAGE);
        pending = new ArrayList<>();
        String restoredLineage = null;
        String replacingLineage = null;
        if (context.isRestored()) {
            for (String restored : lineageState.get()) {
                restoredLineage = restored;
            }
            for (String replacing : replacingLineageState.get()) {
                replacingLineage = replacing;
            }
            for (byte[] message : pendingState.get()) {
                pending.add(CommitMessageSerializer.deserialize(message));
            }
        }
        lineage =
                new Lineage(
                        catalog,
                        run.pipelineId(),
                        run.runId(),
                        restoredLineage,
                        replacingLineage,
                        snapshotsOnFreshStart);
        verified = new LongCounter();
        getRuntimeContext().addAccumulator(CHECKPOINTS_VERIFIED, verified);
        getMetricGroup()
                .addGroup("tidemark")
                .addGroup("committer")
                .gauge("checkpointsVerified", (Gauge<Long>) () -> verified.getLocalValue());
        // tidemark.source.<source>.logBytesBehind, as the MySQL source's reader registers its own
        sourceLag.register(getMetricGroup().addGroup("tidemark"));
        metrics = new HashMap<>();
        for (CommitTarget target : allTargets) {
            metrics.put(target.table(), new CommitMetrics(getMetricGroup(), target.table()));
        }
        for (CommitTarget target : allTargets) {
            lineage.read(target.table());
        }
        points =
                pointsConfig.enabled()
                        ? new ConsistentPoints(
                                catalog,
                                TableIdentifier.parse(pointsConfig.table()),
                                run.pipelineId(),
                                pointsConfig.retain())
                        : null;
        tableCommits =
                new TableCommits(
                        catalog,
                        run,
                        lineage,
                        getRuntimeContext().getJobInfo().getJobId().toString(),
                        listener,
                        metrics,
                        contractVersion);
        LOG.info(
                "Committer of pipeline {} lineage {} (run {}): {} restored message(s)",
                run.pipelineId(),
                lineage,
                run.runId(),
                pending.size());
        if (context.isRestored()) {
            // the restored checkpoint completed; what it holds may not have been committed yet
            commitThrough(Long.MAX_VALUE);
            lineage.forkIfRestoredBehindCommits(
                    context.getRestoredCheckpointId().orElse(Long.MAX_VALUE));
        }
    }

    @Override
    public void processElement(StreamRecord<byte[]> element) {
        pending.add(CommitMessageSerializer.deserialize(element.getValue()));
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<byte[]> messages = new ArrayList<>(pending.size());
        for (CommitMessage message : pending) {
            messages.add(CommitMessageSerializer.serialize(message));
        }
        pendingState.update(messages);
        lineageState.update(List.of(lineage.id()));
        replacingLineageState.update(
                lineage.replacing() == null ? List.of() : List.of(lineage.replacing()));
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) throws Exception {
        super.notifyCheckpointComplete(checkpointId);
        commitThrough(checkpointId);
    }

    @Override
    public void endInput() throws Exception {
        commitThrough(Long.MAX_VALUE);
    }

    /** Commits every pending checkpoint up to {@code checkpointId}, oldest first. */
    private void commitThrough(long checkpointId) throws Exception {
        TreeMap<Long, List<CommitMessage>> byCheckpoint = new TreeMap<>();
        for (CommitMessage message : pending) {
            if (message.checkpointId() <= checkpointId) {
                byCheckpoint
                        .computeIfAbsent(message.checkpointId(), id -> new ArrayList<>())
                        .add(message);
            }
        }
        for (Map.Entry<Long, List<CommitMessage>> checkpoint : byCheckpoint.entrySet()) {
            commitCheckpoint(checkpoint.getKey(), checkpoint.getValue());
            long done = checkpoint.getKey();
            pending.removeIf(message -> message.checkpointId() == done);
        }
    }

    /**
     * One completed checkpoint: its messages gathered, checked to add up (when every gate and
     * reconciler subtask sent its tally), then each table's parts committed in order, those already
     * in the table skipped.
     */
    private void commitCheckpoint(long checkpointId, List<CommitMessage> messages)
            throws Exception {
        CheckpointMessages gathered = new CheckpointMessages(messages);
        String validThroughText =
                gathered.tallies < reconcilerParallelism || gathered.validThrough == Long.MIN_VALUE
                        ? NO_WATERMARK
                        : Instant.ofEpochMilli(gathered.validThrough).toString();
        String positionsJson = SourcePositions.toJson(gathered.positions);
        for (String table : gathered.files.keySet()) {
            if (!lineage.knows(table)) {
                addLiveTarget(table);
            }
        }
        Map<String, Long> quarantined = quarantinedRows(gathered.files);
        if (gathered.gateTallies >= gateSubtasks && gathered.tallies >= reconcilerParallelism) {
            CheckpointAudit.checkNothingLost(
                    checkpointId, gathered.gated, gathered.counts, quarantined);
            verified.add(1L);
        }
        for (CommitTarget target : allTargets) {
            TreeMap<Integer, List<FilesWritten>> parts = gathered.files.get(target.table());
            if (parts == null) {
                if (lineage.replaces(target)) {
                    // nothing written to it yet: its old rows go now all the same
                    tableCommits.commit(
                            target,
                            new CommitPoint(checkpointId, 0),
                            List.of(),
                            Counts.ZERO,
                            0L,
                            validThroughText,
                            positionsJson,
                            null);
                }
                continue;
            }
            for (Map.Entry<Integer, List<FilesWritten>> part : parts.entrySet()) {
                CommitPoint point = new CommitPoint(checkpointId, part.getKey());
                if (point.compareTo(lineage.committedThrough(target.table())) <= 0) {
                    LOG.info(
                            "Checkpoint {} (part {}) of pipeline {} lineage {} is already in {}; not committing it again",
                            checkpointId,
                            part.getKey(),
                            run.pipelineId(),
                            lineage.id(),
                            target.table());
                    continue;
                }
                // the counts of the checkpoint go with its last part
                boolean last = part.getKey().equals(parts.lastKey());
                tableCommits.commit(
                        target,
                        point,
                        part.getValue(),
                        target.side() || !last
                                ? Counts.ZERO
                                : gathered.counts.getOrDefault(target.sourceTable(), Counts.ZERO),
                        last ? quarantined.getOrDefault(target.sourceTable(), 0L) : 0L,
                        validThroughText,
                        positionsJson,
                        target.kind() == CommitTarget.Kind.TARGET
                                ? gathered.resnapshots.get(target.sourceTable())
                                : null);
            }
        }
        if (points != null && gathered.positions.keySet().containsAll(pointSources)) {
            Map<String, Long> snapshots = new java.util.TreeMap<>();
            for (CommitTarget target : allTargets) {
                if (target.kind() == CommitTarget.Kind.TARGET) {
                    snapshots.put(target.table(), tableCommits.snapshotOf(target.table()));
                }
            }
            points.publish(lineage.id(), checkpointId, snapshots, positionsJson, validThroughText);
        }
    }

    /**
     * Rows the contract gate quarantined in the checkpoint, per source table, as its quarantine
     * writers wrote them.
     */
    private Map<String, Long> quarantinedRows(
            Map<String, TreeMap<Integer, List<FilesWritten>>> files) {
        Map<String, Long> quarantined = new HashMap<>();
        for (CommitTarget target : allTargets) {
            if (target.kind() == CommitTarget.Kind.QUARANTINE) {
                for (List<FilesWritten> part :
                        files.getOrDefault(target.table(), new TreeMap<>()).values()) {
                    for (FilesWritten written : part) {
                        quarantined.merge(target.sourceTable(), written.rowsUpserted(), Long::sum);
                    }
                }
            }
        }
        return quarantined;
    }

    /**
     * Starts committing {@code table}, the Iceberg table of a source table created while the job
     * runs (its writers created it); refuses files of any other table.
     */
    private void addLiveTarget(String table) {
        String sourceTable = live.sourceOfTarget(table);
        if (sourceTable == null) {
            throw new IllegalStateException(
                    "files for table '" + table + "', which this committer does not commit");
        }
        CommitTarget target =
                new CommitTarget(table, sourceTable, CommitTarget.Kind.TARGET, contractVersion);
        allTargets.add(target);
        metrics.put(table, new CommitMetrics(getMetricGroup(), table));
        lineage.read(table);
        LOG.info("Committing {} (source table {}, created while the job runs)", table, sourceTable);
    }

    @Override
    public void close() throws Exception {
        sourceLag.close();
        if (catalog instanceof Closeable closeable) {
            try {
                closeable.close();
            } catch (IOException e) {
                LOG.warn("Closing the catalog failed", e);
            }
        }
        super.close();
    }
}
