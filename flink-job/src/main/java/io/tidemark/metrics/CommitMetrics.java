package io.tidemark.metrics;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * Per-table metrics of the committer, registered as {@code tidemark.committer.table.<t>}:
 *
 * <ul>
 *   <li>{@code commits}, {@code dataFilesAdded}, {@code deleteFilesAdded}: counters;
 *   <li>{@code lastCommitDurationMillis}: how long the last commit took;
 *   <li>{@code secondsSinceLastCommit}: since the last successful commit of this job (or its start,
 *       before the first). A table without changes gets no snapshot, so alert on it only together
 *       with the source being busy, or above the table's freshness target (docs/operations.md).
 * </ul>
 */
public final class CommitMetrics {

    private final Counter commits;
    private final Counter dataFilesAdded;
    private final Counter deleteFilesAdded;
    private volatile long lastCommitDurationMillis;
    private volatile long lastCommitAtMillis;

    public CommitMetrics(MetricGroup operatorGroup, String table) {
        MetricGroup group =
                operatorGroup.addGroup("tidemark").addGroup("committer").addGroup("table", table);
        commits = group.counter("commits");
        dataFilesAdded = group.counter("dataFilesAdded");
        deleteFilesAdded = group.counter("deleteFilesAdded");
        lastCommitAtMillis = System.currentTimeMillis();
        group.gauge("lastCommitDurationMillis", (Gauge<Long>) () -> lastCommitDurationMillis);
        group.gauge(
                "secondsSinceLastCommit",
                (Gauge<Long>) () -> (System.currentTimeMillis() - lastCommitAtMillis) / 1000L);
    }

    public void committed(long durationMillis, int dataFiles, int deleteFiles) {
        commits.inc();
        dataFilesAdded.inc(dataFiles);
        deleteFilesAdded.inc(deleteFiles);
        lastCommitDurationMillis = durationMillis;
        lastCommitAtMillis = System.currentTimeMillis();
    }
}
