package io.tidemark.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Properties;
import java.util.UUID;
import org.slf4j.MDC;

/**
 * Who is running: the run id (new for every start unless given), the pipeline id (stable across
 * runs) and the code version baked in at build time. The run id travels in every log line through
 * the MDC key {@value #MDC_RUN_ID}.
 */
public record RunContext(String runId, String pipelineId, String codeVersion)
        implements Serializable {

    public static final String MDC_RUN_ID = "run.id";

    private static final DateTimeFormatter RUN_ID_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /** A new run of {@code pipelineId}, with {@code runId} or a generated one if null. */
    public static RunContext start(String pipelineId, String runId) {
        String id =
                runId != null
                        ? runId
                        : RUN_ID_TIME.format(Instant.now())
                                + "-"
                                + UUID.randomUUID().toString().substring(0, 8);
        return new RunContext(id, pipelineId, buildVersion());
    }

    /** Puts the run id into the calling thread's logging context. */
    public void enterLogContext() {
        MDC.put(MDC_RUN_ID, runId);
    }

    /**
     * The project version and git commit this code was built from, e.g. {@code
     * 0.1.0-SNAPSHOT+3f2a9c1} ({@code .dirty} when the working tree had uncommitted changes; no
     * commit part when built outside a git checkout).
     */
    public static String buildVersion() {
        try (InputStream in =
                RunContext.class.getResourceAsStream("/tidemark-version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version", "unknown");
            String commit = properties.getProperty("git.commit", "");
            if (commit.isEmpty() || commit.startsWith("${")) {
                return version;
            }
            return version
                    + "+"
                    + commit
                    + ("true".equals(properties.getProperty("git.dirty")) ? ".dirty" : "");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
