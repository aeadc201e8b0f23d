package io.tidemark.reconcile;

import io.tidemark.config.LatePolicy;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.source.LiveTables;
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
 * @param live tables created while the job runs, with the rule of the pattern that captures them
 */
public record ReconcileSettings(
        Duration emitDelay,
        Duration allowedLateness,
        Duration retention,
        Map<String, TableRule> tables,
        LiveTables live)
        implements Serializable {

    public ReconcileSettings {
        tables = Map.copyOf(tables);
    }

    /** Settings of a pipeline whose tables are all known at the start. */
    public ReconcileSettings(
            Duration emitDelay,
            Duration allowedLateness,
            Duration retention,
            Map<String, TableRule> tables) {
        this(emitDelay, allowedLateness, retention, tables, LiveTables.NONE);
    }

    /** Ordering rule and late policy of one table. */
    public record TableRule(OrderingRule ordering, LatePolicy latePolicy) implements Serializable {}

    public TableRule rule(String table) {
        TableRule rule = tables.get(table);
        if (rule == null) {
            TableConfig entry =
                    live.entryFor(table)
                            .orElseThrow(
                                    () ->
                                            new IllegalStateException(
                                                    "no reconcile rule for table '" + table + "'"));
            return new TableRule(
                    OrderingRule.of(entry.ordering()).withSources(entry.sources()),
                    entry.latePolicy());
        }
        return rule;
    }
}
