package io.tidemark.deploy;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An S3 API on loopback for tests and local runs: S3Proxy ({@code org.gaul:s3proxy}, from Maven)
 * over a directory of this machine (jclouds' {@code filesystem} store: a bucket is a directory of
 * {@code dataDir}), with AWS signature v2/v4 authentication. It runs as a child process whose
 * classpath is {@code s3-server/target/lib}, which that module's build assembles, so its
 * dependencies (Jetty, jclouds, Logback, older commons) stay out of every other classpath and out
 * of every other module's dependency mediation. {@link #close} stops it; the data stays in {@code
 * dataDir}, so a server started again on it serves the same objects.
 */
public final class S3Server implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(S3Server.class);

    /** The region clients should name (S3Proxy accepts any). */
    public static final String REGION = "us-east-1";

    private final Process process;
    private final int port;
    private final String accessKey;
    private final String secretKey;

    private S3Server(Process process, int port, String accessKey, String secretKey) {
        this.process = process;
        this.port = port;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    /**
     * Starts a server over {@code dataDir} with {@code buckets} (created as directories when
     * missing) on a free port; {@code libDir} is the built {@code s3-server/target/lib}.
     */
    public static S3Server start(
            Path libDir,
            Path javaHome,
            Path dataDir,
            List<String> buckets,
            String accessKey,
            String secretKey,
            Duration timeout)
            throws IOException, InterruptedException {
        if (!Files.isDirectory(libDir)) {
            throw new IllegalStateException(
                    "no S3Proxy classpath at "
                            + libDir
                            + ": build the s3-server module first (./mvnw -pl s3-server package)");
        }
        for (String bucket : buckets) {
            Files.createDirectories(dataDir.resolve(bucket));
        }
        int port = ChildProcesses.freePort();
        Path work = dataDir.resolveSibling(dataDir.getFileName() + "-s3proxy");
        Files.createDirectories(work);
        Map<String, String> properties = new TreeMap<>();
        properties.put("s3proxy.endpoint", "http://127.0.0.1:" + port);
        properties.put("s3proxy.authorization", "aws-v2-or-v4");
        properties.put("s3proxy.identity", accessKey);
        properties.put("s3proxy.credential", secretKey);
        properties.put("jclouds.provider", "filesystem");
        properties.put("jclouds.filesystem.basedir", dataDir.toAbsolutePath().toString());
        StringBuilder file = new StringBuilder();
        properties.forEach((k, v) -> file.append(k).append('=').append(v).append('\n'));
        Path config = work.resolve("s3proxy.conf");
        Files.writeString(config, file);

        List<String> command = new ArrayList<>();
        command.add(javaHome.resolve("bin/java").toString());
        command.add("-Xmx512m");
        command.add("-cp");
        command.add(libDir.toAbsolutePath() + "/*");
        command.add("org.gaul.s3proxy.Main");
        command.add("--properties");
        command.add(config.toString());
        Path log = work.resolve("s3proxy.log");
        Process process =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .start();
        S3Server server = new S3Server(process, port, accessKey, secretKey);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!server.listening()) {
            if (!process.isAlive()) {
                throw new IllegalStateException(
                        "S3Proxy exited with "
                                + process.exitValue()
                                + "; "
                                + ChildProcesses.tail(log, 30));
            }
            if (System.nanoTime() > deadline) {
                server.close();
                throw new IllegalStateException(
                        "S3Proxy did not start within " + timeout + "; see " + log);
            }
            // polling the port the server is to open
            TimeUnit.MILLISECONDS.sleep(200);
        }
        LOG.info("S3Proxy started on port {} over {}", port, dataDir);
        return server;
    }

    private boolean listening() {
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The endpoint URL clients are given ({@code http://127.0.0.1:<port>}). */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /**
     * Iceberg's {@code S3FileIO} catalog properties for this server (path-style requests, static
     * credentials).
     */
    public Map<String, String> icebergProperties() {
        Map<String, String> props = new TreeMap<>();
        props.put("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
        props.put("s3.endpoint", endpoint());
        props.put("s3.path-style-access", "true");
        props.put("s3.access-key-id", accessKey);
        props.put("s3.secret-access-key", secretKey);
        props.put("client.region", REGION);
        return props;
    }

    /**
     * Flink's S3 file system ({@code flink-s3-fs-hadoop}) settings for this server. The plugin
     * shades Hadoop 3.3, whose S3A reads some durations as plain numbers; loaded beside Hadoop
     * 3.4's {@code core-default.xml} (the job's Hadoop client, in one JVM: a test, not a cluster,
     * where plugins have class loaders of their own) it would meet {@code 60s}: those are given as
     * numbers.
     */
    public Map<String, String> flinkProperties() {
        Map<String, String> props = new TreeMap<>();
        props.put("s3.endpoint", endpoint());
        props.put("s3.path.style.access", "true");
        props.put("s3.access-key", accessKey);
        props.put("s3.secret-key", secretKey);
        props.put("fs.s3a.connection.establish.timeout", "30000");
        props.put("fs.s3a.connection.timeout", "200000");
        props.put("fs.s3a.threads.keepalivetime", "60");
        props.put("fs.s3a.multipart.purge.age", "86400");
        // (and Hadoop 3.4 names AWS SDK v2 credential providers, which Hadoop 3.3's S3A cannot
        // take: the keys above, as the plugin's own)
        props.put(
                "fs.s3a.aws.credentials.provider",
                "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        // S3Proxy's multi-object delete (of S3A's directory markers after each write) takes 20 s
        // on its filesystem store: one object per delete, and markers kept
        props.put("fs.s3a.multiobjectdelete.enable", "false");
        props.put("fs.s3a.directory.marker.retention", "keep");
        return props;
    }

    /** Trino's native S3 file system settings for this server. */
    public Map<String, String> trinoProperties() {
        Map<String, String> props = new TreeMap<>();
        props.put("fs.native-s3.enabled", "true");
        props.put("s3.endpoint", endpoint());
        props.put("s3.path-style-access", "true");
        props.put("s3.region", REGION);
        props.put("s3.aws-access-key", accessKey);
        props.put("s3.aws-secret-key", secretKey);
        return props;
    }

    @Override
    public void close() {
        ChildProcesses.stop(process);
    }
}
