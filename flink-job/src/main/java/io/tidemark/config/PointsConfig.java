package io.tidemark.config;

import java.io.Serializable;

/**
 * The pipeline's consistent points ({@code points.*}): the Iceberg table that names, after every
 * completed checkpoint, the snapshot of each target table holding exactly that checkpoint (null:
 * none are published), and how many points it keeps.
 */
public record PointsConfig(String table, int retain) implements Serializable {

    /** No points published. */
    public static final PointsConfig NONE = new PointsConfig(null, 1_000);

    public boolean enabled() {
        return table != null;
    }
}
