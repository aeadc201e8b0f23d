package io.tidemark.config;

import static io.tidemark.config.ConfigKey.Kind.INT;
import static io.tidemark.config.ConfigKey.Kind.STRING;

/** The keys of {@code points}: the pipeline's consistent points ({@link PointsConfig}). */
public final class PointsOptions {

    private PointsOptions() {}

    public static final ConfigKey TABLE =
            ConfigKey.optional(
                    "points.table",
                    STRING,
                    "none",
                    "Iceberg table (<namespace>.<table>) naming, after every completed checkpoint, the snapshot "
                            + "of each target table that holds exactly that checkpoint: a consistent point across tables.");
    public static final ConfigKey RETAIN =
            ConfigKey.optional(
                    "points.retain",
                    INT,
                    "1000",
                    "How many of the newest points the points table keeps.");
}
