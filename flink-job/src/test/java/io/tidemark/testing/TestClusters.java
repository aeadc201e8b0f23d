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
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
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
        return miniCluster(new Configuration());
    }

    /** As {@link #miniCluster()}, reporting every metric to {@link CollectingReporter}. */
    public static MiniClusterExtension miniClusterWithMetrics() {
        Configuration conf = new Configuration();
        conf.setString(
                "metrics.reporter.collect.factory.class",
                CollectingReporter.Factory.class.getName());
        return miniCluster(conf);
    }

    private static MiniClusterExtension miniCluster(Configuration conf) {
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        // Iceberg sits on the test JVM's own class path, so its static worker pool outlives the
        // jobs of one class: its threads keep the context class loader of the job that started
        // them, which Flink closes when that job ends, and S3FileIO's HTTP client asks it for
        // resources (commons-logging) when a later class reads a table. On a cluster, Iceberg is
        // in the job jar: each job loads its own pool.
        conf.set(CoreOptions.CHECK_LEAKED_CLASSLOADER, false);
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
        return exceptionHistory(
                URI.create(
                        "http://"
                                + client.get(RestOptions.ADDRESS)
                                + ":"
                                + client.get(RestOptions.PORT)),
                job);
    }

    /** {@link #exceptionHistory(MiniClusterExtension, JobClient)} from a REST endpoint. */
    public static List<String> exceptionHistory(URI rest, JobClient job) throws Exception {
        return exceptionHistory(rest, job.getJobID().toString());
    }

    /** {@link #exceptionHistory(URI, JobClient)} of a job known by its id. */
    public static List<String> exceptionHistory(URI rest, String jobId) throws Exception {
        JsonNode body = get(rest, "/jobs/" + jobId + "/exceptions");
        List<String> exceptions = new ArrayList<>();
        for (JsonNode entry : body.path("exceptionHistory").path("entries")) {
            exceptions.add(
                    entry.path("exceptionName").asText()
                            + "\t"
                            + entry.path("stacktrace").asText());
        }
        java.util.Collections.reverse(exceptions);
        return exceptions;
    }

    /**
     * What a test that timed out waiting on a job reports: the job's status, its checkpoint counts
     * and latest completed checkpoint, and the first line and root cause of each failure it failed
     * over on.
     */
    public static String describe(URI rest, JobClient job) {
        StringBuilder out = new StringBuilder();
        try {
            out.append("job ").append(job.getJobStatus().get(30, TimeUnit.SECONDS));
            JsonNode checkpoints = get(rest, "/jobs/" + job.getJobID() + "/checkpoints");
            out.append(", checkpoints ")
                    .append(checkpoints.path("counts"))
                    .append(", latest completed ")
                    .append(checkpoints.path("latest").path("completed").path("id"))
                    .append(" at ")
                    .append(
                            checkpoints
                                    .path("latest")
                                    .path("completed")
                                    .path("latest_ack_timestamp"));
            out.append(failovers(rest, job.getJobID().toString()));
        } catch (Exception e) {
            out.append(" (could not describe the job: ").append(e).append(')');
        }
        return out.toString();
    }

    /**
     * ", N failovers" and, per failure the job failed over on, its first line and its root cause.
     */
    public static String failovers(URI rest, String jobId) throws Exception {
        StringBuilder out = new StringBuilder();
        List<String> failures = exceptionHistory(rest, jobId);
        out.append(", ").append(failures.size()).append(" failovers");
        for (String failure : failures) {
            // its first line and its root cause
            int end = failure.indexOf('\n');
            out.append("\n  ").append(end < 0 ? failure : failure.substring(0, end));
            int cause = failure.lastIndexOf("Caused by: ");
            if (cause >= 0) {
                int causeEnd = failure.indexOf('\n', cause);
                out.append("\n    ")
                        .append(
                                causeEnd < 0
                                        ? failure.substring(cause)
                                        : failure.substring(cause, causeEnd));
            }
        }
        return out.toString();
    }

    private static JsonNode get(URI rest, String path) throws Exception {
        HttpResponse<String> response =
                HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(rest.resolve(path)).build(),
                                BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(
                    path + ": HTTP " + response.statusCode() + " " + response.body());
        }
        return new ObjectMapper().readTree(response.body());
    }
}
