package io.tidemark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/tidemark}, the single entry point of the command line, run as a user runs it (a shell
 * process, the shaded job jar this build made, the Flink jars of {@code deploy/target/flink-lib}):
 * it carries the JVM flags Flink needs (the same list as the build's {@code flink.jvm.opens}), its
 * log configuration (warnings on stderr, stdout only what the command prints) and the command's
 * exit codes; a missing jar is named with the command that builds it.
 */
class LauncherITCase {

    private static final Path LAUNCHER = Path.of("..", "bin", "tidemark").toAbsolutePath();

    @TempDir Path dir;

    @Test
    void runsTheCommandLineWithFlinksFlagsAndItsLogConfiguration() throws Exception {
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(
                file,
                """
                pipeline:
                  id: launcher
                source:
                  type: postgres
                  hostname: 127.0.0.1
                  database: shop
                  username: tidemark
                  password: s3cr3t
                  slot-name: old_name_slot
                catalog:
                  type: jdbc
                  properties:
                    uri: jdbc:postgresql://127.0.0.1:5432/iceberg
                    warehouse: file:///tmp/launcher-warehouse
                tables:
                  - source: public.customers
                """);
        Result printed = launch(List.of(), "run", "--config", file.toString(), "--print-config");
        assertThat(printed.exit).as(printed.stderr).isZero();
        assertThat(printed.stdout)
                .contains("slot.name: old_name_slot", "password: ***")
                .doesNotContain("s3cr3t", "WARN");
        // the deprecated name is read, with the warning on stderr
        assertThat(printed.stderr)
                .contains(
                        "'source.slot-name' is deprecated and will be removed in the next release; "
                                + "use 'source.slot.name'")
                .doesNotContain("Exception");

        Result usage = launch(List.of(), "no-such-command");
        assertThat(usage.exit).as(usage.stderr).isEqualTo(2);

        Result noJar =
                launch(List.of("TIDEMARK_JAR=" + dir.resolve("missing.jar")), "verify", "--help");
        assertThat(noJar.exit).isEqualTo(2);
        assertThat(noJar.stderr).contains("./mvnw -B -ntp -DskipTests package");
    }

    @Test
    void carriesTheSameJvmFlagsAsTheBuild() throws IOException {
        Matcher property =
                Pattern.compile("<flink.jvm.opens>([^<]+)</flink.jvm.opens>")
                        .matcher(Files.readString(Path.of("..", "pom.xml")));
        assertThat(property.find()).isTrue();
        List<String> build = Arrays.asList(property.group(1).trim().split("\\s+"));
        List<String> launcher = new ArrayList<>();
        for (String line : Files.readAllLines(LAUNCHER)) {
            String flag = line.trim();
            if (flag.startsWith("--add-opens=") || flag.startsWith("--add-exports=")) {
                launcher.add(flag);
            }
        }
        assertThat(launcher).containsExactlyElementsOf(build);
    }

    private record Result(int exit, String stdout, String stderr) {}

    private Result launch(List<String> environment, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(LAUNCHER.toString());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().remove("FLINK_HOME");
        for (String variable : environment) {
            String[] kv = variable.split("=", 2);
            builder.environment().put(kv[0], kv[1]);
        }
        Path out = dir.resolve("stdout-" + System.nanoTime());
        Path err = dir.resolve("stderr-" + System.nanoTime());
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError("bin/tidemark did not exit within 2 minutes: " + command);
        }
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }
}
