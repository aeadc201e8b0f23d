package io.tidemark.config;

/** What a running job does with tables created in the source that a pattern matches. */
public enum NewTables implements FileValue {
    /** Not read until a restart from a savepoint resolves the pattern again (the default). */
    IGNORE("ignore"),
    /** Followed from their first change (MySQL sources). */
    CAPTURE("capture");

    private final String fileValue;

    NewTables(String fileValue) {
        this.fileValue = fileValue;
    }

    @Override
    public String fileValue() {
        return fileValue;
    }

    @Override
    public String toString() {
        return fileValue;
    }
}
