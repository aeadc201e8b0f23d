package io.tidemark.testing;

import io.tidemark.cli.Tidemark;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;

/** {@code tidemark run} in a JVM of its own, as a user starts it, and what it says. */
public final class RunProcess {

    private RunProcess() {}

    /** {@code tidemark run --config file options...}, output to {@code log}. */
    public static Process start(Path pipelineFile, Path log, String... options) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx768m");
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--add-opens") || argument.startsWith("--add-exports")) {
                command.add(argument);
            }
        }
        command.add("-Dlog4j2.configurationFile=log4j2-test.xml");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Tidemark.class.getName());
        command.add("run");
        command.add("--config");
        command.add(pipelineFile.toString());
        command.addAll(List.of(options));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    /** Waits until {@code run} has written {@code line} to its output, failing if it exits. */
    public static void awaitOutput(Process run, Path log, String line, Duration timeout) {
        Awaitility.await("tidemark run says: " + line)
                .atMost(timeout)
                .until(
                        () -> {
                            assertAlive(run, log);
                            return log(log).contains(line);
                        });
    }

    /** Fails with its output when {@code run} has exited. */
    public static void assertAlive(Process run, Path log) throws IOException {
        if (!run.isAlive()) {
            throw new AssertionError(
                    "tidemark run exited with " + run.exitValue() + ":\n" + log(log));
        }
    }

    /** What {@code run} wrote so far. */
    public static String log(Path log) throws IOException {
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }
}
