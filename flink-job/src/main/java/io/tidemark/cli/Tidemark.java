package io.tidemark.cli;

import io.tidemark.config.ConfigException;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.runtime.RunContext;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.apache.flink.client.program.StreamContextEnvironment;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;

/**
 * The one entry point of the job jar: {@code tidemark run --config <file>} (the production job) and
 * the tools beside it. The demo (module {@code demo}) adds {@code tidemark demo} to this command
 * line. Bad options and values end with a one-line error naming the option and exit code 2.
 */
@Command(
        name = "tidemark",
        mixinStandardHelpOptions = true,
        versionProvider = Tidemark.Version.class,
        description = "Keeps Apache Iceberg tables an exact, provable replica of database tables.",
        subcommands = {
            RunCommand.class,
            CheckCommand.class,
            ProvenanceCommand.class,
            VerifyCommand.class,
            ResnapshotCommand.class,
            MaintainCommand.class,
            QuarantineCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Tidemark implements Runnable {

    /** A command line or pipeline file that cannot be used as it is: fix it and run again. */
    public static final int EXIT_USAGE = 2;

    /**
     * A command that could not do its work (a server, the catalog or a table it needs failed it):
     * not a difference, which {@code verify} exits with 1.
     */
    public static final int EXIT_ERROR = 3;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) throws Exception {
        if (StreamExecutionEnvironment.getExecutionEnvironment()
                instanceof StreamContextEnvironment) {
            // under `flink run` or a cluster's REST submission the caller owns the JVM: exiting
            // would take a JobManager down with it, so failures propagate as exceptions (with
            // their cause, which the submitter sees) instead of exit codes
            CommandLine.ParseResult parsed = commandLine().parseArgs(args);
            Object command =
                    parsed.hasSubcommand()
                            ? parsed.subcommand().commandSpec().userObject()
                            : parsed.commandSpec().userObject();
            Object code =
                    command instanceof java.util.concurrent.Callable<?> callable
                            ? callable.call()
                            : null;
            if (code instanceof Integer exit && exit != 0) {
                throw new IllegalArgumentException(
                        "tidemark " + String.join(" ", args) + " ended with exit code " + exit);
            }
            return;
        }
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    /** The command line with every command of the job jar, its errors as one line each. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Tidemark());
        cli.setParameterExceptionHandler(
                (ex, arguments) -> {
                    CommandLine command = ex.getCommandLine();
                    PrintWriter err = command.getErr();
                    err.printf(
                            "%s: %s (see '%s --help')%n",
                            command.getCommandSpec().qualifiedName(),
                            ex.getMessage(),
                            command.getCommandSpec().qualifiedName());
                    err.flush();
                    return EXIT_USAGE;
                });
        cli.setExecutionExceptionHandler(
                (ex, command, parsed) -> {
                    PrintWriter err = command.getErr();
                    err.printf("%s: %s%n", command.getCommandSpec().qualifiedName(), causes(ex));
                    ex.printStackTrace(err);
                    err.flush();
                    return EXIT_ERROR;
                });
        return cli;
    }

    /** {@code error}'s message and those of its causes, each once, on one line. */
    static String causes(Throwable error) {
        StringBuilder line = new StringBuilder();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Throwable t = error; t != null && seen.size() < 8; t = t.getCause()) {
            String text =
                    t.getClass().getSimpleName()
                            + (t.getMessage() == null ? "" : ": " + t.getMessage());
            if (seen.add(text)) {
                line.append(line.length() == 0 ? "" : "; caused by ").append(text);
            }
        }
        return line.toString();
    }

    /** The pipeline's Iceberg catalog, as the command-line tools read it; close it after use. */
    static org.apache.iceberg.catalog.Catalog catalog(PipelineConfig pipeline) {
        return io.tidemark.catalog.Catalogs.load(
                pipeline.catalogName(),
                pipeline.catalogProperties(),
                new org.apache.hadoop.conf.Configuration());
    }

    /** Closes what {@link #catalog} opened. */
    static void close(org.apache.iceberg.catalog.Catalog catalog) throws java.io.IOException {
        if (catalog instanceof java.io.Closeable closeable) {
            closeable.close();
        }
    }

    /**
     * Loads and validates a pipeline file; a bad file prints {@code tidemark <command>: <what is
     * wrong>} and gives null (the caller exits with {@link #EXIT_USAGE}).
     */
    static PipelineConfig loadPipeline(Path file, String command) {
        try {
            return new PipelineConfigLoader().load(file);
        } catch (ConfigException e) {
            System.err.println("tidemark " + command + ": " + e.getMessage());
            return null;
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Prints the version baked in at build time. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"tidemark " + RunContext.buildVersion()};
        }
    }
}
