package io.tidemark.contract;

import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.QualityCheck;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;

/**
 * The contract gate's metrics under {@code tidemark.gate.table.<t>}: {@code passed}, {@code
 * quarantined}, {@code reason.<REASON>.quarantined}, and for tables with a contract {@code
 * checksEvaluated}, {@code checksFailed} (accumulator {@code checks-failed.<t>}) and per
 * data-quality check a gauge {@code check.<name>.value} with its last observed value. Table, reason
 * and check are Flink key-value groups, so a reporter makes labels of them (Prometheus: {@code
 * ..._tidemark_gate_table_reason_quarantined{table="public.items",reason="NOT_NULL"}}, which {@code
 * sum by (reason)} adds up), not parts of the metric's name.
 */
final class GateMetrics implements QualityWindows.Observer {

    private final MetricGroup gate;
    private final Map<String, Counter> passed = new HashMap<>();
    private final Map<String, Counter> quarantined = new HashMap<>();
    private final Map<String, Counter> byReason = new HashMap<>();
    private final Map<String, Counter> checksEvaluated = new HashMap<>();
    private final Map<String, Counter> checksFailed = new HashMap<>();
    private final Map<String, LongCounter> checksFailedAccumulator = new HashMap<>();
    private final Map<String, Double> observed = new HashMap<>();

    GateMetrics(RuntimeContext context, Map<String, Contract> contracts) {
        this.gate = context.getMetricGroup().addGroup("tidemark").addGroup("gate");
        for (Map.Entry<String, Contract> entry : contracts.entrySet()) {
            String table = entry.getKey();
            MetricGroup group = gate.addGroup("table", table);
            passed.put(table, group.counter("passed"));
            quarantined.put(table, group.counter("quarantined"));
            checksEvaluated.put(table, group.counter("checksEvaluated"));
            checksFailed.put(table, group.counter("checksFailed"));
            LongCounter accumulator = new LongCounter();
            context.addAccumulator("checks-failed." + table, accumulator);
            checksFailedAccumulator.put(table, accumulator);
            for (QualityCheck check : entry.getValue().checks()) {
                String key = table + "/" + check.name();
                group.addGroup("check", check.name())
                        .gauge("value", (Gauge<Double>) () -> observed.getOrDefault(key, 0d));
            }
        }
    }

    private Counter counter(Map<String, Counter> counters, String table, String name) {
        return counters.computeIfAbsent(table, t -> gate.addGroup("table", t).counter(name));
    }

    /** A change of {@code table} passed the gate (tables with a contract). */
    void passed(String table) {
        counter(passed, table, "passed").inc();
    }

    /** A change of {@code table} was quarantined for {@code reasons}. */
    void quarantined(String table, List<String> reasons) {
        counter(quarantined, table, "quarantined").inc();
        for (String reason : reasons) {
            byReason.computeIfAbsent(
                            table + "/" + reason,
                            k ->
                                    gate.addGroup("table", table)
                                            .addGroup("reason", reason)
                                            .counter("quarantined"))
                    .inc();
        }
    }

    @Override
    public void evaluated(String table, String check, double value) {
        checksEvaluated.get(table).inc();
        observed.put(table + "/" + check, value);
    }

    @Override
    public void failed(String table) {
        checksFailed.get(table).inc();
        checksFailedAccumulator.get(table).add(1L);
    }
}
