package io.tidemark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TidemarkCliTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(String... args) {
        CommandLine cli = Tidemark.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    @Test
    void helpOfEachCommand() {
        assertThat(execute("--help")).isZero();
        assertThat(out.toString())
                .contains("run")
                .contains("verify")
                .contains("resnapshot")
                .doesNotContain("demo");
        assertThat(execute("run", "--help")).isZero();
        assertThat(out.toString()).contains("--config").contains("--run-id");
    }

    @Test
    void unknownOptionIsOneLineNamingIt() {
        assertThat(execute("run", "--config", "p.yaml", "--fressh")).isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(err.toString().strip())
                .isEqualTo("tidemark run: Unknown option: '--fressh' (see 'tidemark run --help')");
    }

    @Test
    void theDemoIsNotInTheJobJarsCommandLine() {
        assertThat(execute("demo")).isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(err.toString()).contains("Unmatched argument").contains("'demo'");
    }

    @Test
    void verifyNamesAnUnknownTable(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("p.yaml");
        Files.writeString(
                file,
                """
                        pipeline:
                          id: p
                        source:
                          type: postgres
                          hostname: 127.0.0.1
                          database: shop
                          username: u
                        catalog:
                          type: jdbc
                          properties:
                            uri: jdbc:postgresql://127.0.0.1/catalog
                            warehouse: file:///tmp/w
                        tables:
                          - source: public.orders
                            target: shop.orders
                        """);
        assertThat(execute("verify", "--help")).isZero();
        assertThat(out.toString()).contains("--wait").contains("Exit code 0");
        assertThat(Tidemark.execute("verify", "--config", file.toString(), "--table", "shop.x"))
                .isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(execute("verify", "--config", file.toString(), "--wait", "soon"))
                .isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(err.toString()).contains("--wait");
    }

    @Test
    void anErrorExitsThreeNamingItNotOneAsADifferenceDoes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("p.yaml");
        // nothing listens on port 1: the catalog cannot be reached
        Files.writeString(
                file,
                """
                pipeline: {id: p}
                source: {type: postgres, hostname: 127.0.0.1, database: shop, username: u}
                catalog: {type: jdbc, properties: {uri: 'jdbc:postgresql://127.0.0.1:1/c', warehouse: 'file:///tmp/w'}}
                tables: [{source: public.orders, target: shop.orders}]
                """);
        for (String command : new String[] {"provenance", "quarantine"}) {
            err.getBuffer().setLength(0);
            assertThat(execute(command, "--config", file.toString()))
                    .as(command)
                    .isEqualTo(Tidemark.EXIT_ERROR);
            assertThat(err.toString())
                    .as(command)
                    .startsWith("tidemark " + command + ": ")
                    .contains("127.0.0.1:1");
        }
    }

    @Test
    void runNeedsAConfig() {
        assertThat(execute("run")).isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(err.toString().strip())
                .isEqualTo(
                        "tidemark run: Missing required option: '--config=<pipeline.yaml>' (see 'tidemark run --help')");
    }

    @Test
    void quarantineAndItsReplayNeedAConfig() {
        assertThat(execute("quarantine")).isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(err.toString().strip())
                .isEqualTo(
                        "tidemark quarantine: Missing required option: '--config=<pipeline.yaml>' (see 'tidemark quarantine --help')");
        err.getBuffer().setLength(0);
        assertThat(execute("quarantine", "replay", "--table", "shop.orders"))
                .isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(err.toString()).contains("Missing required option: '--config=<pipeline.yaml>'");
    }

    @Test
    void runWithABadFileNamesFileAndKey(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("p.yaml");
        Files.writeString(file, "pipeline:\n  idd: x\n");
        java.io.ByteArrayOutputStream stderr = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.err;
        System.setErr(new java.io.PrintStream(stderr, true));
        try {
            assertThat(execute("run", "--config", file.toString())).isEqualTo(Tidemark.EXIT_USAGE);
        } finally {
            System.setErr(original);
        }
        assertThat(stderr.toString().strip())
                .isEqualTo(
                        "tidemark run: "
                                + file
                                + ": unknown key 'pipeline.idd' (did you mean 'pipeline.id'?)");
    }

    @Test
    void keepServingGoesWithFresh(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("p.yaml");
        // a MySQL source: its binlog's end is read (and nothing else) only with --fresh
        Files.writeString(
                file,
                """
                pipeline: {id: p}
                source: {type: mysql, hostname: 127.0.0.1, database: shop, username: u}
                catalog: {type: jdbc, properties: {uri: 'jdbc:postgresql://127.0.0.1/c', warehouse: 'file:///tmp/w'}}
                tables: [{source: shop.orders, target: shop.orders}]
                """);
        java.io.ByteArrayOutputStream stderr = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.err;
        System.setErr(new java.io.PrintStream(stderr, true));
        try {
            assertThat(execute("run", "--config", file.toString(), "--keep-serving"))
                    .isEqualTo(Tidemark.EXIT_USAGE);
            assertThat(stderr.toString()).contains("--keep-serving goes with --fresh");
        } finally {
            System.setErr(original);
        }
    }
}
