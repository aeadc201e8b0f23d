package io.tidemark.demo;

import io.tidemark.cli.DurationConverter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tidemark demo}: the whole pipeline on one machine with nothing installed. */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Start an embedded PostgreSQL, a shop schema and a workload, replicate it into Iceberg",
            "in-process (Flink web UI on a local port) and print a ground-truth verification report.",
            "Every run starts fresh: the work directory is wiped first. Exit code 0 when every table",
            "equals its source."
        })
final class DemoCommand implements Callable<Integer> {

    private static final DemoSettings DEFAULTS =
            DemoSettings.defaults(Path.of("target/tidemark-demo"));

    @Option(
            names = "--work-dir",
            paramLabel = "<dir>",
            description = "Work directory (default: ${DEFAULT-VALUE}).")
    Path workDir = DEFAULTS.workDir();

    @Option(
            names = {"-d", "--duration"},
            paramLabel = "<duration>",
            converter = DurationConverter.class,
            description = "How long the workload writes changes (default: 60s).")
    Duration duration = DEFAULTS.duration();

    @Option(
            names = {"-r", "--rate"},
            paramLabel = "<changes/s>",
            description = "Changes per second (default: ${DEFAULT-VALUE}).")
    int rate = DEFAULTS.rate();

    @Option(
            names = "--customers",
            paramLabel = "<n>",
            description = "Initial customers (default: ${DEFAULT-VALUE}).")
    int customers = DEFAULTS.customers();

    @Option(
            names = "--orders",
            paramLabel = "<n>",
            description = "Initial orders (default: ${DEFAULT-VALUE}).")
    int orders = DEFAULTS.orders();

    @Option(
            names = {"-p", "--parallelism"},
            paramLabel = "<n>",
            description = "Job parallelism (default: ${DEFAULT-VALUE}).")
    int parallelism = DEFAULTS.parallelism();

    @Option(
            names = "--checkpoint-interval",
            paramLabel = "<duration>",
            converter = DurationConverter.class,
            description = "Checkpoint (= commit) interval (default: 5s).")
    Duration checkpointInterval = DEFAULTS.checkpointInterval();

    @Option(
            names = "--web-ui-port",
            paramLabel = "<port>",
            description = "First port tried for the Flink web UI (default: ${DEFAULT-VALUE}).")
    int webUiPort = DEFAULTS.webUiPort();

    @Option(
            names = "--web-ui-bind-address",
            paramLabel = "<address>",
            description =
                    "Address the Flink web UI binds; jar upload stays off (default: "
                            + "${DEFAULT-VALUE}, this machine only).")
    String webUiBindAddress = DEFAULTS.webUiBindAddress();

    @Option(
            names = "--settle-timeout",
            paramLabel = "<duration>",
            converter = DurationConverter.class,
            description =
                    "How long to wait after the workload for the tables to match (default: 120s).")
    Duration settleTimeout = DEFAULTS.settleTimeout();

    @Option(
            names = "--source",
            paramLabel = "<postgres|mysql>",
            description =
                    "The source database: postgres (embedded PostgreSQL 16, with the orders contract "
                            + "and schema drift) or mysql (embedded MariaDB 11.4 read through its binlog; "
                            + "default: ${DEFAULT-VALUE}).")
    String source = DEFAULTS.source();

    @Option(
            names = "--seed",
            paramLabel = "<n>",
            description = "Workload random seed (default: ${DEFAULT-VALUE}).")
    long seed = DEFAULTS.seed();

    @Option(
            names = "--repeat",
            paramLabel = "<n>",
            description =
                    "Run the demo n times in a row, each fresh with the next seed, and print each "
                            + "run's diff and a closing tally (a stress run; default: ${DEFAULT-VALUE}).")
    int repeat = 1;

    @Option(
            names = "--contend",
            description =
                    "While the demo runs, keep every core but one busy with a spinning thread, as "
                            + "other processes on a shared machine do.")
    boolean contend;

    @Option(
            names = "--trino",
            description =
                    "After the report, start Trino 476 over the demo's tables, print its JDBC URL and "
                            + "CLI command, and keep running until Ctrl-C (needs the Trino distribution: "
                            + "./mvnw -Pdemo,trino compile -Ddemo.args=\"demo --trino\").")
    boolean trino;

    @Option(
            names = "--trino-home",
            paramLabel = "<dir>",
            description = "The unpacked Trino server (default: the one the build unpacked).")
    Path trinoHome;

    @Override
    public Integer call() throws Exception {
        require(
                source.equals("postgres") || source.equals(DemoSettings.MYSQL),
                "--source",
                source,
                "postgres or mysql");
        require(rate >= 1, "--rate", rate, "at least 1");
        require(customers >= 1, "--customers", customers, "at least 1");
        require(orders >= 1, "--orders", orders, "at least 1");
        require(parallelism >= 1, "--parallelism", parallelism, "at least 1");
        require(repeat >= 1, "--repeat", repeat, "at least 1");
        require(repeat == 1 || !trino, "--repeat", repeat, "1 with --trino");
        require(
                webUiPort >= 1 && webUiPort <= 65_000,
                "--web-ui-port",
                webUiPort,
                "from 1 to 65000");
        DemoSettings settings =
                new DemoSettings(
                        workDir,
                        duration,
                        rate,
                        customers,
                        orders,
                        parallelism,
                        checkpointInterval,
                        webUiPort,
                        webUiBindAddress,
                        settleTimeout,
                        DEFAULTS.progressInterval(),
                        seed,
                        trino ? trinoHome() : null,
                        source);
        if (repeat > 1 || contend) {
            return new DemoStress(settings, repeat, contend, System.out).run() ? 0 : 1;
        }
        DemoRunner.DemoResult result = new DemoRunner(settings, System.out).run();
        return result.clean() ? 0 : 1;
    }

    private Path trinoHome() {
        Path home = trinoHome;
        if (home == null) {
            String built = System.getProperty("tidemark.trino.home");
            home = built == null ? null : Path.of(built);
        }
        if (!io.tidemark.deploy.TrinoServer.isDistribution(home)) {
            throw new picocli.CommandLine.ParameterException(
                    new picocli.CommandLine(new DemoCommand()),
                    "Invalid value for option '--trino': no Trino distribution at "
                            + home
                            + "; fetch it with "
                            + "./mvnw -Pdemo,trino compile -Ddemo.args=\"demo --trino\" or pass --trino-home");
        }
        return home;
    }

    private static void require(boolean ok, String option, Object value, String expected) {
        if (!ok) {
            throw new picocli.CommandLine.ParameterException(
                    new picocli.CommandLine(new DemoCommand()),
                    "Invalid value for option '"
                            + option
                            + "': "
                            + value
                            + " (expected "
                            + expected
                            + ")");
        }
    }
}
