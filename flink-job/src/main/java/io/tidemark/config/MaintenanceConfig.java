package io.tidemark.config;

import java.io.Serializable;
import java.time.Duration;

/**
 * Table maintenance the job runs beside the stream ({@code maintenance.*}), each task off unless
 * the file schedules it: compaction (data files rewritten with their deletes applied), the fold of
 * the files committed since (see {@code io.tidemark.maintenance.DeleteFold}), snapshot expiry,
 * orphan-file removal. Runs of one table never overlap (a lock in {@code lockJdbcUri}'s database)
 * and never more often than {@code minInterval}.
 *
 * @param compactEveryCommits rewrite the data files after this many new commits; 0: never
 * @param compactDeleteFileThreshold a compaction rewrites every data file that at least this many
 *     delete files apply to, whatever its size; 0: size alone decides
 * @param foldEveryDeleteFiles fold the files committed since the last compaction after this many
 *     new equality-delete files; 0: never
 * @param expireEveryCommits expire snapshots after this many new commits; 0: never
 * @param retainLast snapshots an expiry always keeps
 * @param maxSnapshotAge snapshots older than this (beyond {@code retainLast}) are expired
 * @param orphanFilesEvery remove files no snapshot references this often; zero: never
 * @param orphanFilesMinAge files younger than this are never orphans (a commit may be under way)
 * @param minInterval the least time between two runs of a task on a table
 * @param lockJdbcUri the JDBC database of the maintenance lock; null: none configured
 */
public record MaintenanceConfig(
        int compactEveryCommits,
        int compactDeleteFileThreshold,
        int foldEveryDeleteFiles,
        int expireEveryCommits,
        int retainLast,
        Duration maxSnapshotAge,
        Duration orphanFilesEvery,
        Duration orphanFilesMinAge,
        Duration minInterval,
        String lockJdbcUri)
        implements Serializable {

    /** Whether any task is scheduled. */
    public boolean enabled() {
        return compactEveryCommits > 0
                || foldEveryDeleteFiles > 0
                || expireEveryCommits > 0
                || !orphanFilesEvery.isZero();
    }
}
