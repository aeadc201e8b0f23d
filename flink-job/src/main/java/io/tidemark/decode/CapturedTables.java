package io.tidemark.decode;

import java.io.Serializable;

/**
 * The tables a decoder decodes beside the pipeline's named ones: those created while the job runs
 * that a pattern of the pipeline captures ({@code new-tables: capture}). Their keys are read from
 * each record's own key.
 */
@FunctionalInterface
public interface CapturedTables extends Serializable {

    /** None: only the pipeline's named tables are decoded. */
    CapturedTables NONE = table -> false;

    /** Whether {@code table} ({@code schema.table}) is captured while the job runs. */
    boolean captures(String table);
}
