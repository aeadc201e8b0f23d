package io.tidemark.config;

/** Where a source starts without state ({@code source.scan.startup.mode}). */
public enum StartupMode implements FileValue {
    /** Snapshot every table, then follow the log (the default). */
    INITIAL,
    /** The log only, from now. */
    LATEST_OFFSET,
    /** The log only, from the replication slot's confirmed position (Postgres). */
    COMMITTED_OFFSET;

    @Override
    public String toString() {
        return fileValue();
    }
}
