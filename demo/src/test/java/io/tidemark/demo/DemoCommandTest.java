package io.tidemark.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.cli.Tidemark;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(String... args) {
        CommandLine cli = DemoMain.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    @Test
    void theDemoBesideEveryCommandOfTheJobJar() {
        assertThat(execute("--help")).isZero();
        assertThat(out.toString()).contains("run").contains("verify").contains("demo");
        assertThat(execute("demo", "--help")).isZero();
        assertThat(out.toString())
                .contains("--duration")
                .contains("--rate")
                .contains("--web-ui-port");
    }

    @Test
    void unknownOptionIsOneLineNamingIt() {
        assertThat(execute("demo", "--durration")).isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(err.toString().strip())
                .isEqualTo(
                        "tidemark demo: Unknown option: '--durration' (see 'tidemark demo --help')")
                .doesNotContain("\n");
    }

    @Test
    void badValueNamesTheOption() {
        assertThat(execute("demo", "--duration", "soon")).isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(err.toString().strip())
                .isEqualTo(
                        "tidemark demo: Invalid value for option '--duration': 'soon' is not a duration "
                                + "(examples: 500ms, 30s, 2min) (see 'tidemark demo --help')");
    }

    @Test
    void badIntegerNamesTheOption() {
        assertThat(execute("demo", "--rate", "fast")).isEqualTo(Tidemark.EXIT_USAGE);
        assertThat(err.toString().strip())
                .startsWith(
                        "tidemark demo: Invalid value for option '--rate': 'fast' is not an int")
                .doesNotContain("\n");
    }
}
