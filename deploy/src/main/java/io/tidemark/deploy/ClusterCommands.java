package io.tidemark.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The standalone cluster as a command ({@code FlinkCluster start|status|stop}): a {@link
 * FlinkCluster} that outlives the command that started it, found again by the state file in its
 * work directory.
 */
public final class ClusterCommands {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ClusterCommands() {}

    /**
     * {@code start | status | stop --work-dir <dir> [--lib <dir>] [--slots <n>]}: a cluster that
     * outlives this command (process ids and the REST port are kept in {@code
     * <dir>/cluster.properties}). Exit code 0 when done or up, 3 when {@code status} finds it down,
     * 2 on a usage error.
     */
    public static void main(String[] args) throws Exception {
        System.exit(command(System.out, args));
    }

    /** {@link #main} without exiting, for tests. */
    public static int command(java.io.PrintStream out, String... args) throws Exception {
        if (args.length == 0 || !List.of("start", "status", "stop").contains(args[0])) {
            out.println(
                    "usage: FlinkCluster start|status|stop --work-dir <dir> [--lib <dir>] [--slots <n>]");
            return 2;
        }
        Path workDir = null;
        Path lib = Path.of("deploy/target/flink-lib");
        int slots = 4;
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--work-dir" -> workDir = Path.of(args[i + 1]);
                case "--lib" -> lib = Path.of(args[i + 1]);
                case "--slots" -> slots = Integer.parseInt(args[i + 1]);
                default -> {
                    out.println("FlinkCluster: unknown option '" + args[i] + "'");
                    return 2;
                }
            }
        }
        if (workDir == null) {
            out.println("FlinkCluster: --work-dir <dir> is required");
            return 2;
        }
        workDir = workDir.toAbsolutePath();
        Path state = workDir.resolve("cluster.properties");
        switch (args[0]) {
            case "start" -> {
                if (Files.exists(state) && status(state, null)) {
                    out.println("A cluster is already up for " + workDir + "; stop it first");
                    return 2;
                }
                FlinkCluster cluster =
                        FlinkCluster.start(
                                lib.toAbsolutePath(),
                                workDir,
                                Path.of(System.getProperty("java.home")),
                                slots,
                                Duration.ofMinutes(2));
                java.util.Properties properties = new java.util.Properties();
                properties.setProperty("rest.port", Integer.toString(cluster.restPort()));
                properties.setProperty("jobmanager.pid", Long.toString(cluster.pids().get(0)));
                properties.setProperty("taskmanager.pid", Long.toString(cluster.pids().get(1)));
                try (var writer = Files.newBufferedWriter(state)) {
                    properties.store(writer, "Tidemark standalone Flink cluster");
                }
                out.println("Flink cluster up: " + cluster.restUrl() + " (REST API and web UI)");
                out.println("Logs: " + workDir.resolve("log"));
                return 0;
            }
            case "status" -> {
                if (!Files.exists(state)) {
                    out.println("No cluster started in " + workDir);
                    return 3;
                }
                return status(state, out) ? 0 : 3;
            }
            default -> {
                if (!Files.exists(state)) {
                    out.println("No cluster started in " + workDir);
                    return 0;
                }
                java.util.Properties properties = load(state);
                for (String key : List.of("taskmanager.pid", "jobmanager.pid")) {
                    Optional<ProcessHandle> process =
                            ProcessHandle.of(Long.parseLong(properties.getProperty(key)));
                    if (process.isPresent()) {
                        process.get().destroy();
                        try {
                            process.get().onExit().get(30, TimeUnit.SECONDS);
                        } catch (java.util.concurrent.TimeoutException e) {
                            process.get().destroyForcibly();
                        }
                    }
                }
                Files.delete(state);
                out.println("Flink cluster in " + workDir + " stopped");
                return 0;
            }
        }
    }

    private static java.util.Properties load(Path state) throws IOException {
        java.util.Properties properties = new java.util.Properties();
        try (var reader = Files.newBufferedReader(state)) {
            properties.load(reader);
        }
        return properties;
    }

    /** Whether both JVMs live and the REST API answers; prints the overview to {@code out}. */
    private static boolean status(Path state, java.io.PrintStream out) throws IOException {
        java.util.Properties properties = load(state);
        boolean alive = true;
        for (String key : List.of("jobmanager.pid", "taskmanager.pid")) {
            boolean up =
                    ProcessHandle.of(Long.parseLong(properties.getProperty(key)))
                            .map(ProcessHandle::isAlive)
                            .orElse(false);
            alive &= up;
            if (out != null) {
                out.printf("%s %s: %s%n", key, properties.getProperty(key), up ? "alive" : "gone");
            }
        }
        if (!alive) {
            return false;
        }
        String url = "http://localhost:" + properties.getProperty("rest.port");
        try {
            JsonNode overview =
                    JSON.readTree(
                            HttpClient.newHttpClient()
                                    .send(
                                            HttpRequest.newBuilder(URI.create(url + "/overview"))
                                                    .build(),
                                            BodyHandlers.ofString())
                                    .body());
            if (out != null) {
                out.printf(
                        "%s: %d TaskManager(s), %d/%d slots free, %d job(s) running%n",
                        url,
                        overview.path("taskmanagers").asInt(),
                        overview.path("slots-available").asInt(),
                        overview.path("slots-total").asInt(),
                        overview.path("jobs-running").asInt());
            }
            return true;
        } catch (IOException e) {
            if (out != null) {
                out.println(url + " does not answer: " + e.getMessage());
            }
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
