package io.tidemark.benchmarks.maintenance;

import io.tidemark.catalog.provenance.Provenance;
import java.util.HashSet;
import java.util.Set;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/**
 * The pipeline's commits to a table, counted by checkpoint id from the snapshots seen at each look
 * (a checkpoint without changes commits nothing, so ids outrun commits): looked at more often than
 * expiry removes snapshots, it misses none; a commit expired unseen is not counted, so the count
 * errs low and the run goes on longer.
 */
final class CommitCount {

    private long newest;
    private long count;

    /** Counts the commits of checkpoints after the newest counted so far. */
    void update(Table table) {
        Set<Long> seen = new HashSet<>();
        Set<Long> checkpoints = new HashSet<>(); // a checkpoint committed in parts counts once
        long newestNow = newest;
        for (Snapshot s = table.currentSnapshot();
                s != null && seen.add(s.snapshotId());
                s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            String checkpoint = s.summary().get(Provenance.CHECKPOINT_ID);
            if (checkpoint == null) {
                continue; // maintenance's rewrites
            }
            long id = Long.parseLong(checkpoint);
            if (id <= newest) {
                break;
            }
            if (checkpoints.add(id)) {
                count++;
            }
            newestNow = Math.max(newestNow, id);
        }
        newest = newestNow;
    }

    long count() {
        return count;
    }
}
