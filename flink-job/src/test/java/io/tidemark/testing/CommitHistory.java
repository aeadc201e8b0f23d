package io.tidemark.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/** Reads a table's snapshots back as Tidemark commits and checks the commit invariants. */
public final class CommitHistory {

    private CommitHistory() {}

    /** Snapshots of {@code table} that applied a source truncate (their provenance says which). */
    public static long truncateSnapshots(Table table) {
        table.refresh();
        long count = 0;
        for (Snapshot snapshot : table.snapshots()) {
            if (snapshot.summary().containsKey(Provenance.TRUNCATED_AT)) {
                count++;
            }
        }
        return count;
    }

    /** The {@code id} column of every row of {@code table}, sorted. */
    public static java.util.List<Long> ids(Table table) throws IOException {
        java.util.List<Long> ids = new java.util.ArrayList<>();
        table.refresh();
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows =
                org.apache.iceberg.data.IcebergGenerics.read(table).build()) {
            for (org.apache.iceberg.data.Record row : rows) {
                ids.add(((Number) row.getField("id")).longValue());
            }
        }
        ids.sort(Long::compare);
        return ids;
    }

    /**
     * The details of the {@code TRUNCATE} rows in {@code target}'s namespace quarantine table whose
     * source table is {@code sourceTable} (none while that table does not exist).
     */
    public static java.util.List<String> truncatesQuarantined(
            org.apache.iceberg.catalog.Catalog catalog,
            org.apache.iceberg.catalog.TableIdentifier target,
            String sourceTable)
            throws IOException {
        java.util.List<String> details = new java.util.ArrayList<>();
        org.apache.iceberg.catalog.TableIdentifier name =
                io.tidemark.sink.QuarantineTable.unrouted(target);
        if (!catalog.tableExists(name)) {
            return details;
        }
        Table quarantine = catalog.loadTable(name);
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> rows =
                org.apache.iceberg.data.IcebergGenerics.read(quarantine).build()) {
            for (org.apache.iceberg.data.Record row : rows) {
                if ("TRUNCATE".equals(String.valueOf(row.getField("reasons")))
                        && sourceTable.equals(row.getField("source_table"))) {
                    details.add(String.valueOf(row.getField("details")));
                }
            }
        }
        return details;
    }

    /**
     * Asserts that every snapshot of {@code table} is a commit of {@code pipelineId} carrying every
     * provenance key, and that no two share (lineage, checkpoint id); returns the lineages seen.
     */
    public static Set<String> assertEachCheckpointOnce(Table table, String pipelineId) {
        Set<String> commits = new HashSet<>();
        Set<String> lineages = new HashSet<>();
        int count = 0;
        for (Snapshot snapshot : table.snapshots()) {
            count++;
            Map<String, String> summary = snapshot.summary();
            assertThat(summary)
                    .containsKeys(Provenance.KEYS.toArray(new String[0]))
                    .containsEntry(Provenance.PIPELINE_ID, pipelineId);
            lineages.add(summary.get(Provenance.LINEAGE));
            assertThat(
                            commits.add(
                                    summary.get(Provenance.LINEAGE)
                                            + "/"
                                            + summary.get(Provenance.CHECKPOINT_ID)
                                            + "/"
                                            + summary.getOrDefault(
                                                    Provenance.CHECKPOINT_PART, "0")))
                    .as(
                            "%s: checkpoint %s of lineage %s committed twice",
                            table.name(),
                            summary.get(Provenance.CHECKPOINT_ID),
                            summary.get(Provenance.LINEAGE))
                    .isTrue();
        }
        assertThat(count).as("snapshots of %s", table.name()).isPositive();
        return lineages;
    }

    /**
     * Asserts that {@code table} was emptied once by a truncate made while its snapshot was read,
     * that the commit that emptied it asked for the table to be read again, and waits (up to {@code
     * timeout}) for that re-read to be recorded and for a later commit to hold its rows.
     */
    public static void awaitReadAgainAfterTruncate(Table table, java.time.Duration timeout) {
        table.refresh();
        assertThat(truncateSnapshots(table)).isEqualTo(1);
        Snapshot emptied = null;
        for (Snapshot snapshot : table.snapshots()) {
            if (snapshot.summary().containsKey(Provenance.TRUNCATED_AT)) {
                emptied = snapshot;
            }
        }
        assertThat(emptied.summary().get(Provenance.TRUNCATED_AT))
                .contains("while the table's snapshot was being read");
        long emptiedAt = emptied.sequenceNumber();
        org.awaitility.Awaitility.await("the re-read's outcome")
                .atMost(timeout)
                .until(
                        () -> {
                            table.refresh();
                            return table.properties()
                                    .getOrDefault(
                                            io.tidemark.source.resnapshot.ResnapshotRequests
                                                    .COMPLETED,
                                            "")
                                    .contains("done");
                        });
        assertThat(io.tidemark.source.resnapshot.ResnapshotRequests.completed(table))
                .isEqualTo(io.tidemark.source.resnapshot.ResnapshotRequests.requested(table));
        org.awaitility.Awaitility.await(
                        "a commit of the re-read rows after the one that emptied the table")
                .atMost(timeout)
                .until(
                        () -> {
                            table.refresh();
                            for (Snapshot s : table.snapshots()) {
                                if (s.sequenceNumber() > emptiedAt
                                        && s.summary().containsKey(Provenance.RESNAPSHOT)) {
                                    return true;
                                }
                            }
                            return false;
                        });
    }
}
