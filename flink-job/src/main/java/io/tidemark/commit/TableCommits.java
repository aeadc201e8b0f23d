package io.tidemark.commit;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.provenance.Provenance.CommitPoint;
import io.tidemark.metrics.CommitMetrics;
import io.tidemark.protocol.CommitMessage.Counts;
import io.tidemark.protocol.CommitMessage.FilesWritten;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.sink.FlinkManifestUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commit of one table's part of a checkpoint, as the committer decided it: the files added
 * (and, for a source truncate or the first commit of a lineage that snapshots its tables again,
 * every file the table held removed), the provenance in the snapshot summary, and the
 * committed-through mark, in one Iceberg transaction; then its metrics, log line, listener, the
 * checkpoint's temporary manifests deleted, and the delete files a compaction left behind removed
 * ({@link DanglingDeletes}).
 */
final class TableCommits {

    private static final Logger LOG = LoggerFactory.getLogger(TableCommits.class);

    private final Catalog catalog;
    private final RunContext run;
    private final Lineage lineage;
    private final String jobId;
    private final CommitListener listener;
    private final Map<String, CommitMetrics> metrics;

    /** The pipeline's contract version, for targets without their own. */
    private final String contractVersion;

    private final DanglingDeletes dangling;

    /** Per target, the snapshot of this committer's newest commit to it (or as first seen). */
    private final Map<String, Long> snapshots = new java.util.HashMap<>();

    TableCommits(
            Catalog catalog,
            RunContext run,
            Lineage lineage,
            String jobId,
            CommitListener listener,
            Map<String, CommitMetrics> metrics,
            String contractVersion) {
        this.catalog = catalog;
        this.run = run;
        this.lineage = lineage;
        this.jobId = jobId;
        this.listener = listener;
        this.metrics = metrics;
        this.contractVersion = contractVersion;
        this.dangling = new DanglingDeletes(run);
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
                    lineage.id(),
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

    /**
     * Commits {@code written}, the files of {@code target}'s part {@code point}, with its
     * provenance (nothing when it holds no file, removes none and truncates nothing).
     */
    void commit(
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
        lineage.checkNoOtherJob(name, table, checkpointId);
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
        int dataFiles = added.dataFiles();
        int deleteFiles = added.deleteFiles();
        long upserted = added.upserted();
        long deleted = added.deleted();
        int removed = 0;
        boolean replaces = lineage.replaces(target);
        if (truncatedAt != null || replaces) {
            // the source emptied the table here (or this start snapshots it again): every file it
            // holds goes, in the same snapshot that adds the rows written after (a replay finds
            // the point committed)
            removed = CommitFiles.removeAll(table, delta);
        }
        if (dataFiles + deleteFiles == 0 && truncatedAt == null && removed == 0) {
            return;
        }
        new ProvenanceSummary(run, lineage.id(), jobId)
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
        String marked = lineage.mark(properties, point);
        long number = readAgain ? ResnapshotRequests.request(table, List.of(), properties) : -1;
        properties.commit();
        transaction.commitTransaction();
        lineage.committed(name, point, marked);
        if (readAgain) {
            LOG.warn(
                    "Checkpoint {} empties {} for a truncate made while its snapshot was being read; "
                            + "re-snapshot {} of the table is requested with it",
                    checkpointId,
                    name,
                    number);
        }
        committed(name, table, point, added, System.nanoTime() - start, validThrough);
        dangling.afterCommit(name, table);
    }

    /**
     * The snapshot of {@code name} that holds every commit of this committer to it: its newest
     * commit's, or, for a table it has not committed to, the table's current one (null: none yet).
     */
    Long snapshotOf(String name) {
        if (!snapshots.containsKey(name)) {
            Snapshot current = catalog.loadTable(TableIdentifier.parse(name)).currentSnapshot();
            snapshots.put(name, current == null ? null : current.snapshotId());
        }
        return snapshots.get(name);
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
        snapshots.put(name, snapshotId);
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
                    table, added.manifests(), jobId, checkpointId);
        } catch (RuntimeException e) {
            LOG.warn("Could not delete the temporary manifests of checkpoint {}", checkpointId, e);
        }
    }
}
