package io.tidemark.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/** Reads a table's snapshots back as Tidemark commits and checks the commit invariants. */
public final class CommitHistory {

    private CommitHistory() {}

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
}
