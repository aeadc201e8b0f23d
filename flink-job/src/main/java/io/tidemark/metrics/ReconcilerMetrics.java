package io.tidemark.metrics;

import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * Per-table metrics of the reconciler, registered as {@code tidemark.reconciler.table.<t>}: {@code
 * applied}, {@code staleDropped}, {@code lateApplied}, {@code lateQuarantined}, {@code collapsed}
 * (changes merged into a pending net change), and the up-down counters {@code stateEntries} and
 * {@code tombstones} (per subtask, since the last start). Alert when {@code lateQuarantined} grows,
 * and when {@code stateEntries} grows without bound (retention too long for the change rate).
 */
public final class ReconcilerMetrics {

    public final Counter applied;
    public final Counter staleDropped;
    public final Counter lateApplied;
    public final Counter lateQuarantined;
    public final Counter collapsed;
    public final Counter stateEntries;
    public final Counter tombstones;

    public ReconcilerMetrics(RuntimeContext context, String table) {
        MetricGroup group =
                context.getMetricGroup()
                        .addGroup("tidemark")
                        .addGroup("reconciler")
                        .addGroup("table", table);
        applied = group.counter("applied");
        staleDropped = group.counter("staleDropped");
        lateApplied = group.counter("lateApplied");
        lateQuarantined = group.counter("lateQuarantined");
        collapsed = group.counter("collapsed");
        stateEntries = group.counter("stateEntries");
        tombstones = group.counter("tombstones");
    }
}
