package io.tidemark.job;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.DanglingDeletes;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.HistoryTable;
import io.tidemark.sink.LateTable;
import io.tidemark.sink.QuarantineTable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.actions.RewriteDataFilesActionResult;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.actions.Actions;
import org.apache.iceberg.flink.maintenance.api.JdbcLockFactory;
import org.apache.iceberg.flink.maintenance.api.TriggerLockFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One maintenance pass over a pipeline's tables outside the job ({@code tidemark maintain}): for
 * the tables the job's own maintenance does not cover yet (those created while it runs, {@code
 * new-tables: capture}), or a pipeline without {@code maintenance.*}. Per table, under the same
 * lock row the job's maintenance of that table takes ({@link MaintenanceStage#lockId}), so the two
 * never overlap: a compaction (Iceberg's Flink rewrite: data files rewritten with their deletes
 * applied, committed as a {@code replace} at the sequence number it started from and validated from
 * that snapshot, so a delete the pipeline commits meanwhile still applies; the snapshot carries
 * {@code tidemark.maintenance: compaction}, the run id and the code version), then the delete files
 * it left dangling removed ({@link DanglingDeletes}), then a snapshot expiry. Racing the pipeline's
 * commits is Iceberg's optimistic concurrency, as for the job's own maintenance.
 */
public final class MaintenancePass {

    private static final Logger LOG = LoggerFactory.getLogger(MaintenancePass.class);

    /** What one table's pass did; {@code skipped} when another run held its lock. */
    public record Outcome(
            TableIdentifier table,
            boolean skipped,
            int dataFilesRewritten,
            int dataFilesWritten,
            int deleteFilesRemoved,
            int snapshotsExpired) {}

    /** Which tasks to run and the expiry's bounds. */
    public record Tasks(
            boolean compaction, boolean expiry, int retainLast, Duration maxSnapshotAge) {}

    private final PipelineConfig config;
    private final Catalog catalog;
    private final RunContext run;

    public MaintenancePass(PipelineConfig config, Catalog catalog, RunContext run) {
        this.config = config;
        this.catalog = catalog;
        this.run = run;
    }

    /**
     * The tables the pipeline commits to that exist in the catalog: each target and its quarantine,
     * late and history tables, and the pipeline's quarantine of unrouted changes.
     */
    public List<TableIdentifier> tables() {
        Set<TableIdentifier> names = new LinkedHashSet<>();
        TableIdentifier first = null;
        for (TableConfig table : config.tables()) {
            TableIdentifier target = TableIdentifier.parse(table.target());
            first = first == null ? target : first;
            names.add(target);
            names.add(QuarantineTable.of(target));
            names.add(LateTable.of(target));
            names.add(HistoryTable.of(target));
        }
        if (first != null) {
            names.add(QuarantineTable.unrouted(first));
        }
        List<TableIdentifier> existing = new ArrayList<>();
        for (TableIdentifier name : names) {
            if (catalog.tableExists(name)) {
                existing.add(name);
            }
        }
        return existing;
    }

    /**
     * Runs {@code tasks} on {@code table} unless another run holds its lock; with {@code
     * releaseLock}, a held lock is taken as one a killed run left (Iceberg's lock row has no owner
     * that could be asked, nor a time) and released first.
     */
    public Outcome maintain(TableIdentifier table, Tasks tasks, boolean releaseLock)
            throws IOException {
        Map<String, String> lockProperties = new HashMap<>(config.catalogProperties());
        // the lock table may not exist yet: a pipeline that never scheduled maintenance
        lockProperties.put(JdbcLockFactory.INIT_LOCK_TABLES_PROPERTY, "true");
        JdbcLockFactory factory =
                new JdbcLockFactory(
                        config.maintenance().lockJdbcUri(),
                        MaintenanceStage.lockId(config.pipelineId(), table),
                        lockProperties);
        factory.open();
        try {
            TriggerLockFactory.Lock lock = factory.createLock();
            if (!lock.tryLock()) {
                if (!releaseLock) {
                    return new Outcome(table, true, 0, 0, 0, 0);
                }
                LOG.warn("Releasing the maintenance lock of {} that another run left", table);
                lock.unlock();
                if (!lock.tryLock()) {
                    return new Outcome(table, true, 0, 0, 0, 0);
                }
            }
            try {
                return maintainLocked(table, tasks);
            } finally {
                lock.unlock();
            }
        } finally {
            factory.close();
        }
    }

    private Outcome maintainLocked(TableIdentifier name, Tasks tasks) {
        Table table = catalog.loadTable(name);
        int rewritten = 0;
        int written = 0;
        int removed = 0;
        if (tasks.compaction() && table.currentSnapshot() != null) {
            // a Flink job of its own in this process: never the caller's context (a cluster's,
            // or a test's MiniCluster, whose slots the pipeline holds)
            Configuration local = new Configuration(Actions.CONFIG);
            local.set(DeploymentOptions.TARGET, "local");
            local.set(DeploymentOptions.ATTACHED, true);
            StreamExecutionEnvironment env = new StreamExecutionEnvironment(local);
            env.setParallelism(Math.min(2, Runtime.getRuntime().availableProcessors()));
            RewriteDataFilesActionResult result =
                    Actions.forTable(env, table)
                            .rewriteDataFiles()
                            .useStartingSequenceNumber(true)
                            .set(Provenance.MAINTENANCE, "compaction")
                            .set(Provenance.RUN_ID, run.runId())
                            .set(Provenance.CODE_VERSION, run.codeVersion())
                            .execute();
            rewritten = result.deletedDataFiles().size();
            written = result.addedDataFiles().size();
            table.refresh();
            Snapshot current = table.currentSnapshot();
            if (rewritten > 0 && current != null) {
                try {
                    removed = DanglingDeletes.remove(table, current, run);
                } catch (RuntimeException e) {
                    // the running pipeline's committer removes them after its next commit too:
                    // it may have been first
                    LOG.warn(
                            "Could not remove the delete files the compaction of {} left; the"
                                    + " pipeline's next commit removes them",
                            name,
                            e);
                }
            }
        }
        int expired = 0;
        if (tasks.expiry() && table.currentSnapshot() != null) {
            int before = size(table.snapshots());
            table.expireSnapshots()
                    .retainLast(tasks.retainLast())
                    .expireOlderThan(System.currentTimeMillis() - tasks.maxSnapshotAge().toMillis())
                    .commit();
            table.refresh();
            expired = before - size(table.snapshots());
        }
        return new Outcome(name, false, rewritten, written, removed, expired);
    }

    private static int size(Iterable<?> items) {
        int n = 0;
        for (Object ignored : items) {
            n++;
        }
        return n;
    }
}
