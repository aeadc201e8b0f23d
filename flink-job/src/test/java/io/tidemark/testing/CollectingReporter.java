package io.tidemark.testing;

import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.metrics.CharacterFilter;
import org.apache.flink.metrics.LogicalScopeProvider;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A metric reporter that keeps what a running job registers as a Prometheus-style reporter sees it:
 * the metric's name (its logical scope and name joined by {@code _}, without the values of
 * key-value groups) and its labels (the groups' variables, such as {@code <table>}).
 */
public final class CollectingReporter implements MetricReporter {

    /** Registered metrics: name to the label sets it was registered with. */
    private static final Map<String, Set<Map<String, String>>> REGISTERED =
            new ConcurrentHashMap<>();

    /** Registered gauges: name to each registration's labels and gauge. */
    private static final Map<String, Map<Map<String, String>, org.apache.flink.metrics.Gauge<?>>>
            GAUGES = new ConcurrentHashMap<>();

    /** The values gauge {@code name} reads now, one per registration (by its labels). */
    public static Map<Map<String, String>, Object> gaugeValues(String name) {
        Map<Map<String, String>, Object> values = new java.util.HashMap<>();
        GAUGES.getOrDefault(name, Map.of())
                .forEach((labels, gauge) -> values.put(labels, gauge.getValue()));
        return values;
    }

    /** The label sets metric {@code name} was registered with (empty when it never was). */
    public static Set<Map<String, String>> labels(String name) {
        return REGISTERED.getOrDefault(name, Set.of());
    }

    /** The names of the registered metrics. */
    public static Set<String> names() {
        return REGISTERED.keySet();
    }

    @Override
    public void open(MetricConfig config) {}

    @Override
    public void close() {}

    @Override
    public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
        String scope =
                LogicalScopeProvider.castFrom(group)
                        .getLogicalScope(CharacterFilter.NO_OP_FILTER, '_');
        REGISTERED
                .computeIfAbsent(scope + "_" + name, n -> ConcurrentHashMap.newKeySet())
                .add(Map.copyOf(group.getAllVariables()));
        if (metric instanceof org.apache.flink.metrics.Gauge<?> gauge) {
            GAUGES.computeIfAbsent(scope + "_" + name, n -> new ConcurrentHashMap<>())
                    .put(Map.copyOf(group.getAllVariables()), gauge);
        }
    }

    @Override
    public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {}

    /**
     * Made by Flink from {@code metrics.reporter.<name>.factory.class}, found through {@code
     * META-INF/services/org.apache.flink.metrics.reporter.MetricReporterFactory}.
     */
    public static final class Factory implements MetricReporterFactory {
        @Override
        public MetricReporter createMetricReporter(Properties properties) {
            return new CollectingReporter();
        }
    }
}
