package io.tidemark.job;

import io.tidemark.config.MaintenanceConfig;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
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
 * Table maintenance beside the stream, with Iceberg's Flink {@link TableMaintenance}: per target
 * table a monitor of its new snapshots that triggers, as {@code maintenance.*} schedules them, a
 * compaction (data files rewritten with their deletes applied, committed as Iceberg's {@code
 * replace} at the sequence number it started from, so deletes the pipeline commits meanwhile still
 * apply to the rewritten rows), a snapshot expiry and an orphan-file removal. Runs of one table
 * never overlap (a lock in a JDBC database). It cannot race the committer into a wrong table:
 * Iceberg's optimistic commits let the one that lost retry or give up, and the committer's
 * idempotence rests on its committed-through mark, which expiry and compaction leave in place.
 */
public final class MaintenanceStage {

    private MaintenanceStage() {}

    /** Adds the maintenance of every target table of {@code tables} to {@code env}, if any. */
    static void attach(
            StreamExecutionEnvironment env, PipelineConfig config, List<ResolvedTable> tables) {
        if (config.maintenance().enabled()) {
            attach(env, config, config.maintenance(), tables);
        }
    }

    private static void attach(
            StreamExecutionEnvironment env,
            PipelineConfig config,
            MaintenanceConfig maintenance,
            List<ResolvedTable> tables) {
        for (ResolvedTable table : tables) {
            try {
                attach(env, config, maintenance, table.target());
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "cannot plan the maintenance of " + table.target(), e);
            }
        }
    }

    private static void attach(
            StreamExecutionEnvironment env,
            PipelineConfig config,
            MaintenanceConfig maintenance,
            TableIdentifier target)
            throws IOException {
        // the lock's connection: the catalog's jdbc.user and jdbc.password; its table made once
        Map<String, String> lockProperties = new HashMap<>(config.catalogProperties());
        lockProperties.put(JdbcLockFactory.INIT_LOCK_TABLES_PROPERTY, "true");
        TableMaintenance.Builder builder =
                TableMaintenance.forTable(
                                env,
                                TableLoader.fromCatalog(TidemarkJob.catalogLoader(config), target),
                                new JdbcLockFactory(
                                        maintenance.lockJdbcUri(),
                                        lockId(config.pipelineId(), target),
                                        lockProperties))
                        .uidSuffix(Uids.maintenance(target.toString()))
                        .rateLimit(maintenance.minInterval())
                        .parallelism(1);
        if (maintenance.compactEveryCommits() > 0) {
            builder.add(
                    RewriteDataFiles.builder()
                            .scheduleOnCommitCount(maintenance.compactEveryCommits()));
        }
        if (maintenance.expireEveryCommits() > 0) {
            builder.add(
                    ExpireSnapshots.builder()
                            .scheduleOnCommitCount(maintenance.expireEveryCommits())
                            .retainLast(maintenance.retainLast())
                            .maxSnapshotAge(maintenance.maxSnapshotAge()));
        }
        if (!maintenance.orphanFilesEvery().isZero()) {
            builder.add(
                    DeleteOrphanFiles.builder()
                            .scheduleOnInterval(maintenance.orphanFilesEvery())
                            .minAge(maintenance.orphanFilesMinAge()));
        }
        builder.append();
    }

    /**
     * The ids of the maintenance operators {@code tables} would have with every task scheduled: the
     * state a start without maintenance may leave unrestored ({@link
     * RetainedState#withMaintenanceDropped}).
     */
    public static Set<OperatorID> operatorIds(PipelineConfig config, List<ResolvedTable> tables) {
        MaintenanceConfig every =
                new MaintenanceConfig(
                        1,
                        1,
                        1,
                        Duration.ofDays(1),
                        Duration.ofDays(1),
                        Duration.ofDays(1),
                        Duration.ofMinutes(1),
                        // never opened: only the graph is made
                        "jdbc:postgresql://unused/unused");
        StreamExecutionEnvironment env = new StreamExecutionEnvironment(new Configuration());
        attach(env, config, every, tables);
        Set<OperatorID> ids = new HashSet<>();
        if (tables.isEmpty()) {
            return ids;
        }
        for (JobVertex vertex : env.getStreamGraph().getJobGraph().getVertices()) {
            for (OperatorIDPair pair : vertex.getOperatorIDs()) {
                ids.add(pair.getGeneratedOperatorID());
                pair.getUserDefinedOperatorID().ifPresent(ids::add);
            }
        }
        return ids;
    }

    /** The lock's id: the pipeline and the table, within the lock table's 100 characters. */
    static String lockId(String pipelineId, TableIdentifier target) {
        String id = pipelineId + ":" + target;
        return id.length() < 100
                ? id
                : id.substring(0, 80) + ":" + Integer.toHexString(id.hashCode());
    }
}
