package io.tidemark.config;

/** Where a source starts without state ({@code source.startup-mode}). */
public enum StartupMode implements FileValue {
    /** Snapshot every table, then follow the log (the default). */
    INITIAL("initial"),
    /** The log only, from now. */
    LATEST_OFFSET("latest-offset"),
    /** The log only, from the replication slot's confirmed position (Postgres). */
    COMMITTED_OFFSET("committed-offset");

    private final String fileValue;

    StartupMode(String fileValue) {
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
