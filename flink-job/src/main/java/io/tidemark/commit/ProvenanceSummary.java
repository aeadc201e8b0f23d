package io.tidemark.commit;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.provenance.Provenance.CommitPoint;
import io.tidemark.runtime.RunContext;
import org.apache.iceberg.RowDelta;

/**
 * What a commit of this committer records in its snapshot summary ({@link Provenance}'s keys): the
 * run, lineage and Flink job that made it, the checkpoint (and part) it holds, the source positions
 * it consumed, and the rows it accounts for.
 */
record ProvenanceSummary(RunContext run, String lineage, String flinkJobId) {

    /** The rows one commit of a table accounts for. */
    record Rows(long in, long upserted, long deleted, long quarantined, long stale, long late) {}

    /** Sets the summary of the commit of {@code point} on {@code delta}. */
    void applyTo(
            RowDelta delta,
            CommitPoint point,
            String contractVersion,
            String positions,
            String validThrough,
            Rows rows,
            Long resnapshot) {
        delta.set(Provenance.PIPELINE_ID, run.pipelineId())
                .set(Provenance.RUN_ID, run.runId())
                .set(Provenance.LINEAGE, lineage)
                .set(Provenance.CHECKPOINT_ID, Long.toString(point.checkpointId()))
                .set(Provenance.FLINK_JOB_ID, flinkJobId)
                .set(Provenance.CODE_VERSION, run.codeVersion())
                .set(Provenance.CONTRACT_VERSION, contractVersion)
                .set(Provenance.SOURCE_POSITIONS, positions)
                .set(Provenance.VALID_THROUGH, validThrough)
                .set(Provenance.ROWS_IN, Long.toString(rows.in()))
                .set(Provenance.ROWS_UPSERTED, Long.toString(rows.upserted()))
                .set(Provenance.ROWS_DELETED, Long.toString(rows.deleted()))
                .set(Provenance.ROWS_QUARANTINED, Long.toString(rows.quarantined()))
                .set(Provenance.ROWS_STALE, Long.toString(rows.stale()))
                .set(Provenance.ROWS_LATE, Long.toString(rows.late()));
        if (point.part() > 0) {
            delta.set(Provenance.CHECKPOINT_PART, Integer.toString(point.part()));
        }
        if (resnapshot != null) {
            delta.set(Provenance.RESNAPSHOT, Long.toString(resnapshot));
        }
    }
}
