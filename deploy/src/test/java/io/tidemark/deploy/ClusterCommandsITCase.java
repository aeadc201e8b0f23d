package io.tidemark.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code FlinkCluster start | status | stop}: a real cluster that outlives the start command, found
 * again by status and taken down by stop.
 */
class ClusterCommandsITCase {

    @TempDir Path workDir;

    @Test
    void startStatusStop() throws Exception {
        String dir = workDir.toString();
        Path lib = Path.of("target", "flink-lib");
        try {
            Output start = run("start", "--work-dir", dir, "--lib", lib.toString(), "--slots", "2");
            assertThat(start.code).as(start.text).isZero();
            assertThat(start.text).contains("Flink cluster up: http://localhost:");
            assertThat(workDir.resolve("cluster.properties")).exists();

            Output status = run("status", "--work-dir", dir);
            assertThat(status.code).as(status.text).isZero();
            assertThat(status.text)
                    .contains("jobmanager.pid")
                    .contains("1 TaskManager(s), 2/2 slots free, 0 job(s) running");

            Output again = run("start", "--work-dir", dir, "--lib", lib.toString());
            assertThat(again.code).isEqualTo(2);
            assertThat(again.text).contains("already up");
        } finally {
            Output stop = run("stop", "--work-dir", dir);
            assertThat(stop.code).as(stop.text).isZero();
        }
        Output down = run("status", "--work-dir", dir);
        assertThat(down.code).isEqualTo(3);
        assertThat(Files.exists(workDir.resolve("cluster.properties"))).isFalse();
        assertThat(run("restart").code).isEqualTo(2);
    }

    private record Output(int code, String text) {}

    private static Output run(String... args) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int code;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            code = ClusterCommands.command(out, args);
        }
        return new Output(code, bytes.toString(StandardCharsets.UTF_8));
    }
}
