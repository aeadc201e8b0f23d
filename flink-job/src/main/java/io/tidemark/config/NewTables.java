package io.tidemark.config;

/** What a running job does with tables created in the source that a pattern matches. */
public enum NewTables implements FileValue {
    /** Not read until a restart from a savepoint resolves the pattern again (the default). */
    IGNORE,
    /** Followed from their first change (MySQL sources). */
    CAPTURE;

    @Override
    public String toString() {
        return fileValue();
    }
}
