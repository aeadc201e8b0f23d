package io.tidemark.commit;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.runtime.RunContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.FileIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The delete files a compaction leaves behind, removed by the committer after it. A compaction (the
 * job's {@code maintenance.compaction}, Trino's {@code optimize}, Spark's {@code
 * rewrite_data_files}) writes data files with their deletes applied, but leaves every equality
 * delete file in the table: each applies to the data files older than itself, and once none is, it
 * applies to nothing yet is still read by every scan. Iceberg 1.10.1 drops delete files older than
 * every data file only in a commit that removes data files and names no delete file it removes: its
 * Flink compaction names the position deletes of the files it rewrote, and a pipeline commit
 * removes no data file, so none was dropped; a table compacted every 50 commits held 2,688 of them
 * after 2,000 checkpoints and read 4.3 times slower than its rows freshly written ({@code
 * MaintenanceBenchmark}).
 *
 * <p>After a commit to a table whose history gained a rewrite since the job's previous commit to
 * it, the oldest data sequence number of its live data files is read from the manifest list (each
 * manifest's own minimum: never above its live files'), and the delete files that no data file that
 * old or newer can match are removed in one Iceberg {@code replace} that changes no row: an
 * equality delete applies to data files of a lower sequence number, so one at or below the oldest
 * is dangling; a position delete (or deletion vector) applies to data files of its own sequence
 * number or lower, so one below the oldest is. A file a concurrent commit adds cannot make a
 * removed delete file apply again: an append takes a new, higher sequence number, and a rewrite
 * keeps one no lower than the files it replaces, which were live here or came later. The snapshot
 * carries {@link Provenance#DANGLING_DELETES_REMOVED}, the run id and the code version, and no
 * checkpoint. The removal is best effort: a failure (a compaction removing the same files
 * meanwhile) is logged and the table checked again at its next commit; it never fails the commit.
 */
public final class DanglingDeletes {

    private static final Logger LOG = LoggerFactory.getLogger(DanglingDeletes.class);

    private final RunContext run;

    /** Per table, the snapshot its delete files were last checked at. */
    private final Map<String, Long> checkedAt = new HashMap<>();

    DanglingDeletes(RunContext run) {
        this.run = run;
    }

    /**
     * After a commit to {@code table} (target {@code name}): removes its dangling delete files if
     * its history gained a rewrite since the last check.
     */
    void afterCommit(String name, Table table) {
        Snapshot current = table.currentSnapshot();
        if (current == null) {
            return;
        }
        Long last = checkedAt.put(name, current.snapshotId());
        if (last == null || !rewrittenSince(table, current, last)) {
            // the first commit of this job to the table only starts the watch: the equality
            // deletes of a table's first commits match nothing either, but they are few, and a
            // snapshot of maintenance after every start would bury the pipeline's own commit
            return;
        }
        try {
            if (remove(table, current, run) > 0) {
                checkedAt.put(name, table.currentSnapshot().snapshotId());
            }
        } catch (RuntimeException e) {
            // the next commit finds the same rewrite since this check's start
            checkedAt.put(name, last);
            LOG.warn(
                    "Could not remove the dangling delete files of {}; checking again at its next commit",
                    name,
                    e);
        }
    }

    /**
     * Removes the live delete files of {@code table}'s {@code current} snapshot that no live data
     * file can match, in one {@code replace} validated from it that carries {@code run}'s
     * provenance; returns how many (0: nothing committed).
     */
    public static int remove(Table table, Snapshot current, RunContext run) {
        List<DeleteFile> dangling = find(table, current);
        if (dangling.isEmpty()) {
            return 0;
        }
        RewriteFiles rewrite = table.newRewrite().validateFromSnapshot(current.snapshotId());
        dangling.forEach(rewrite::deleteFile);
        rewrite.set(Provenance.DANGLING_DELETES_REMOVED, Integer.toString(dangling.size()))
                .set(Provenance.RUN_ID, run.runId())
                .set(Provenance.CODE_VERSION, run.codeVersion())
                .commit();
        LOG.info(
                "Removed {} delete files from {} that no live data file is old enough for (left by a compaction) as snapshot {}",
                dangling.size(),
                table.name(),
                table.currentSnapshot().snapshotId());
        return dangling.size();
    }

    /**
     * Whether a snapshot from {@code current} back to {@code last} (not included) rewrote files
     * (other than a removal of dangling deletes). An ancestry that does not reach {@code last} (an
     * expiry, a rollback) counts as a rewrite.
     */
    private static boolean rewrittenSince(Table table, Snapshot current, long last) {
        for (Snapshot s = current; s != null; ) {
            if (s.snapshotId() == last) {
                return false;
            }
            if (DataOperations.REPLACE.equals(s.operation())
                    && !s.summary().containsKey(Provenance.DANGLING_DELETES_REMOVED)) {
                return true;
            }
            s = s.parentId() == null ? null : table.snapshot(s.parentId());
        }
        return true;
    }

    /** The live delete files of {@code snapshot} that no live data file can match. */
    static List<DeleteFile> find(Table table, Snapshot snapshot) {
        FileIO io = table.io();
        long oldestData = Long.MAX_VALUE;
        for (ManifestFile manifest : snapshot.dataManifests(io)) {
            if (!manifest.hasAddedFiles() && !manifest.hasExistingFiles()) {
                continue;
            }
            long min = manifest.minSequenceNumber();
            if (min < 0) {
                // not assigned: nothing is known to be dangling
                return List.of();
            }
            oldestData = Math.min(oldestData, min);
        }
        List<DeleteFile> dangling = new ArrayList<>();
        for (ManifestFile manifest : snapshot.deleteManifests(io)) {
            if (manifest.minSequenceNumber() < 0 || manifest.minSequenceNumber() > oldestData) {
                continue;
            }
            try (ManifestReader<DeleteFile> reader =
                    ManifestFiles.readDeleteManifest(manifest, io, table.specs())) {
                for (DeleteFile file : reader) {
                    if (!appliesToData(file, oldestData)) {
                        dangling.add(file.copyWithoutStats());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dangling;
    }

    /**
     * Whether {@code file} can match a row of a data file whose data sequence number is {@code
     * oldestData} or higher.
     */
    static boolean appliesToData(DeleteFile file, long oldestData) {
        Long sequence = file.dataSequenceNumber();
        if (sequence == null) {
            return true;
        }
        return file.content() == FileContent.EQUALITY_DELETES
                ? sequence > oldestData
                : sequence >= oldestData;
    }
}
