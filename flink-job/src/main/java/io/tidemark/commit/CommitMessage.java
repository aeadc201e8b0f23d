package io.tidemark.commit;

import io.tidemark.decode.SourcePosition;
import java.util.Map;

/**
 * What the writers and the reconciler tell the committer about one checkpoint. Sent as bytes of
 * {@link CommitMessageSerializer}, which is also how the committer keeps them in its state.
 */
public sealed interface CommitMessage permits CommitMessage.FilesWritten, CommitMessage.Tally {

    /** The checkpoint the message belongs to ({@link Long#MAX_VALUE} at the end of input). */
    long checkpointId();

    /**
     * Files one writer subtask wrote for one Iceberg table up to a checkpoint barrier: Iceberg
     * manifests listing them ({@code DeltaManifests} bytes of the given serializer version), and
     * the rows they upsert and delete.
     */
    record FilesWritten(
            long checkpointId,
            String table,
            int manifestsVersion,
            byte[] manifests,
            long rowsUpserted,
            long rowsDeleted)
            implements CommitMessage {}

    /**
     * What one reconciler subtask saw up to a checkpoint barrier: per source table the changes in,
     * dropped as stale and found late; per source the newest position received; its watermark.
     */
    record Tally(
            long checkpointId,
            int subtask,
            long watermark,
            Map<String, Counts> tables,
            Map<String, SourcePosition> positions)
            implements CommitMessage {}

    /** Change counts of one source table. */
    record Counts(long in, long stale, long late) {

        public static final Counts ZERO = new Counts(0, 0, 0);

        public Counts plus(Counts other) {
            return new Counts(in + other.in, stale + other.stale, late + other.late);
        }
    }
}
