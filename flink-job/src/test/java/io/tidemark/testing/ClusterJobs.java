package io.tidemark.testing;

import io.tidemark.deploy.FlinkCluster;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;

/** Running the shaded job jar on a {@link FlinkCluster} the way users submit it: REST. */
public final class ClusterJobs {

    private ClusterJobs() {}

    /** A cluster from the jars the deploy module assembled, on this JVM's Java. */
    public static FlinkCluster start(Path workDir) throws Exception {
        return FlinkCluster.start(
                Path.of(System.getProperty("tidemark.flink.lib")),
                workDir,
                Path.of(System.getProperty("java.home")),
                4,
                Duration.ofMinutes(2));
    }

    /**
     * A cluster as {@link #start}, with the plugins the deploy module assembled (Flink's S3 file
     * system, as a distribution's {@code plugins/s3-fs-hadoop}) and {@code settings} in its
     * configuration.
     */
    public static FlinkCluster start(Path workDir, Map<String, String> settings) throws Exception {
        return FlinkCluster.start(
                Path.of(System.getProperty("tidemark.flink.lib")),
                Path.of(System.getProperty("tidemark.flink.plugins")),
                settings,
                workDir,
                Path.of(System.getProperty("java.home")),
                4,
                Duration.ofMinutes(2));
    }

    /** Uploads the job jar the build just shaded; returns its id on the cluster. */
    public static String uploadJobJar(FlinkCluster cluster) throws Exception {
        return cluster.uploadJar(Path.of(System.getProperty("tidemark.job.jar")));
    }

    /**
     * Runs {@code tidemark run --config <pipeline> --run-id <runId>}, from {@code savepoint} if not
     * null, and waits until the job runs; returns its id.
     */
    public static String run(
            FlinkCluster cluster, String jar, Path pipeline, String runId, String savepoint)
            throws Exception {
        String jobId =
                cluster.run(
                        jar,
                        "io.tidemark.cli.Tidemark",
                        List.of("run", "--config", pipeline.toString(), "--run-id", runId),
                        savepoint);
        Awaitility.await("job " + runId + " running")
                .atMost(Duration.ofMinutes(1))
                .until(() -> cluster.jobState(jobId).equals("RUNNING"));
        return jobId;
    }

    /** The job's checkpoint configuration as the cluster reports it (REST, JSON text). */
    public static String checkpointConfig(FlinkCluster cluster, String jobId) throws Exception {
        java.net.http.HttpResponse<String> response =
                java.net.http.HttpClient.newHttpClient()
                        .send(
                                java.net.http.HttpRequest.newBuilder(
                                                URI.create(
                                                        cluster.restUrl()
                                                                + "/jobs/"
                                                                + jobId
                                                                + "/checkpoints/config"))
                                        .build(),
                                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    /** The JobManager's log file so far (where a submitted program's own log lines go). */
    public static String jobManagerLog(FlinkCluster cluster) throws java.io.IOException {
        return java.nio.file.Files.readString(
                cluster.workDir().resolve("log").resolve("jobmanager.log"));
    }

    /** Fails unless the job still runs, naming what it failed over on if it does not. */
    public static GroundTruth.RunningCheck running(FlinkCluster cluster, String jobId) {
        return () -> {
            String state = cluster.jobState(jobId);
            if (!"RUNNING".equals(state)) {
                String failovers;
                try {
                    failovers = TestClusters.failovers(URI.create(cluster.restUrl() + "/"), jobId);
                } catch (Exception e) {
                    failovers = " (no exception history: " + e + ")";
                }
                throw new AssertionError(
                        "job " + jobId + " is " + state + ", not RUNNING" + failovers);
            }
        };
    }

    /** Cancels the job and waits until it is. */
    public static void cancel(FlinkCluster cluster, String jobId) throws Exception {
        cluster.cancel(jobId);
        Awaitility.await("job cancelled")
                .atMost(Duration.ofMinutes(1))
                .until(() -> cluster.jobState(jobId).equals("CANCELED"));
    }
}
