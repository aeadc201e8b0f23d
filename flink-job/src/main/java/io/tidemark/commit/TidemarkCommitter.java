package io.tidemark.commit;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.provenance.Provenance.CommitPoint;
import io.tidemark.metrics.CommitMetrics;
import io.tidemark.protocol.CommitMessage;
import io.tidemark.protocol.CommitMessage.Counts;
import io.tidemark.protocol.CommitMessage.FilesWritten;
import io.tidemark.protocol.CommitMessageSerializer;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.LiveTables;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.flink.sink.FlinkManifestUtil;
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
    private final CommitListener listener;
    private final LiveTables live;
    private final boolean snapshotsOnFreshStart;

    /** {@link #targets} and the tables created in the source while the job runs. */
    private transient List<CommitTarget> allTargets;

    private transient List<CommitMessage> pending;
    private transient String lineage;
    private transient Catalog catalog;
    private transient Map<String, CommitPoint> committedThrough;

    /**
     * Per table, its {@link Provenance#COMMITTED_THROUGH} property for this pipeline as this
     * committer last saw or wrote it: found changed before a commit, another job of the pipeline
     * committed meanwhile.
     */
    private transient Map<String, String> markSeen;

    private transient Map<String, CommitMetrics> metrics;
    private transient ListState<byte[]> pendingState;
    private transient ListState<String> lineageState;
    private transient ListState<String> replacingLineageState;

    /**
     * A lineage started without state whose sources snapshot every table: its first commit to each
     * target table removes every row the table held before it ({@link #commitTable}). Null for a
     * restored lineage (its tables hold its own rows) and for starts that read the log only.
     */
    private transient String replacingLineage;

    /** Checkpoints whose counts were checked to add up ({@link #checkNothingLost}). */
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
        this.listener = listener;
        this.live = live;
        this.snapshotsOnFreshStart = snapshotsOnFreshStart;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        run.enterLogContext();
        Catalogs.registerJdbcDrivers();
        catalog = catalogLoader.loadCatalog();
        allTargets = new ArrayList<>(targets);
        pendingState = context.getOperatorStateStore().getListState(PENDING);
        lineageState = context.getOperatorStateStore().getListState(LINEAGE);
        replacingLineageState = context.getOperatorStateStore().getListState(REPLACING_LINEAGE);
        pending = new ArrayList<>();
        // a start without state is a new lineage even when the run id is reused: its checkpoint
        // ids start again from 1 and must not be mistaken for those of an earlier start
        lineage = run.runId() + "." + UUID.randomUUID().toString().substring(0, 8);
        replacingLineage = null;
        if (context.isRestored()) {
            for (String restored : lineageState.get()) {
                lineage = restored;
            }
            for (String replacing : replacingLineageState.get()) {
                replacingLineage = replacing;
            }
            for (byte[] message : pendingState.get()) {
                pending.add(CommitMessageSerializer.deserialize(message));
            }
        } else if (snapshotsOnFreshStart) {
            // the sources read every table again: what the tables hold from before this start
            // goes with the first commit, so rows deleted in the source meanwhile do not stay
            replacingLineage = lineage;
        }
        verified = new LongCounter();
        getRuntimeContext().addAccumulator(CHECKPOINTS_VERIFIED, verified);
        getMetricGroup()
                .addGroup("tidemark")
                .addGroup("committer")
                .gauge("checkpointsVerified", (Gauge<Long>) () -> verified.getLocalValue());
        metrics = new HashMap<>();
        for (CommitTarget target : allTargets) {
            metrics.put(target.table(), new CommitMetrics(getMetricGroup(), target.table()));
        }
        readCommittedThrough();
        LOG.info(
                "Committer of pipeline {} lineage {} (run {}): {} restored message(s), committed through {}",
                run.pipelineId(),
                lineage,
                run.runId(),
                pending.size(),
                committedThrough);
        if (context.isRestored()) {
            // the restored checkpoint completed; what it holds may not have been committed yet
            commitThrough(Long.MAX_VALUE);
            forkIfRestoredBehindCommits(context.getRestoredCheckpointId().orElse(Long.MAX_VALUE));
        }
    }

    /** The newest checkpoint of this pipeline and lineage each table holds. */
    private void readCommittedThrough() {
        committedThrough = new HashMap<>();
        markSeen = new HashMap<>();
        for (CommitTarget target : allTargets) {
            readCommittedThrough(target.table());
        }
    }

    private void readCommittedThrough(String name) {
        Table table = catalog.loadTable(TableIdentifier.parse(name));
        committedThrough.put(name, Provenance.lastCommitted(table, run.pipelineId(), lineage));
        markSeen.put(
                name, table.properties().get(Provenance.committedThroughKey(run.pipelineId())));
    }

    /**
     * A restore never sees commits newer than its checkpoint, except when it is a rollback: a job
     * started from an older savepoint or retained checkpoint than the lineage's last commit. Its
     * checkpoint ids continue from that older checkpoint and so repeat ids already committed; under
     * the same lineage they would be skipped as committed and their changes lost. Such a restore
     * continues in a new lineage, after what the restored state itself held was committed (or found
     * committed) under the old one.
     */
    private void forkIfRestoredBehindCommits(long restoredCheckpointId) {
        String newest = null;
        long newestCheckpoint = Long.MIN_VALUE;
        for (Map.Entry<String, CommitPoint> table : committedThrough.entrySet()) {
            if (table.getValue().checkpointId() > newestCheckpoint) {
                newest = table.getKey();
                newestCheckpoint = table.getValue().checkpointId();
            }
        }
        if (newestCheckpoint <= restoredCheckpointId) {
            return;
        }
        String forked = run.runId() + "." + UUID.randomUUID().toString().substring(0, 8);
        LOG.warn(
                "Restored checkpoint {} of lineage {} is older than checkpoint {} already committed to {}: "
                        + "a rollback to an older savepoint or checkpoint. Continuing in lineage {}; "
                        + "changes after checkpoint {} that the source delivers again are applied again (keyed upserts, idempotent)",
                restoredCheckpointId,
                lineage,
                newestCheckpoint,
                newest,
                forked,
                restoredCheckpointId);
        lineage = forked;
        readCommittedThrough();
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
        lineageState.update(List.of(lineage));
        replacingLineageState.update(
                replacingLineage == null ? List.of() : List.of(replacingLineage));
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
        String positionsJson = ProvenanceSummary.positionsJson(gathered.positions);
        for (String table : gathered.files.keySet()) {
            if (!committedThrough.containsKey(table)) {
                addLiveTarget(table);
            }
        }
        Map<String, Long> quarantined = quarantinedRows(gathered.files);
        if (gathered.gateTallies >= reconcilerParallelism
                && gathered.tallies >= reconcilerParallelism) {
            CheckpointAudit.checkNothingLost(
                    checkpointId, gathered.gated, gathered.counts, quarantined);
            verified.add(1L);
        }
        for (CommitTarget target : allTargets) {
            TreeMap<Integer, List<FilesWritten>> parts = gathered.files.get(target.table());
            if (parts == null) {
                if (replaces(target)) {
                    // nothing written to it yet: its old rows go now all the same
                    commitTable(
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
                if (point.compareTo(committedThrough.get(target.table())) <= 0) {
                    LOG.info(
                            "Checkpoint {} (part {}) of pipeline {} lineage {} is already in {}; not committing it again",
                            checkpointId,
                            part.getKey(),
                            run.pipelineId(),
                            lineage,
                            target.table());
                    continue;
                }
                // the counts of the checkpoint go with its last part
                boolean last = part.getKey().equals(parts.lastKey());
                commitTable(
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
        readCommittedThrough(table);
        LOG.info("Committing {} (source table {}, created while the job runs)", table, sourceTable);
    }

    /**
     * Fails the job, without restarts and without committing, when the committed-through mark
     * {@code mark} of {@code name} is not the one this committer last saw: another job of the
     * pipeline committed to it since.
     */
    private void checkNoOtherJob(String name, String mark, long checkpointId) {
        if (java.util.Objects.equals(mark, markSeen.get(name))) {
            return;
        }
        throw new SuppressRestartsException(
                new IllegalStateException(
                        String.format(
                                "table %s was committed to by another job of pipeline %s since this "
                                        + "one last looked (its last commit is now '%s', this job knew "
                                        + "'%s'): two jobs run the pipeline, for example both started "
                                        + "from one savepoint or checkpoint. This job stops without "
                                        + "committing checkpoint %d; keep one job running, and if "
                                        + "it is not the one you meant, stop it and start the pipeline "
                                        + "again (it resumes from its newest retained checkpoint)",
                                name, run.pipelineId(), mark, markSeen.get(name), checkpointId)));
    }

    /**
     * Records on {@code delta} why it removes the table's {@code removed} files: the first commit
     * of a lineage that snapshots the table again ({@code replaces}), or a source truncate.
     */
    private void recordRemovals(
            RowDelta delta,
            String name,
            long checkpointId,
            boolean replaces,
            String truncatedAt,
            int removed) {
        if (replaces && removed > 0) {
            delta.set(Provenance.REPLACED_FILES, Integer.toString(removed));
            LOG.info(
                    "Checkpoint {} is lineage {}'s first commit to {}, which started without state and "
                            + "snapshots the table again: the {} files it held before are removed",
                    checkpointId,
                    lineage,
                    name,
                    removed);
        }
        if (truncatedAt != null) {
            delta.set(Provenance.TRUNCATED_AT, truncatedAt);
            LOG.info(
                    "Checkpoint {} empties {} (source truncate at {}): {} files removed",
                    checkpointId,
                    name,
                    truncatedAt,
                    removed);
        }
    }

    private void commitTable(
            CommitTarget target,
            CommitPoint point,
            List<FilesWritten> written,
            Counts counts,
            long quarantined,
            String validThrough,
            String positions,
            Long resnapshot)
            throws Exception {
        String name = target.table();
        long checkpointId = point.checkpointId();
        Table table = catalog.loadTable(TableIdentifier.parse(name));
        String markKey = Provenance.committedThroughKey(run.pipelineId());
        checkNoOtherJob(name, table.properties().get(markKey), checkpointId);
        String truncatedAt = null;
        boolean readAgain = false;
        for (FilesWritten files : written) {
            if (files.truncatedAt() != null) {
                truncatedAt = files.truncatedAt();
                readAgain |= FilesWritten.readAgainAfter(files.truncatedAt());
            }
        }
        // the rows and the committed-through mark in one Iceberg commit; a truncate made while the
        // table's snapshot was read (it empties rows read after it too) asks in it for the table
        // to be read again
        Transaction transaction = table.newTransaction();
        RowDelta delta = transaction.newRowDelta();
        CommitFiles.Added added = CommitFiles.add(table, delta, written);
        List<ManifestFile> manifests = added.manifests();
        int dataFiles = added.dataFiles();
        int deleteFiles = added.deleteFiles();
        long upserted = added.upserted();
        long deleted = added.deleted();
        int removed = 0;
        boolean replaces = replaces(target);
        if (truncatedAt != null || replaces) {
            // the source emptied the table here (or this start snapshots it again): every file it
            // holds goes, in the same snapshot that adds the rows written after (a replay finds
            // the point committed)
            removed = CommitFiles.removeAll(table, delta);
        }
        if (dataFiles + deleteFiles == 0 && truncatedAt == null && removed == 0) {
            return;
        }
        new ProvenanceSummary(run, lineage, getRuntimeContext().getJobInfo().getJobId().toString())
                .applyTo(
                        delta,
                        point,
                        target.contractVersion() == null
                                ? contractVersion
                                : target.contractVersion(),
                        positions,
                        validThrough,
                        new ProvenanceSummary.Rows(
                                target.side() ? upserted : counts.in(),
                                upserted,
                                deleted,
                                quarantined,
                                counts.stale(),
                                target.kind() == CommitTarget.Kind.LATE ? upserted : counts.late()),
                        resnapshot);
        recordRemovals(delta, name, checkpointId, replaces, truncatedAt, removed);
        commitAndMark(name, table, transaction, delta, point, added, validThrough, readAgain);
    }

    /**
     * Commits {@code delta} to {@code table} (target {@code name}) and the table's
     * committed-through mark (and, when {@code readAgain}, the request to read the table again) as
     * one Iceberg transaction.
     */
    private void commitAndMark(
            String name,
            Table table,
            Transaction transaction,
            RowDelta delta,
            CommitPoint point,
            CommitFiles.Added added,
            String validThrough,
            boolean readAgain)
            throws Exception {
        long checkpointId = point.checkpointId();
        listener.beforeCommit(name, checkpointId);
        long start = System.nanoTime();
        delta.commit();
        UpdateProperties properties = transaction.updateProperties();
        String marked = Provenance.committedThroughValue(lineage, point);
        properties.set(Provenance.committedThroughKey(run.pipelineId()), marked);
        long number = readAgain ? ResnapshotRequests.request(table, List.of(), properties) : -1;
        properties.commit();
        transaction.commitTransaction();
        markSeen.put(name, marked);
        if (readAgain) {
            LOG.warn(
                    "Checkpoint {} empties {} for a truncate made while its snapshot was being read; "
                            + "re-snapshot {} of the table is requested with it",
                    checkpointId,
                    name,
                    number);
        }
        committed(name, table, point, added, System.nanoTime() - start, validThrough);
    }

    /**
     * After the commit of {@code point} to {@code table} (target {@code name}): its metrics and log
     * line, the listener, and the checkpoint's temporary manifests deleted.
     */
    private void committed(
            String name,
            Table table,
            CommitPoint point,
            CommitFiles.Added added,
            long nanos,
            String validThrough)
            throws Exception {
        long checkpointId = point.checkpointId();
        long millis = TimeUnit.NANOSECONDS.toMillis(nanos);
        long snapshotId = table.currentSnapshot().snapshotId();
        committedThrough.put(name, point);
        metrics.get(name).committed(millis, added.dataFiles(), added.deleteFiles());
        LOG.info(
                "Committed checkpoint {} to {} as snapshot {} in {} ms: +{} data files, +{} delete files, {} rows upserted, {} deleted, valid through {}",
                checkpointId,
                name,
                snapshotId,
                millis,
                added.dataFiles(),
                added.deleteFiles(),
                added.upserted(),
                added.deleted(),
                validThrough);
        listener.afterCommit(name, checkpointId, snapshotId);
        try {
            FlinkManifestUtil.deleteCommittedManifests(
                    table,
                    added.manifests(),
                    getRuntimeContext().getJobInfo().getJobId().toString(),
                    checkpointId);
        } catch (RuntimeException e) {
            LOG.warn("Could not delete the temporary manifests of checkpoint {}", checkpointId, e);
        }
    }

    /**
     * Whether the next commit to {@code target} is the first of a lineage that replaces its tables'
     * rows: a target table (the late and quarantine tables keep their rows) without a commit of
     * this lineage in its history.
     */
    private boolean replaces(CommitTarget target) {
        return lineage.equals(replacingLineage)
                && !target.side()
                && CommitPoint.NONE.equals(committedThrough.get(target.table()));
    }

    @Override
    public void close() throws Exception {
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
