package io.tidemark.metrics;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;

/**
 * The schema stage's counts per table: {@code tidemark.schema.table.<table>.schemaChangesApplied}
 * (columns added, widened or made optional while running) and accumulator {@code
 * schema-changes-applied.<table>}, which reaches the client with TaskManager heartbeats.
 */
public final class SchemaMetrics {

    private final RuntimeContext context;
    private final Map<String, Counter> applied = new HashMap<>();
    private final Map<String, LongCounter> accumulators = new HashMap<>();

    public SchemaMetrics(RuntimeContext context) {
        this.context = context;
    }

    /** {@code changes} schema changes were applied to {@code table}'s Iceberg table. */
    public void applied(String table, int changes) {
        applied.computeIfAbsent(
                        table,
                        t ->
                                context.getMetricGroup()
                                        .addGroup("tidemark")
                                        .addGroup("schema")
                                        .addGroup("table", t)
                                        .counter("schemaChangesApplied"))
                .inc(changes);
        accumulators
                .computeIfAbsent(
                        table,
                        t -> {
                            LongCounter counter = new LongCounter();
                            context.addAccumulator("schema-changes-applied." + t, counter);
                            return counter;
                        })
                .add((long) changes);
    }
}
