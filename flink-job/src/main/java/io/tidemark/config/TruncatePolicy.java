package io.tidemark.config;

/** What a source {@code TRUNCATE} of a table does ({@code tables[*].truncate}). */
public enum TruncatePolicy implements FileValue {
    /** The target is emptied in the truncate's place (the default). */
    APPLY,
    /** The target keeps its rows; the truncate is kept in the table's quarantine table. */
    QUARANTINE,
    /** The job stops, without restarts, naming the fixes. */
    FAIL;

    @Override
    public String toString() {
        return fileValue();
    }
}
