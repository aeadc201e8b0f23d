package io.tidemark.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
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

    /**
     * The failures a job failed over on, oldest first, from Flink's REST API: each entry's
     * exception class name, then its stack trace (causes included) after a tab.
     */
    public static List<String> exceptionHistory(MiniClusterExtension cluster, JobClient job)
            throws Exception {
        Configuration client = cluster.getClientConfiguration();
        URI uri =
                URI.create(
                        "http://"
                                + client.get(RestOptions.ADDRESS)
                                + ":"
                                + client.get(RestOptions.PORT)
                                + "/jobs/"
                                + job.getJobID()
                                + "/exceptions");
        HttpResponse<String> response =
                HttpClient.newHttpClient()
                        .send(HttpRequest.newBuilder(uri).build(), BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(
                    "exception history: HTTP " + response.statusCode() + " " + response.body());
        }
        List<String> exceptions = new ArrayList<>();
        for (JsonNode entry :
                new ObjectMapper()
                        .readTree(response.body())
                        .path("exceptionHistory")
                        .path("entries")) {
            exceptions.add(
                    entry.path("exceptionName").asText()
                            + "\t"
                            + entry.path("stacktrace").asText());
        }
        java.util.Collections.reverse(exceptions);
        return exceptions;
    }
}
