package io.tidemark.config;

import java.io.Serializable;
import java.time.Duration;
import java.util.Map;

/**
 * Reconciler timing: watermark bound, lateness, state retention, split idleness; the most changes
 * of a source transaction held together so that it lands in one commit (0: none); and, for a start
 * without state that reads the log again ({@code run --fresh --keep-serving}), per target table the
 * source positions its newest commit holds every change through (JSON, as the commit records them),
 * which the reconciler does not apply again.
 */
public record ReconcileConfig(
        Duration emitDelay,
        Duration allowedLateness,
        Duration retention,
        Duration idleness,
        int transactionMaxChanges,
        Map<String, String> replayedThrough)
        implements Serializable {

    public ReconcileConfig {
        replayedThrough = Map.copyOf(replayedThrough);
    }

    /** As the file says: no replayed positions. */
    public ReconcileConfig(
            Duration emitDelay,
            Duration allowedLateness,
            Duration retention,
            Duration idleness,
            int transactionMaxChanges) {
        this(emitDelay, allowedLateness, retention, idleness, transactionMaxChanges, Map.of());
    }

    /** These settings with {@link #replayedThrough} set. */
    public ReconcileConfig withReplayedThrough(Map<String, String> through) {
        return new ReconcileConfig(
                emitDelay, allowedLateness, retention, idleness, transactionMaxChanges, through);
    }
}
