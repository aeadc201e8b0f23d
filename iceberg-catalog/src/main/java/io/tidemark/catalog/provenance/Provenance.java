package io.tidemark.catalog.provenance;

import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/**
 * The {@code tidemark.*} keys every Tidemark commit writes into its Iceberg snapshot summary, and
 * reading them back. Trino shows the same keys in the {@code summary} column of a table's {@code
 * $snapshots} table.
 *
 * <p>A commit is identified by (pipeline id, lineage, checkpoint id): the lineage is made by a run
 * that starts without state ({@code <run id>.<8 random hex>}); runs restored from its checkpoints
 * or savepoints inherit it, so a checkpoint committed before a failover is recognised after it
 * under any Flink job id, and a start without state never mistakes its checkpoints for older ones.
 */
public final class Provenance {

    public static final String PIPELINE_ID = "tidemark.pipeline-id";
    public static final String RUN_ID = "tidemark.run-id";
    public static final String LINEAGE = "tidemark.lineage";
    public static final String CHECKPOINT_ID = "tidemark.checkpoint-id";

    /**
     * Present only when a checkpoint's changes of a table are committed in several snapshots (its
     * writers switched to a schema evolved while running, see {@code ChangeWriter}): 0, 1, ... in
     * commit order. Absent means part 0.
     */
    public static final String CHECKPOINT_PART = "tidemark.checkpoint-part";

    public static final String FLINK_JOB_ID = "tidemark.flink-job-id";
    public static final String CODE_VERSION = "tidemark.code-version";
    public static final String CONTRACT_VERSION = "tidemark.contract-version";
    public static final String SOURCE_POSITIONS = "tidemark.source-positions";
    public static final String VALID_THROUGH = "tidemark.valid-through";
    public static final String ROWS_IN = "tidemark.rows-in";
    public static final String ROWS_UPSERTED = "tidemark.rows-upserted";
    public static final String ROWS_DELETED = "tidemark.rows-deleted";
    public static final String ROWS_QUARANTINED = "tidemark.rows-quarantined";
    public static final String ROWS_STALE = "tidemark.rows-stale";
    public static final String ROWS_LATE = "tidemark.rows-late";

    /**
     * On a snapshot that applied a source {@code TRUNCATE} before its rows: the truncate's source
     * position ({@code source/commit_lsn/change_lsn}); the snapshot removes every file the table
     * held.
     */
    public static final String TRUNCATED_AT = "tidemark.truncated-at";

    /**
     * On the first commit of a start without state that snapshots its tables again into a table
     * that held files: how many, all removed in this commit (the snapshot adds back what the source
     * holds, so a row deleted in the source meanwhile does not stay).
     */
    public static final String REPLACED_FILES = "tidemark.replaced-files";

    /**
     * The re-snapshot request ({@code tidemark resnapshot}, {@code verify --repair}) whose re-read
     * rows this commit holds, where it holds any (the request number the table property {@code
     * tidemark.resnapshot.requested} carried).
     */
    public static final String RESNAPSHOT = "tidemark.resnapshot";

    /**
     * On a snapshot of the pipeline's committer that only removes delete files no live data file is
     * old enough for (left behind by a compaction): how many; also carries {@link #RUN_ID} and
     * {@link #CODE_VERSION}, never {@link #PIPELINE_ID} (it holds no checkpoint).
     */
    public static final String DANGLING_DELETES_REMOVED = "tidemark.dangling-deletes-removed";

    /**
     * On a snapshot of the job's table maintenance ({@link #MAINTENANCE} {@code fold-deletes}) that
     * folds the data and delete files committed since a table's last compaction into one data file
     * and one equality-delete file, changing no row: how many files it replaced.
     */
    public static final String DELETES_FOLDED = "tidemark.deletes-folded";

    /**
     * On the empty snapshot the pipeline commits, before a job that removes orphan files, to a
     * table it maintains that has none: Iceberg's orphan-file removal (1.11.0) keeps the metadata
     * files only of tables with a snapshot, and removed the only {@code metadata.json} of a table
     * without one. Carries why, with {@link #RUN_ID} and {@link #CODE_VERSION}, never {@link
     * #PIPELINE_ID} (it holds no checkpoint).
     */
    public static final String FIRST_SNAPSHOT = "tidemark.first-snapshot";

    /**
     * On a snapshot the pipeline's table maintenance commits (Iceberg's Flink maintenance tasks,
     * run by the job): the task, {@code compaction} or {@code fold-deletes}. Also carries {@link
     * #RUN_ID} and {@link #CODE_VERSION}, never {@link #PIPELINE_ID} (it holds no checkpoint).
     */
    public static final String MAINTENANCE = "tidemark.maintenance";

    /** Every key a Tidemark commit carries; {@link #VALID_THROUGH} only once a watermark exists. */
    public static final List<String> KEYS =
            List.of(
                    PIPELINE_ID,
                    RUN_ID,
                    LINEAGE,
                    CHECKPOINT_ID,
                    FLINK_JOB_ID,
                    CODE_VERSION,
                    CONTRACT_VERSION,
                    SOURCE_POSITIONS,
                    VALID_THROUGH,
                    ROWS_IN,
                    ROWS_UPSERTED,
                    ROWS_DELETED,
                    ROWS_QUARANTINED,
                    ROWS_STALE,
                    ROWS_LATE);

    private Provenance() {}

    /** One Tidemark commit of a table, as its snapshot records it. */
    public record Commit(long snapshotId, Instant committedAt, Map<String, String> summary) {

        public String get(String key) {
            return summary.getOrDefault(key, "-");
        }

        public long checkpointId() {
            return Long.parseLong(summary.get(CHECKPOINT_ID));
        }
    }

    /** The newest {@code limit} Tidemark commits of {@code table}, newest first. */
    public static List<Commit> lastCommits(Table table, int limit) {
        List<Commit> commits = new ArrayList<>();
        for (Snapshot snapshot = table.currentSnapshot();
                snapshot != null && commits.size() < limit;
                snapshot = parent(table, snapshot)) {
            if (snapshot.summary().containsKey(CHECKPOINT_ID)) {
                commits.add(
                        new Commit(
                                snapshot.snapshotId(),
                                Instant.ofEpochMilli(snapshot.timestampMillis()),
                                snapshot.summary()));
            }
        }
        return commits;
    }

    /** Where a lineage's commits to a table stand: a checkpoint and its part. */
    public record CommitPoint(long checkpointId, int part) implements Comparable<CommitPoint> {

        /** Before every commit. */
        public static final CommitPoint NONE = new CommitPoint(-1L, 0);

        @Override
        public int compareTo(CommitPoint other) {
            return checkpointId != other.checkpointId
                    ? Long.compare(checkpointId, other.checkpointId)
                    : Integer.compare(part, other.part);
        }
    }

    /**
     * Prefix of the table property that holds, per pipeline, its newest commit to the table: {@code
     * <lineage> <checkpoint> <part>}. Set in the same Iceberg transaction as each commit, so it
     * survives what history does not: snapshot expiry, a compaction or another engine's commit on
     * top, a rollback.
     */
    public static final String COMMITTED_THROUGH = "tidemark.committed-through.";

    /** The property {@link #COMMITTED_THROUGH} of {@code pipelineId}. */
    public static String committedThroughKey(String pipelineId) {
        return COMMITTED_THROUGH + pipelineId;
    }

    /** The value of {@link #COMMITTED_THROUGH} for {@code lineage}'s commit at {@code point}. */
    public static String committedThroughValue(String lineage, CommitPoint point) {
        return lineage + " " + point.checkpointId() + " " + point.part();
    }

    /**
     * The newest (checkpoint, part) of ({@code pipelineId}, {@code lineage}) in {@code table}: from
     * its {@link #COMMITTED_THROUGH} property when that names the lineage (one read, whatever the
     * history), otherwise from the history (the current snapshot and its ancestors: commits of an
     * older lineage, or of a release before the property); {@link CommitPoint#NONE} if neither
     * holds one.
     */
    public static CommitPoint lastCommitted(Table table, String pipelineId, String lineage) {
        String marked = table.properties().get(committedThroughKey(pipelineId));
        if (marked != null) {
            String[] parts = marked.split(" ");
            if (parts.length == 3 && parts[0].equals(lineage)) {
                return new CommitPoint(Long.parseLong(parts[1]), Integer.parseInt(parts[2]));
            }
        }
        for (Snapshot snapshot = table.currentSnapshot();
                snapshot != null;
                snapshot = parent(table, snapshot)) {
            Map<String, String> summary = snapshot.summary();
            if (pipelineId.equals(summary.get(PIPELINE_ID))
                    && lineage.equals(summary.get(LINEAGE))
                    && summary.containsKey(CHECKPOINT_ID)) {
                return new CommitPoint(
                        Long.parseLong(summary.get(CHECKPOINT_ID)),
                        Integer.parseInt(summary.getOrDefault(CHECKPOINT_PART, "0")));
            }
        }
        return CommitPoint.NONE;
    }

    /**
     * The highest checkpoint of ({@code pipelineId}, {@code lineage}) that {@code table}'s history
     * (the current snapshot and its ancestors) holds, or -1. Commits of one lineage happen in
     * checkpoint order, so the newest one found is the highest.
     */
    public static long lastCommittedCheckpoint(Table table, String pipelineId, String lineage) {
        return lastCommitted(table, pipelineId, lineage).checkpointId();
    }

    private static Snapshot parent(Table table, Snapshot snapshot) {
        Long parentId = snapshot.parentId();
        return parentId == null ? null : table.snapshot(parentId);
    }

    /** Prints {@code commits} of {@code tableName} for people, one block per commit. */
    public static void print(String tableName, List<Commit> commits, PrintStream out) {
        if (commits.isEmpty()) {
            out.printf("%s: no Tidemark commits%n", tableName);
            return;
        }
        out.printf("%s: last %d Tidemark commit(s), newest first%n", tableName, commits.size());
        for (Commit commit : commits) {
            out.printf(
                    "  snapshot %d at %s: checkpoint %s of pipeline %s, run %s (lineage %s), code %s, contract %s%n",
                    commit.snapshotId(),
                    commit.committedAt(),
                    commit.get(CHECKPOINT_ID),
                    commit.get(PIPELINE_ID),
                    commit.get(RUN_ID),
                    commit.get(LINEAGE),
                    commit.get(CODE_VERSION),
                    commit.get(CONTRACT_VERSION));
            out.printf(
                    "    valid through %s; source positions %s%n",
                    commit.get(VALID_THROUGH), commit.get(SOURCE_POSITIONS));
            out.printf(
                    "    rows in %s, upserted %s, deleted %s, quarantined %s, stale %s, late %s; files +%s data, +%s delete%n",
                    commit.get(ROWS_IN),
                    commit.get(ROWS_UPSERTED),
                    commit.get(ROWS_DELETED),
                    commit.get(ROWS_QUARANTINED),
                    commit.get(ROWS_STALE),
                    commit.get(ROWS_LATE),
                    commit.summary().getOrDefault("added-data-files", "0"),
                    commit.summary().getOrDefault("added-delete-files", "0"));
            if (commit.summary().containsKey(RESNAPSHOT)) {
                out.printf("    holds rows of re-snapshot %s%n", commit.get(RESNAPSHOT));
            }
        }
    }
}
