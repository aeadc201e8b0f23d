package io.tidemark.reconcile;

import io.tidemark.config.LatePolicy;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
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
 * @param replayedThrough per source table, per source, the log position its target's newest commit
 *     holds every change through, for a start without state that reads the log again from before it
 *     ({@code run --fresh --keep-serving}): a change of the log at or below it is in the table
 *     already, and applied again it would show an older version of its row until the newer changes
 *     come again
 */
public record ReconcileSettings(
        Duration emitDelay,
        Duration allowedLateness,
        Duration retention,
        Map<String, TableRule> tables,
        LiveTables live,
        Map<String, Map<String, ReplayFloor>> replayedThrough)
        implements Serializable {

    public ReconcileSettings {
        tables = Map.copyOf(tables);
        replayedThrough = Map.copyOf(replayedThrough);
    }

    /** Settings without replayed positions. */
    public ReconcileSettings(
            Duration emitDelay,
            Duration allowedLateness,
            Duration retention,
            Map<String, TableRule> tables,
            LiveTables live) {
        this(emitDelay, allowedLateness, retention, tables, live, Map.of());
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

    /**
     * Whether {@code change}, read from its source's log, is at or below the position its table's
     * newest commit holds every change through ({@link #replayedThrough}).
     */
    public boolean committedBefore(ChangeEvent change) {
        Map<String, ReplayFloor> table = replayedThrough.get(change.table());
        if (table == null || change.operation() == Operation.READ) {
            return false;
        }
        ReplayFloor floor = table.get(change.source());
        return floor != null && floor.holds(change.position());
    }

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
