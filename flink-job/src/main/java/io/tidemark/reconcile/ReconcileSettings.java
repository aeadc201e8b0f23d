package io.tidemark.reconcile;

import java.io.Serializable;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the reconciler.
 *
 * @param emitDelay how far the watermark trails the newest event (the bounded out-of-orderness); a
 *     change is emitted once the watermark passes it, or after this much processing time if the
 *     watermark stalls. Zero emits every applied change at once.
 * @param allowedLateness changes older than {@code watermark - allowedLateness} are late
 * @param retention a key's state is dropped once the watermark passes its newest event time plus
 *     this; must cover the lateness you want tombstones to survive
 * @param tables per source table, its ordering rule and late policy
 */
public record ReconcileSettings(
        Duration emitDelay,
        Duration allowedLateness,
        Duration retention,
        Map<String, TableRule> tables)
        implements Serializable {

    public ReconcileSettings {
        tables = Map.copyOf(tables);
    }

    /** Ordering rule and late policy of one table. */
    public record TableRule(OrderingRule ordering, LatePolicy latePolicy) implements Serializable {}

    public TableRule rule(String table) {
        TableRule rule = tables.get(table);
        if (rule == null) {
            throw new IllegalStateException("no reconcile rule for table '" + table + "'");
        }
        return rule;
    }
}
