package io.tidemark.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node Trino 476 server bound to loopback, started from what the build unpacked from Maven
 * into one directory: {@code trino-server-core-476/} ({@code
 * io.trino:trino-server-core:476:tar.gz}, whose {@code lib/} is used) and {@code
 * plugins/trino-iceberg-476/} ({@code io.trino:trino-iceberg:476:zip}, the only plugin loaded: the
 * core tarball stores its bundled plugins as hard links, which Maven's unpacker turns into empty
 * files). One Iceberg catalog {@value #CATALOG} over an Iceberg JDBC catalog.
 *
 * <p>Trino 476 needs a JDK 24 or newer: {@link #findJavaHome} takes {@code TRINO_JAVA_HOME}, then
 * looks for one under {@code /usr/lib/jvm}. The server runs as a child process; {@link #close}
 * stops it.
 */
public final class TrinoServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TrinoServer.class);

    /** The name of the Iceberg catalog in Trino. */
    public static final String CATALOG = "iceberg";

    public static final int MINIMUM_JAVA = 24;

    public static final String VERSION = "476";

    /** Whether {@code trinoDir} holds the server core and the Iceberg plugin. */
    public static boolean isDistribution(Path trinoDir) {
        return trinoDir != null
                && Files.isDirectory(trinoDir.resolve("trino-server-core-" + VERSION + "/lib"))
                && Files.isDirectory(trinoDir.resolve("plugins/trino-iceberg-" + VERSION));
    }

    private final Process process;
    private final int port;
    private final Path workDir;

    private TrinoServer(Process process, int port, Path workDir) {
        this.process = process;
        this.port = port;
        this.workDir = workDir;
    }

    /**
     * The Trino catalog file of an Iceberg JDBC catalog: {@code catalogName} is the name the Java
     * side gives {@code JdbcCatalog.initialize} (rows of other names are invisible to it).
     */
    public static Map<String, String> icebergJdbcCatalog(
            String catalogName, String jdbcUrl, String user, String password, String warehouse) {
        Map<String, String> catalog = new LinkedHashMap<>();
        catalog.put("connector.name", "iceberg");
        catalog.put("iceberg.catalog.type", "jdbc");
        catalog.put("iceberg.jdbc-catalog.driver-class", "org.postgresql.Driver");
        catalog.put("iceberg.jdbc-catalog.connection-url", jdbcUrl);
        catalog.put("iceberg.jdbc-catalog.connection-user", user);
        if (password != null && !password.isEmpty()) {
            catalog.put("iceberg.jdbc-catalog.connection-password", password);
        }
        catalog.put("iceberg.jdbc-catalog.catalog-name", catalogName);
        catalog.put("iceberg.jdbc-catalog.default-warehouse-dir", warehouse);
        // local warehouse paths (file:/...) resolve under local.location
        catalog.put("fs.native-local.enabled", "true");
        catalog.put("local.location", "/");
        return catalog;
    }

    /** Renders a properties file in a stable order. */
    public static String propertiesFile(Map<String, String> properties) {
        StringBuilder out = new StringBuilder();
        properties.forEach((k, v) -> out.append(k).append('=').append(v).append('\n'));
        return out.toString();
    }

    /**
     * Writes a single-node configuration under {@code workDir} and starts Trino from {@code
     * trinoHome}; returns once the server reports it has started.
     */
    public static TrinoServer start(
            Path trinoDir,
            Path javaHome,
            Path workDir,
            Map<String, String> icebergCatalog,
            Duration timeout)
            throws IOException, InterruptedException {
        Path trinoHome = trinoDir.resolve("trino-server-core-" + VERSION);
        Path plugins = trinoDir.resolve("plugins");
        if (!isDistribution(trinoDir)) {
            throw new IllegalArgumentException(
                    "no Trino "
                            + VERSION
                            + " at "
                            + trinoDir
                            + " (expected trino-server-core-"
                            + VERSION
                            + "/lib and plugins/trino-iceberg-"
                            + VERSION
                            + "): let Maven unpack it, e.g. "
                            + "./mvnw -pl flink-job -am -DskipTests -Dit.test=none verify");
        }
        int port = ChildProcesses.freePort();
        Path etc = workDir.resolve("etc");
        Files.createDirectories(etc.resolve("catalog"));
        Path data = workDir.resolve("data");
        Files.createDirectories(data);
        Map<String, String> config = new LinkedHashMap<>();
        config.put("coordinator", "true");
        config.put("node-scheduler.include-coordinator", "true");
        config.put("http-server.http.port", Integer.toString(port));
        config.put("discovery.uri", "http://127.0.0.1:" + port);
        config.put("query.max-memory", "1GB");
        config.put("query.max-memory-per-node", "512MB");
        config.put("catalog.config-dir", etc.resolve("catalog").toString());
        config.put("plugin.dir", plugins.toString());
        Files.writeString(etc.resolve("config.properties"), propertiesFile(config));
        Files.writeString(
                etc.resolve("catalog").resolve(CATALOG + ".properties"),
                propertiesFile(icebergCatalog));
        Files.writeString(etc.resolve("log.properties"), "io.trino=WARN\n");

        List<String> command = new ArrayList<>();
        command.add(javaHome.resolve("bin/java").toString());
        command.addAll(
                List.of(
                        "-Xmx2G",
                        "-XX:+UseG1GC",
                        "-XX:+ExitOnOutOfMemoryError",
                        "-XX:+EnableDynamicAgentLoading",
                        "-Djdk.attach.allowAttachSelf=true",
                        "-Dfile.encoding=UTF-8",
                        "-Dnode.environment=tidemark",
                        "-Dnode.id=" + UUID.randomUUID(),
                        "-Dnode.data-dir=" + data,
                        "-Dnode.internal-address=127.0.0.1",
                        "-Dnode.bind-ip=127.0.0.1",
                        "-Dconfig=" + etc.resolve("config.properties"),
                        "-Dlog.levels-file=" + etc.resolve("log.properties"),
                        "-cp",
                        trinoHome.resolve("lib") + "/*",
                        "io.trino.server.TrinoServer"));
        Path log = workDir.resolve("server.log");
        Process process =
                new ProcessBuilder(command)
                        .directory(trinoHome.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        TrinoServer server = new TrinoServer(process, port, workDir);
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpClient http = HttpClient.newHttpClient();
        while (true) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "Trino exited with "
                                + process.exitValue()
                                + "; "
                                + ChildProcesses.tail(log, 30));
            }
            if (server.started(http)) {
                LOG.info("Trino started on port {} (work dir {})", port, workDir);
                return server;
            }
            if (System.nanoTime() > deadline) {
                server.close();
                throw new IllegalStateException(
                        "Trino did not start within " + timeout + "; see " + log);
            }
            // polling the server's own status endpoint
            TimeUnit.MILLISECONDS.sleep(500);
        }
    }

    private boolean started(HttpClient http) {
        try {
            String body =
                    http.send(
                                    HttpRequest.newBuilder(
                                                    URI.create(
                                                            "http://127.0.0.1:"
                                                                    + port
                                                                    + "/v1/info"))
                                            .timeout(Duration.ofSeconds(5))
                                            .build(),
                                    BodyHandlers.ofString())
                            .body();
            return body.replace(" ", "").contains("\"starting\":false");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Waits until {@code sql} (a scan of a table in a catalog) runs without an error. A server that
     * reports it has started refuses queries that scan a catalog's tables with "No nodes available
     * to run query" for some seconds: the coordinator's node manager learns which nodes serve a
     * catalog from their announcements, which it reads every few seconds. Run through Trino's
     * client protocol: the statement is posted, then its {@code nextUri} followed until it ends.
     */
    public void awaitQuery(String sql, Duration timeout) throws InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (true) {
            try {
                Optional<String> error = run(http, sql);
                if (error.isEmpty()) {
                    return;
                }
                last = error.get();
            } catch (IOException e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        "Trino did not run " + sql + " within " + timeout + ": " + last);
            }
            // polling the server until its node manager has caught up
            TimeUnit.MILLISECONDS.sleep(500);
        }
    }

    /** Runs {@code sql} to its end: the error Trino answered, if any. */
    private Optional<String> run(HttpClient http, String sql)
            throws IOException, InterruptedException {
        HttpRequest request =
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/statement"))
                        .timeout(Duration.ofSeconds(30))
                        .header("X-Trino-User", "tidemark")
                        .POST(HttpRequest.BodyPublishers.ofString(sql))
                        .build();
        for (int page = 0; page < 10_000; page++) {
            String body = http.send(request, BodyHandlers.ofString()).body();
            if (body.contains("\"error\"")) {
                Matcher error = ERROR_MESSAGE.matcher(body);
                return Optional.of(error.find() ? error.group(1) : body);
            }
            Matcher next = NEXT_URI.matcher(body);
            if (!next.find()) {
                return Optional.empty();
            }
            request =
                    HttpRequest.newBuilder(URI.create(next.group(1)))
                            .timeout(Duration.ofSeconds(30))
                            .header("X-Trino-User", "tidemark")
                            .GET()
                            .build();
        }
        return Optional.of("no end after 10,000 pages");
    }

    private static final Pattern NEXT_URI = Pattern.compile("\"nextUri\"\\s*:\\s*\"([^\"]+)\"");

    private static final Pattern ERROR_MESSAGE =
            Pattern.compile("\"error\"\\s*:\\s*\\{\\s*\"message\"\\s*:\\s*\"([^\"]*)\"");

    public int port() {
        return port;
    }

    /** The Trino JDBC URL of the Iceberg catalog. */
    public String jdbcUrl() {
        return "jdbc:trino://127.0.0.1:" + port + "/" + CATALOG;
    }

    /** The command that opens Trino's CLI (the {@code io.trino:trino-cli:476:executable} jar). */
    public String cliCommand() {
        return "java -jar trino-cli-476-executable.jar --server http://127.0.0.1:"
                + port
                + " --catalog "
                + CATALOG;
    }

    public Path workDir() {
        return workDir;
    }

    @Override
    public void close() {
        ChildProcesses.stop(process);
    }

    /**
     * A JDK for Trino: {@code TRINO_JAVA_HOME} if set, else the newest JDK of version {@value
     * #MINIMUM_JAVA} or later under {@code /usr/lib/jvm}.
     */
    public static Path findJavaHome() {
        String configured = System.getenv("TRINO_JAVA_HOME");
        if (configured != null && !configured.isBlank()) {
            Path home = Path.of(configured);
            int version = javaVersion(home).orElse(0);
            if (version < MINIMUM_JAVA) {
                throw new IllegalStateException(
                        "TRINO_JAVA_HOME="
                                + configured
                                + " is Java "
                                + version
                                + "; Trino 476 needs "
                                + MINIMUM_JAVA
                                + " or newer");
            }
            return home;
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvms)) {
            try (Stream<Path> homes = Files.list(jvms)) {
                Optional<Path> best =
                        homes.filter(h -> javaVersion(h).orElse(0) >= MINIMUM_JAVA)
                                .max(
                                        (a, b) ->
                                                Integer.compare(
                                                        javaVersion(a).orElse(0),
                                                        javaVersion(b).orElse(0)));
                if (best.isPresent()) {
                    return best.get();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException(
                "no JDK "
                        + MINIMUM_JAVA
                        + " or newer found for Trino 476: install one (e.g. Temurin 25) and set "
                        + "TRINO_JAVA_HOME to it");
    }

    /** The feature version in a JDK's {@code release} file. */
    static Optional<Integer> javaVersion(Path javaHome) {
        Path release = javaHome.resolve("release");
        if (!Files.isRegularFile(release) || !Files.isExecutable(javaHome.resolve("bin/java"))) {
            return Optional.empty();
        }
        try {
            Properties properties = new Properties();
            properties.load(Files.newBufferedReader(release, StandardCharsets.UTF_8));
            String version = properties.getProperty("JAVA_VERSION", "").replace("\"", "");
            String feature = version.split("[.+-]")[0];
            return Optional.of(Integer.parseInt(feature));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }
}
