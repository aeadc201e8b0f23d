package io.tidemark.metrics;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.accumulators.LongMaximum;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * Per-table metrics of the writer, registered as {@code tidemark.writer.table.<t>}:
 *
 * <ul>
 *   <li>{@code changesIn}: the table's changes after reconciliation (what reaches its writer; the
 *       reconciler's own metrics count what was dropped as stale or late);
 *   <li>{@code rowsOut}: rows handed to the table's writer (a key change is two);
 *   <li>{@code lastSourceTimeMillis} and {@code eventTimeLagMillis}: the source commit time of the
 *       newest change and how far processing time is behind it. Alert when the lag stays above the
 *       table's freshness target for longer than a few checkpoint intervals.
 * </ul>
 *
 * <p>{@code changesIn} is mirrored into the accumulator {@code changes-in.<table>}, and the newest
 * source position of those changes ({@code SourcePosition.commitLsn}: the commit LSN, or the binlog
 * or GTID order) into {@code position-in.<table>}, so that a client (the demo) can show progress
 * without a metrics reporter. Accumulators reach the client with TaskManager heartbeats.
 */
public final class WriterMetrics {

    private final Counter changesIn;
    private final Counter rowsOut;
    private final LongCounter changesInAccumulator;
    private final LongMaximum positionAccumulator;
    private volatile long lastSourceTimeMillis;

    public WriterMetrics(RuntimeContext context, String table) {
        MetricGroup group =
                context.getMetricGroup()
                        .addGroup("tidemark")
                        .addGroup("writer")
                        .addGroup("table", table);
        this.changesIn = group.counter("changesIn");
        this.rowsOut = group.counter("rowsOut");
        group.gauge("lastSourceTimeMillis", (Gauge<Long>) () -> lastSourceTimeMillis);
        group.gauge(
                "eventTimeLagMillis",
                (Gauge<Long>)
                        () ->
                                lastSourceTimeMillis == 0
                                        ? 0
                                        : System.currentTimeMillis() - lastSourceTimeMillis);
        this.changesInAccumulator = new LongCounter();
        context.addAccumulator("changes-in." + table, changesInAccumulator);
        this.positionAccumulator = new LongMaximum();
        context.addAccumulator("position-in." + table, positionAccumulator);
    }

    /** A change reached the writer: its source commit time, and its position in the source. */
    public void changeIn(long sourceTimeMillis, long sourcePosition) {
        changesIn.inc();
        changesInAccumulator.add(1L);
        positionAccumulator.add(sourcePosition);
        if (sourceTimeMillis > lastSourceTimeMillis) {
            lastSourceTimeMillis = sourceTimeMillis;
        }
    }

    public void rowOut() {
        rowsOut.inc();
    }
}
