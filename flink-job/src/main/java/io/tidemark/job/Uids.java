package io.tidemark.job;

import java.util.List;

/**
 * The one place operator uids are made. Uids name state in savepoints: never change one for an
 * existing operator, or savepoints of earlier releases stop restoring.
 */
public final class Uids {

    public static final String SOURCE = "tidemark-source";
    public static final String KEY_SPLIT = "tidemark-key-split";
    public static final String RECONCILER = "tidemark-reconciler";
    public static final String WRITER = "tidemark-writer";
    public static final String LATE_WRITER = "tidemark-late-writer";
    public static final String CONTRACT_GATE = "tidemark-contract-gate";

    /** The contract gate of the re-snapshots' changes (the sources' is {@link #CONTRACT_GATE}). */
    public static final String RESNAPSHOT_GATE = "tidemark-resnapshot-gate";

    /** The split of key changes after {@link #RESNAPSHOT_GATE}. */
    public static final String RESNAPSHOT_KEY_SPLIT = "tidemark-resnapshot-key-split";

    public static final String QUARANTINE_WRITER = "tidemark-quarantine-writer";
    public static final String HISTORY_WRITER = "tidemark-history-writer";
    public static final String COMMITTER = "tidemark-committer";
    public static final String COMMIT_END = "tidemark-commit-end";
    public static final String SCHEMA_STAGE = "tidemark-schema";
    public static final String SCHEMA_END = "tidemark-schema-end";

    /** The stage after the source where tables created while the job runs wait for their table. */
    public static final String LIVE_TABLES = "tidemark-live-tables";

    private Uids() {}

    /** Uid of the re-snapshot source of one database ({@code ResnapshotSource}). */
    public static String resnapshot(String sourceId) {
        return "tidemark-resnapshot-" + sourceId;
    }

    /**
     * Uid of the CDC source of one database; the only source of a pipeline keeps {@link #SOURCE}.
     */
    public static String source(String sourceId) {
        return sourceId.equals(io.tidemark.decode.ChangeEvent.DEFAULT_SOURCE)
                ? SOURCE
                : SOURCE + "-" + sourceId;
    }

    /**
     * Uid of the transaction fence after the CDC source of one database ({@code TransactionFence});
     * after the only source of a pipeline it is {@code tidemark-transaction-fence}.
     */
    public static String transactionFence(String sourceId) {
        return sourceId.equals(io.tidemark.decode.ChangeEvent.DEFAULT_SOURCE)
                ? "tidemark-transaction-fence"
                : "tidemark-transaction-fence-" + sourceId;
    }

    /**
     * The uid suffix of one table's maintenance operators (Iceberg's {@code TableMaintenance} names
     * them by it) that run {@code tasks}: its trigger manager keeps state per task, by position, so
     * a savepoint's restores only into the same tasks. Maintenance state is the one state a start
     * may drop ({@link RetainedState#withMaintenanceDropped}).
     */
    public static String maintenance(String targetTable, List<String> tasks) {
        return "tidemark-maintenance-" + targetTable + "/" + String.join("+", tasks);
    }
}
