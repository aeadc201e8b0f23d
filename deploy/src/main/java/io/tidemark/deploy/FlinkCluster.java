package io.tidemark.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A standalone Flink 1.20 session cluster on loopback: a JobManager and a TaskManager as separate
 * JVMs whose classpath is a directory of jars Maven assembled (there is no Flink distribution
 * here), RocksDB state, checkpoint and savepoint directories, the web UI. Jobs are submitted
 * through the REST API, as users do with a remote cluster; {@code flink run} with a Flink
 * distribution is the equivalent.
 */
public final class FlinkCluster implements AutoCloseable {

    /**
     * Log4j 2 pattern of the cluster's log files: the run id of Tidemark's operators, and every
     * {@code ...password=value} / {@code password: value} masked. Flink CDC logs the whole Debezium
     * configuration of a source at INFO, database password included; this keeps it out of the
     * files. Use the same {@code %replace} in your own Flink's {@code log4j.properties}.
     */
    /**
     * The log configuration this cluster's JVMs run with, as the Docker image ({@code
     * /opt/flink/conf/log4j-console.properties}) and the FlinkDeployment ({@code logConfiguration})
     * ship it: Flink's console and rolling-file appenders with {@link #LOG_PATTERN}.
     */
    public static final String LOG_CONFIGURATION = "log4j-console.properties";

    public static final String LOG_PATTERN =
            "%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c [run=%X{run.id}] - "
                    + "%replace{%m}{(?i)(password\\S*?[=:]\\s*)[^\\s,;\\x7D]+}{$1****}%n";

    private static final Logger LOG = LoggerFactory.getLogger(FlinkCluster.class);

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The opens Flink's own config.yaml gives its JVMs on Java 17. */
    public static final List<String> JAVA_17_OPENS =
            List.of(
                    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
                    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
                    "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
                    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang=ALL-UNNAMED",
                    "--add-opens=java.base/java.net=ALL-UNNAMED",
                    "--add-opens=java.base/java.io=ALL-UNNAMED",
                    "--add-opens=java.base/java.nio=ALL-UNNAMED",
                    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                    "--add-opens=java.base/java.text=ALL-UNNAMED",
                    "--add-opens=java.base/java.time=ALL-UNNAMED",
                    "--add-opens=java.base/java.util=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private final Path workDir;
    private final int restPort;
    private final Process jobManager;
    private final Process taskManager;
    private final HttpClient http = HttpClient.newHttpClient();

    private FlinkCluster(Path workDir, int restPort, Process jobManager, Process taskManager) {
        this.workDir = workDir;
        this.restPort = restPort;
        this.jobManager = jobManager;
        this.taskManager = taskManager;
    }

    /**
     * Writes {@code conf/config.yaml} under {@code workDir}, starts the JobManager and a
     * TaskManager with {@code slots} slots on {@code javaHome} (Java 17) with {@code libDir/*} on
     * the classpath, and returns once the TaskManager's slots are registered.
     */
    public static FlinkCluster start(
            Path libDir, Path workDir, Path javaHome, int slots, Duration timeout)
            throws IOException, InterruptedException {
        return start(libDir, null, Map.of(), workDir, javaHome, slots, timeout);
    }

    /**
     * {@link #start(Path, Path, Path, int, Duration)} with Flink's plugins directory {@code
     * pluginsDir} (as a distribution's {@code plugins/}: one directory per plugin, each loaded in a
     * class loader of its own; none when null) and {@code settings} in {@code config.yaml} over
     * this cluster's own (an S3 file system's, checkpoints on it).
     */
    public static FlinkCluster start(
            Path libDir,
            Path pluginsDir,
            Map<String, String> settings,
            Path workDir,
            Path javaHome,
            int slots,
            Duration timeout)
            throws IOException, InterruptedException {
        Path conf = workDir.resolve("conf");
        Path log = workDir.resolve("log");
        Files.createDirectories(conf);
        Files.createDirectories(log);
        int restPort = ChildProcesses.freePort();
        Map<String, String> config = new LinkedHashMap<>();
        config.put("jobmanager.rpc.address", "localhost");
        config.put("jobmanager.bind-host", "localhost");
        config.put("jobmanager.rpc.port", "\"" + ChildProcesses.freePort() + "\"");
        config.put("jobmanager.memory.process.size", "1024m");
        config.put("taskmanager.bind-host", "localhost");
        config.put("taskmanager.host", "localhost");
        config.put("taskmanager.rpc.port", "\"" + ChildProcesses.freePort() + "\"");
        config.put("taskmanager.memory.process.size", "2048m");
        config.put("taskmanager.numberOfTaskSlots", Integer.toString(slots));
        config.put("rest.address", "localhost");
        config.put("rest.bind-address", "localhost");
        config.put("rest.port", Integer.toString(restPort));
        config.put("blob.server.port", "\"" + ChildProcesses.freePort() + "\"");
        config.put("state.backend.type", "rocksdb");
        config.put("state.checkpoints.dir", workDir.resolve("checkpoints").toUri().toString());
        config.put(
                "execution.checkpointing.savepoint-dir",
                workDir.resolve("savepoints").toUri().toString());
        config.put("web.upload.dir", workDir.resolve("uploads").toString());
        config.putAll(settings);
        StringBuilder yaml = new StringBuilder();
        config.forEach((key, value) -> yaml.append(key).append(": ").append(value).append('\n'));
        Files.writeString(conf.resolve("config.yaml"), yaml.toString());
        // the logging the Docker image and the FlinkDeployment ship (LOG_CONFIGURATION)
        try (java.io.InputStream shipped =
                FlinkCluster.class.getResourceAsStream(LOG_CONFIGURATION)) {
            Files.write(conf.resolve("log4j.properties"), shipped.readAllBytes());
        }
        Files.createDirectories(workDir.resolve("uploads"));
        Path java = javaHome.resolve("bin/java");
        String classpath = libDir.toAbsolutePath() + "/*";

        Process jobManager =
                startProcess(
                        java,
                        classpath,
                        conf,
                        log.resolve("jobmanager.log"),
                        pluginsDir,
                        resourceParams(java, classpath, conf, "GET_JM_RESOURCE_PARAMS"),
                        "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint");
        Process taskManager =
                startProcess(
                        java,
                        classpath,
                        conf,
                        log.resolve("taskmanager.log"),
                        pluginsDir,
                        resourceParams(java, classpath, conf, "GET_TM_RESOURCE_PARAMS"),
                        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner");
        FlinkCluster cluster = new FlinkCluster(workDir, restPort, jobManager, taskManager);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (cluster.registeredSlots() < slots) {
            if (!jobManager.isAlive() || !taskManager.isAlive()) {
                cluster.close();
                throw new IllegalStateException(
                        "the Flink cluster stopped while starting; "
                                + ChildProcesses.tail(log.resolve("jobmanager.log.out"), 20)
                                + "\n"
                                + ChildProcesses.tail(log.resolve("taskmanager.log.out"), 20));
            }
            if (System.nanoTime() > deadline) {
                cluster.close();
                throw new IllegalStateException(
                        "the Flink cluster did not register " + slots + " slots within " + timeout);
            }
            // polling the cluster's own REST overview
            TimeUnit.MILLISECONDS.sleep(500);
        }
        LOG.info("Flink cluster up: {}", cluster.restUrl());
        return cluster;
    }

    /** JVM flags and dynamic properties Flink computes for a process from its memory config. */
    private static List<List<String>> resourceParams(
            Path java, String classpath, Path conf, String which)
            throws IOException, InterruptedException {
        Process process =
                new ProcessBuilder(
                                java.toString(),
                                "-cp",
                                classpath,
                                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                                which,
                                "--configDir",
                                conf.toString())
                        .redirectErrorStream(true)
                        .start();
        String output = new String(readAll(process.getInputStream()), StandardCharsets.UTF_8);
        process.waitFor(60, TimeUnit.SECONDS);
        List<List<String>> results = new ArrayList<>();
        for (String line : output.split("\n")) {
            if (line.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:")) {
                String value = line.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim();
                results.add(value.isEmpty() ? List.of() : Arrays.asList(value.split(" +")));
            }
        }
        if (results.size() < 2) {
            throw new IllegalStateException(
                    "BashJavaUtils " + which + " gave no resource parameters:\n" + output);
        }
        return results;
    }

    private static Process startProcess(
            Path java,
            String classpath,
            Path conf,
            Path logFile,
            Path pluginsDir,
            List<List<String>> resources,
            String mainClass)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        command.addAll(resources.get(0));
        command.addAll(JAVA_17_OPENS);
        command.add("-Dlog.file=" + logFile);
        command.add("-Dlog4j.configurationFile=" + conf.resolve("log4j.properties").toUri());
        command.add("-cp");
        command.add(classpath);
        command.add(mainClass);
        command.add("--configDir");
        command.add(conf.toString());
        command.addAll(resources.get(1));
        ProcessBuilder process =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(
                                logFile.resolveSibling(logFile.getFileName() + ".out").toFile());
        if (pluginsDir != null) {
            // where Flink's entry points look for plugins (a distribution's plugins/ otherwise)
            process.environment().put("FLINK_PLUGINS_DIR", pluginsDir.toAbsolutePath().toString());
        }
        return process.start();
    }

    public String restUrl() {
        return "http://localhost:" + restPort;
    }

    public Path workDir() {
        return workDir;
    }

    private int registeredSlots() {
        try {
            return get("/overview").path("slots-total").asInt(0);
        } catch (IOException e) {
            return 0;
        }
    }

    /** Uploads a job jar; returns its id on the cluster. */
    public String uploadJar(Path jar) throws IOException {
        String boundary = "tidemark-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(
                ("--"
                                + boundary
                                + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                                + jar.getFileName()
                                + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                        .getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        JsonNode response =
                send(
                        HttpRequest.newBuilder(URI.create(restUrl() + "/jars/upload"))
                                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                                .build());
        String filename = response.path("filename").asText();
        return filename.substring(filename.lastIndexOf('/') + 1);
    }

    /**
     * Runs an uploaded jar's {@code entryClass} with {@code args}; from {@code savepointPath} if
     * not null, refusing state that maps to no operator. Returns the job id.
     */
    public String run(String jarId, String entryClass, List<String> args, String savepointPath)
            throws IOException {
        ObjectNode request = JSON.createObjectNode();
        request.put("entryClass", entryClass);
        request.putPOJO("programArgsList", args);
        if (savepointPath != null) {
            request.put("savepointPath", savepointPath);
            request.put("allowNonRestoredState", false);
            request.put("claimMode", "NO_CLAIM");
        }
        JsonNode response =
                send(
                        HttpRequest.newBuilder(URI.create(restUrl() + "/jars/" + jarId + "/run"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(request.toString()))
                                .build());
        return response.path("jobid").asText();
    }

    /** The job's state, e.g. {@code RUNNING}. */
    public String jobState(String jobId) throws IOException {
        return get("/jobs/" + jobId).path("state").asText();
    }

    /**
     * Stops a job with a savepoint in {@code targetDirectory} (no drain: event time does not jump
     * to the end) and returns the savepoint's path once it is complete.
     */
    public String stopWithSavepoint(String jobId, Path targetDirectory, Duration timeout)
            throws IOException, InterruptedException {
        ObjectNode request = JSON.createObjectNode();
        request.put("drain", false);
        request.put("targetDirectory", targetDirectory.toUri().toString());
        request.put("formatType", "CANONICAL");
        String trigger =
                send(HttpRequest.newBuilder(URI.create(restUrl() + "/jobs/" + jobId + "/stop"))
                                .header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(request.toString()))
                                .build())
                        .path("request-id")
                        .asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode status = get("/jobs/" + jobId + "/savepoints/" + trigger);
            if ("COMPLETED".equals(status.path("status").path("id").asText())) {
                JsonNode operation = status.path("operation");
                if (operation.has("failure-cause")) {
                    throw new IOException(
                            "stop with savepoint of " + jobId + " failed: " + operation);
                }
                return operation.path("location").asText();
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(
                        "stop with savepoint of " + jobId + " not done within " + timeout);
            }
            // polling the cluster's own status of the savepoint operation
            TimeUnit.MILLISECONDS.sleep(200);
        }
    }

    /** Cancels a job (no savepoint). */
    public void cancel(String jobId) throws IOException {
        send(
                HttpRequest.newBuilder(URI.create(restUrl() + "/jobs/" + jobId + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody())
                        .build());
    }

    private JsonNode get(String path) throws IOException {
        return send(HttpRequest.newBuilder(URI.create(restUrl() + path)).GET().build());
    }

    private JsonNode send(HttpRequest request) throws IOException {
        try {
            HttpResponse<String> response = http.send(request, BodyHandlers.ofString());
            if (response.statusCode() >= 300) {
                throw new IOException(
                        request.method()
                                + " "
                                + request.uri()
                                + " answered "
                                + response.statusCode()
                                + ": "
                                + response.body());
            }
            String body = response.body();
            return body.isEmpty() ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** The cluster commands ({@link ClusterCommands}): {@code start | status | stop}. */
    public static void main(String[] args) throws Exception {
        ClusterCommands.main(args);
    }

    /** The REST port of a cluster this JVM started. */
    int restPort() {
        return restPort;
    }

    /** The process ids of the JobManager and the TaskManager, in that order. */
    List<Long> pids() {
        return List.of(jobManager.pid(), taskManager.pid());
    }

    /**
     * Kills both JVMs with SIGKILL, as a power cut or the OOM killer does: no job is cancelled, no
     * savepoint taken; what the cluster wrote to its checkpoint directories stays.
     */
    public void kill() throws InterruptedException {
        for (Process process : List.of(taskManager, jobManager)) {
            process.destroyForcibly();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("a cluster JVM outlived SIGKILL: " + process);
            }
        }
    }

    /** Stops both JVMs. */
    @Override
    public void close() {
        // the TaskManager first, so the JobManager does not restart jobs on its way down
        ChildProcesses.stop(taskManager);
        ChildProcesses.stop(jobManager);
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }
}
