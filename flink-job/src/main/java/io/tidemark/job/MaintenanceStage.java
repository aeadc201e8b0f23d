package io.tidemark.job;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.CommitTarget;
import io.tidemark.config.MaintenanceConfig;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.maintenance.FoldDeletes;
import io.tidemark.runtime.RunContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.OperatorIDPair;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.flink.maintenance.api.DeleteOrphanFiles;
import org.apache.iceberg.flink.maintenance.api.ExpireSnapshots;
import org.apache.iceberg.flink.maintenance.api.JdbcLockFactory;
import org.apache.iceberg.flink.maintenance.api.RewriteDataFiles;
import org.apache.iceberg.flink.maintenance.api.TableMaintenance;

/**
 * Table maintenance beside the stream, with Iceberg's Flink {@link TableMaintenance}: per table the
 * pipeline commits to (targets, quarantine and late tables) a monitor of its new snapshots that
 * triggers, as {@code maintenance.*} schedules them, a compaction (data files rewritten with their
 * deletes applied, committed as Iceberg's {@code replace} at the sequence number it started from,
 * so deletes the pipeline commits meanwhile still apply to the rewritten rows), the fold of the
 * files committed since ({@link FoldDeletes}), a snapshot expiry and an orphan-file removal; a
 * compaction's snapshot carries the run's provenance ({@link StampingTableLoader}). Runs of one
 * table never overlap (a lock in a JDBC database). It cannot race the committer into a wrong table:
 * Iceberg's optimistic commits let the one that lost retry or give up, and the committer's
 * idempotence rests on its committed-through mark, which expiry and compaction leave in place.
 */
public final class MaintenanceStage {

    private MaintenanceStage() {}

    /**
     * Adds the maintenance of every target table of {@code tables} to {@code env}, if any; with
     * orphan-file removal, first gives each maintained table without a snapshot an empty one
     * ({@link FirstSnapshots}).
     */
    static void attach(
            StreamExecutionEnvironment env,
            PipelineConfig config,
            RunContext run,
            List<ResolvedTable> tables) {
        if (config.maintenance().enabled()) {
            createLockTable(config, config.maintenance());
            if (!config.maintenance().orphanFilesEvery().isZero()) {
                org.apache.iceberg.catalog.Catalog catalog =
                        TidemarkJob.catalogLoader(config).loadCatalog();
                try {
                    FirstSnapshots.giveEach(catalog, maintained(config, tables), run);
                } finally {
                    if (catalog instanceof java.io.Closeable closeable) {
                        try {
                            closeable.close();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }
            }
            attach(env, config, config.maintenance(), tables, stamp(run));
        }
    }

    /** What a compaction's snapshot carries: the task, the run id, the code version. */
    static Map<String, String> stamp(RunContext run) {
        return Map.of(
                Provenance.MAINTENANCE,
                "compaction",
                Provenance.RUN_ID,
                run.runId(),
                Provenance.CODE_VERSION,
                run.codeVersion());
    }

    /**
     * Creates the lock table once, before the job: each table's lock factory creating it when it
     * opens made the factories of one job race ({@code relation "flink_maintenance_lock" already
     * exists} on PostgreSQL, a failover at every start with three tables or more).
     */
    private static void createLockTable(PipelineConfig config, MaintenanceConfig maintenance) {
        Map<String, String> properties = new HashMap<>(config.catalogProperties());
        properties.put(JdbcLockFactory.INIT_LOCK_TABLES_PROPERTY, "true");
        JdbcLockFactory factory =
                new DriverRegisteringLockFactory(
                        maintenance.lockJdbcUri(), config.pipelineId() + ":init", properties);
        try {
            factory.open();
            factory.close();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(
                    "cannot create the table maintenance's lock table in "
                            + maintenance.lockJdbcUri()
                            + " (maintenance.lock.jdbc-uri): "
                            + e.getMessage(),
                    e);
        }
    }

    private static void attach(
            StreamExecutionEnvironment env,
            PipelineConfig config,
            MaintenanceConfig maintenance,
            List<ResolvedTable> tables,
            Map<String, String> stamp) {
        for (TableIdentifier table : maintained(config, tables)) {
            try {
                attach(env, config, maintenance, table, stamp);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot plan the maintenance of " + table, e);
            }
        }
    }

    /**
     * Every table the pipeline commits to: the targets, and their quarantine and late tables
     * (append-only: compacted and expired as the targets are, their rows kept) and history tables
     * (upserted by key and version, like the targets).
     */
    static List<TableIdentifier> maintained(PipelineConfig config, List<ResolvedTable> tables) {
        Set<String> names = new LinkedHashSet<>();
        for (CommitTarget target : JobWiring.of(config, tables).commitTargets()) {
            names.add(target.table());
        }
        List<TableIdentifier> identifiers = new ArrayList<>();
        names.forEach(name -> identifiers.add(TableIdentifier.parse(name)));
        return identifiers;
    }

    private static void attach(
            StreamExecutionEnvironment env,
            PipelineConfig config,
            MaintenanceConfig maintenance,
            TableIdentifier target,
            Map<String, String> stamp)
            throws IOException {
        // the lock's connection: the catalog's jdbc.user and jdbc.password; its table made
        // before the job (createLockTable)
        Map<String, String> lockProperties = new HashMap<>(config.catalogProperties());
        lockProperties.put(JdbcLockFactory.INIT_LOCK_TABLES_PROPERTY, "false");
        TableMaintenance.Builder builder =
                TableMaintenance.forTable(
                                env,
                                new StampingTableLoader(
                                        TableLoader.fromCatalog(
                                                TidemarkJob.catalogLoader(config), target),
                                        stamp),
                                new DriverRegisteringLockFactory(
                                        maintenance.lockJdbcUri(),
                                        lockId(config.pipelineId(), target),
                                        lockProperties))
                        .rateLimit(maintenance.minInterval())
                        // a task due while another runs (the lock held) is tried again after
                        // this, not Iceberg's 30 s: a compaction and a fold take turns
                        .lockCheckDelay(maintenance.minInterval())
                        .parallelism(1);
        List<String> tasks = new ArrayList<>();
        if (maintenance.compactEveryCommits() > 0) {
            RewriteDataFiles.Builder compaction =
                    RewriteDataFiles.builder()
                            .scheduleOnCommitCount(maintenance.compactEveryCommits());
            int threshold = maintenance.compactDeleteFileThreshold();
            if (threshold == 0 && maintenance.foldEveryDeleteFiles() > 0) {
                // the fold keeps a table's data files too few for a compaction by count or size
                // (Iceberg's bin-pack rewrites nothing then), and the folded deletes stay live on
                // the oldest files, growing: a compaction rewrites every file a delete applies to
                threshold = 1;
            }
            if (threshold > 0) {
                // a data file of the target size is otherwise never rewritten: its sequence
                // number stays the table's lowest, and every equality delete committed after it
                // stays live (Iceberg drops a delete file at a commit only once no data file is
                // older)
                compaction.deleteFileThreshold(threshold);
            }
            builder.add(compaction);
            tasks.add("compaction");
        }
        if (maintenance.expireEveryCommits() > 0) {
            builder.add(
                    ExpireSnapshots.builder()
                            .scheduleOnCommitCount(maintenance.expireEveryCommits())
                            .retainLast(maintenance.retainLast())
                            .maxSnapshotAge(maintenance.maxSnapshotAge()));
            tasks.add("expire-snapshots");
        }
        if (!maintenance.orphanFilesEvery().isZero()) {
            builder.add(
                    DeleteOrphanFiles.builder()
                            .scheduleOnInterval(maintenance.orphanFilesEvery())
                            .minAge(maintenance.orphanFilesMinAge()));
            tasks.add("orphan-files");
        }
        if (maintenance.foldEveryDeleteFiles() > 0) {
            builder.add(
                    FoldDeletes.builder(stamp)
                            .scheduleOnEqDeleteFileCount(maintenance.foldEveryDeleteFiles()));
            tasks.add("fold-deletes");
        }
        // the tasks in the uids: Iceberg's trigger manager keeps its state per task, by
        // position, and failed on a restored state of another number of tasks (at its first
        // trigger, again at every restart); a savepoint's maintenance state of other tasks is
        // dropped instead (RetainedState.withMaintenanceDropped)
        builder.uidSuffix(Uids.maintenance(target.toString(), tasks)).append();
    }

    /**
     * The ids of the maintenance operators {@code tables} may have, with every set of tasks: the
     * state a start with other tasks, or none, may leave unrestored ({@link
     * RetainedState#withMaintenanceDropped}).
     */
    public static Set<OperatorID> operatorIds(PipelineConfig config, List<ResolvedTable> tables) {
        Set<OperatorID> ids = new HashSet<>();
        if (tables.isEmpty()) {
            return ids;
        }
        for (int set = 1; set < 16; set++) {
            collect(ids, config, tables, scheduling(set));
        }
        return ids;
    }

    /**
     * Maintenance with the tasks of {@code set}: bit 0 compaction, 1 expiry, 2 orphan files, 3
     * fold.
     */
    private static MaintenanceConfig scheduling(int set) {
        return new MaintenanceConfig(
                set & 1,
                1,
                (set >> 3) & 1,
                (set >> 1) & 1,
                1,
                Duration.ofDays(1),
                (set & 4) == 0 ? Duration.ZERO : Duration.ofDays(1),
                Duration.ofDays(1),
                Duration.ofMinutes(1),
                // never opened: only the graph is made
                "jdbc:postgresql://unused/unused");
    }

    private static void collect(
            Set<OperatorID> ids,
            PipelineConfig config,
            List<ResolvedTable> tables,
            MaintenanceConfig maintenance) {
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(new Configuration());
        attach(env, config, maintenance, tables, Map.of());
        for (JobVertex vertex : env.getStreamGraph().getJobGraph().getVertices()) {
            for (OperatorIDPair pair : vertex.getOperatorIDs()) {
                ids.add(pair.getGeneratedOperatorID());
                pair.getUserDefinedOperatorID().ifPresent(ids::add);
            }
        }
    }

    /**
     * Iceberg's JDBC lock, with the JDBC drivers registered before it connects: an operator of the
     * job has the job's class loader, whose drivers another job's registration does not serve (see
     * {@link DriverRegisteringCatalogLoader}).
     */
    private static final class DriverRegisteringLockFactory extends JdbcLockFactory {

        private static final long serialVersionUID = 1L;

        DriverRegisteringLockFactory(String uri, String lockId, Map<String, String> properties) {
            super(uri, lockId, properties);
        }

        @Override
        public void open() {
            Catalogs.registerJdbcDrivers();
            super.open();
        }
    }

    /** The lock's id: the pipeline and the table, within the lock table's 100 characters. */
    static String lockId(String pipelineId, TableIdentifier target) {
        String id = pipelineId + ":" + target;
        return id.length() < 100
                ? id
                : id.substring(0, 80) + ":" + Integer.toHexString(id.hashCode());
    }
}
