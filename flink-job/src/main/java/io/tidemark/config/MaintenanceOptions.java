package io.tidemark.config;

import static io.tidemark.config.ConfigKey.Kind.DURATION;
import static io.tidemark.config.ConfigKey.Kind.INT;
import static io.tidemark.config.ConfigKey.Kind.STRING;

/**
 * The keys of {@code maintenance}: table maintenance beside the stream ({@link MaintenanceConfig}).
 */
public final class MaintenanceOptions {

    private MaintenanceOptions() {}

    public static final ConfigKey COMPACT_EVERY =
            ConfigKey.optional(
                    "maintenance.compaction.every-commits",
                    INT,
                    "0 (off)",
                    "Rewrite each table's data files, their deletes applied, after this many commits.");
    public static final ConfigKey COMPACT_DELETE_FILE_THRESHOLD =
            ConfigKey.optional(
                    "maintenance.compaction.delete-file-threshold",
                    INT,
                    "0 (size alone)",
                    "A compaction also rewrites every data file that at least this many delete files "
                            + "apply to, whatever its size: set it when data files at the target size "
                            + "hold the table's oldest rows, which keep every equality delete committed "
                            + "after them live; 0: the file size alone decides (Iceberg's default).");
    public static final ConfigKey FOLD_DELETES_EVERY =
            ConfigKey.optional(
                    "maintenance.fold-deletes.every-delete-files",
                    INT,
                    "0 (off)",
                    "After this many new equality-delete files in a table, fold the data and delete "
                            + "files committed since its last compaction into one data file and one "
                            + "equality-delete file, changing no row: readers open two files where they "
                            + "opened one pair per commit. A task of the table's maintenance (never "
                            + "beside its compaction); unpartitioned tables, while those rows are at "
                            + "most a quarter of the table's. With it, a compaction rewrites every "
                            + "data file a delete file applies to unless "
                            + "compaction.delete-file-threshold says otherwise; 0: off.");
    public static final ConfigKey EXPIRE_EVERY =
            ConfigKey.optional(
                    "maintenance.expire-snapshots.every-commits",
                    INT,
                    "0 (off)",
                    "Expire each table's old snapshots (and the files only they reference) after this "
                            + "many commits.");
    public static final ConfigKey RETAIN_LAST =
            ConfigKey.optional(
                    "maintenance.expire-snapshots.retain-last",
                    INT,
                    "100",
                    "Snapshots an expiry always keeps.");
    public static final ConfigKey MAX_SNAPSHOT_AGE =
            ConfigKey.optional(
                    "maintenance.expire-snapshots.max-age",
                    DURATION,
                    "1d",
                    "Snapshots older than this, beyond retain-last, are expired (time travel reaches "
                            + "this far back).");
    public static final ConfigKey ORPHANS_EVERY =
            ConfigKey.optional(
                    "maintenance.orphan-files.every",
                    DURATION,
                    "0 (off)",
                    "Removes the files under each table's location that no snapshot it keeps uses"
                            + " (what failed attempts and expired snapshots leave), this often.");
    public static final ConfigKey ORPHANS_MIN_AGE =
            ConfigKey.optional(
                    "maintenance.orphan-files.min-age",
                    DURATION,
                    "3d",
                    "Files younger than this are never removed as orphans (a commit may be under way);"
                            + " at least 1h.");
    public static final ConfigKey MIN_INTERVAL =
            ConfigKey.optional(
                    "maintenance.min-interval",
                    DURATION,
                    "1min",
                    "The least time between two runs of a task on a table.");
    public static final ConfigKey LOCK_URI =
            ConfigKey.optional(
                    "maintenance.lock.jdbc-uri",
                    STRING,
                    "the catalog's uri (catalog.type: jdbc)",
                    "JDBC database holding the lock that keeps two runs of a table's maintenance "
                            + "apart; its user and password are the catalog's jdbc.user and jdbc.password.");
}
