package io.tidemark.demo;

import io.tidemark.cli.Tidemark;
import picocli.CommandLine;

/**
 * {@code tidemark} with {@code demo}: the job jar's command line plus the embedded default. The
 * demo, its embedded servers and Trino's launcher live in this module, outside the job jar users
 * submit.
 */
public final class DemoMain {

    private DemoMain() {}

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The job jar's commands and {@code demo}, with their one-line errors. */
    public static CommandLine commandLine() {
        CommandLine cli = Tidemark.commandLine();
        cli.addSubcommand(new DemoCommand());
        return cli;
    }
}
