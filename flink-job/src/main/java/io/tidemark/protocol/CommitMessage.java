package io.tidemark.protocol;

import io.tidemark.decode.SourcePosition;
import java.util.Map;

/**
 * What the writers, the contract gate and the reconciler tell the committer about one checkpoint.
 * Sent as bytes of {@link CommitMessageSerializer}, which is also how the committer keeps them in
 * its state. The commit protocol lives in a package of its own, below every stage that speaks it,
 * so that the stages do not import the committer's package nor it theirs.
 */
public sealed interface CommitMessage
        permits CommitMessage.FilesWritten, CommitMessage.Tally, CommitMessage.GateTally {

    /** The checkpoint the message belongs to ({@link Long#MAX_VALUE} at the end of input). */
    long checkpointId();

    /**
     * Files one writer subtask wrote for one Iceberg table up to a checkpoint barrier: Iceberg
     * manifests listing them ({@code DeltaManifests} bytes of the given serializer version), and
     * the rows they upsert and delete. {@code part} is 0 unless the writer switched the table to a
     * schema evolved while running within the checkpoint: its files before the switch are part 0,
     * after it part 1, and so on; the committer commits a checkpoint's parts in order, each as its
     * own snapshot, so the equality deletes of a later part apply to the rows of an earlier one. A
     * source truncate of the table starts a new epoch of parts ({@code part} / 65,536): the first
     * part of such an epoch has {@code truncatedAt} (the truncate's source position, as text), and
     * the committer empties the table in the snapshot that adds it; it is sent without files
     * ({@link #NO_FILES}) when the writer wrote nothing after the truncate.
     */
    record FilesWritten(
            long checkpointId,
            String table,
            int part,
            int manifestsVersion,
            byte[] manifests,
            long rowsUpserted,
            long rowsDeleted,
            String truncatedAt)
            implements CommitMessage {

        /**
         * {@code manifestsVersion} of a message without files (a truncate the writer passed on).
         */
        public static final int NO_FILES = -1;

        private static final String DURING_SNAPSHOT =
                " (while the table's snapshot was being read: ";

        /**
         * The {@code truncatedAt} of a truncate at {@code position}; {@code duringSnapshot}, if not
         * null, says it came while the table's snapshot was being read (see {@link
         * #readAgainAfter}).
         */
        public static String truncatedAt(String position, String duringSnapshot) {
            return duringSnapshot == null
                    ? position
                    : position + DURING_SNAPSHOT + duringSnapshot + "; read again)";
        }

        /**
         * Whether the truncate {@code truncatedAt} came while its table's snapshot was being read:
         * chunks read after it were written before it and are emptied with the table, so the commit
         * that empties it also asks for the table to be read again.
         */
        public static boolean readAgainAfter(String truncatedAt) {
            return truncatedAt != null && truncatedAt.contains(DURING_SNAPSHOT);
        }

        public FilesWritten(
                long checkpointId,
                String table,
                int part,
                int manifestsVersion,
                byte[] manifests,
                long rowsUpserted,
                long rowsDeleted) {
            this(
                    checkpointId,
                    table,
                    part,
                    manifestsVersion,
                    manifests,
                    rowsUpserted,
                    rowsDeleted,
                    null);
        }

        /** Files of part 0. */
        public FilesWritten(
                long checkpointId,
                String table,
                int manifestsVersion,
                byte[] manifests,
                long rowsUpserted,
                long rowsDeleted) {
            this(checkpointId, table, 0, manifestsVersion, manifests, rowsUpserted, rowsDeleted);
        }
    }

    /**
     * What one reconciler subtask saw up to a checkpoint barrier: per source table the changes in,
     * dropped as stale and found late; per source the newest position received; its watermark; per
     * source table the newest re-snapshot request whose changes it received.
     */
    record Tally(
            long checkpointId,
            int subtask,
            long watermark,
            Map<String, Counts> tables,
            Map<String, SourcePosition> positions,
            Map<String, Long> resnapshots)
            implements CommitMessage {

        /** A tally of an interval without re-snapshot changes. */
        public Tally(
                long checkpointId,
                int subtask,
                long watermark,
                Map<String, Counts> tables,
                Map<String, SourcePosition> positions) {
            this(checkpointId, subtask, watermark, tables, positions, Map.of());
        }
    }

    /**
     * What one contract gate subtask saw up to a checkpoint barrier, per source table: the changes
     * in, passed and quarantined, and {@code forwarded}, the changes its passing ones become for
     * the reconciler (an update that changes the primary key is split in two). The committer checks
     * per checkpoint that every change in was passed or quarantined, that the reconcilers received
     * what was forwarded and that the quarantine writers wrote what was quarantined.
     */
    record GateTally(long checkpointId, int subtask, Map<String, GateCounts> tables)
            implements CommitMessage {}

    /** Gate counts of one source table. */
    record GateCounts(long in, long passed, long quarantined, long forwarded) {

        public static final GateCounts ZERO = new GateCounts(0, 0, 0, 0);

        public GateCounts plus(GateCounts other) {
            return new GateCounts(
                    in + other.in,
                    passed + other.passed,
                    quarantined + other.quarantined,
                    forwarded + other.forwarded);
        }
    }

    /** Change counts of one source table. */
    record Counts(long in, long stale, long late) {

        public static final Counts ZERO = new Counts(0, 0, 0);

        public Counts plus(Counts other) {
            return new Counts(in + other.in, stale + other.stale, late + other.late);
        }
    }
}
