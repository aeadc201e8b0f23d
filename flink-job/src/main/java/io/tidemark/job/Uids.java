package io.tidemark.job;

/**
 * The one place operator uids are made. Uids name state in savepoints: never change one for an
 * existing operator, or savepoints of earlier releases stop restoring.
 */
public final class Uids {

    public static final String SOURCE = "tidemark-source";
    public static final String KEY_SPLIT = "tidemark-key-split";
    public static final String RECONCILER = "tidemark-reconciler";
    public static final String ROUTER = "tidemark-router";

    private Uids() {}

    /**
     * Uid of the CDC source of one database; the only source of a pipeline keeps {@link #SOURCE}.
     */
    public static String source(String sourceId) {
        return sourceId.equals(io.tidemark.decode.ChangeEvent.DEFAULT_SOURCE)
                ? SOURCE
                : SOURCE + "-" + sourceId;
    }

    /** Uid suffix of the Iceberg sink of one target table's late changes. */
    public static String lateSink(String targetTable) {
        return "tidemark-late-sink-" + targetTable;
    }

    /** Uid suffix of the Iceberg sink of one target table. */
    public static String sink(String targetTable) {
        return "tidemark-sink-" + targetTable;
    }
}
