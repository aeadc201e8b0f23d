package io.tidemark.testing;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** The MiniCluster every ITCase class shares: one TaskManager, 4 slots, no restarts. */
public final class TestClusters {

    private TestClusters() {}

    /**
     * A failing job fails the test at once instead of restarting until the test times out (tests
     * that exercise failover set their own restart strategy).
     */
    public static MiniClusterExtension miniCluster() {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(4)
                        .setConfiguration(conf)
                        .build());
    }
}
