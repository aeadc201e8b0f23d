package io.tidemark.testing;

import io.tidemark.cli.Tidemark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** A {@code tidemark} command run in this JVM: its exit code and what it printed on stdout. */
public record CliOutput(int exitCode, String out) {

    /** Runs {@code args} as the command line would, capturing stdout. */
    public static CliOutput run(String... args) {
        PrintStream previous = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = Tidemark.execute(args);
        } finally {
            System.setOut(previous);
        }
        return new CliOutput(exit, printed.toString(StandardCharsets.UTF_8));
    }

    /**
     * The JSON document of {@code --output json}: its one line on stdout (the tests' log lines go
     * to stdout too; the command line's own log goes to stderr).
     */
    public String json() {
        return out.lines()
                .filter(line -> line.startsWith("{"))
                .reduce((first, second) -> second)
                .orElseThrow(() -> new AssertionError("no JSON document in: " + out));
    }
}
