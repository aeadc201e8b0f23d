package io.tidemark.demo;

import io.tidemark.catalog.verify.DiffReport;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * {@code demo --repeat N [--contend]}: the demo N times in a row, each from a fresh work directory
 * with the next workload seed, optionally while a busy thread spins on every core but one (as other
 * processes do on a shared laptop or CI runner). Prints each run's diff and a closing tally; the
 * stress test of the snapshot-to-log hand-over (issue 17), never part of the test suite.
 */
public final class DemoStress {

    private final DemoSettings settings;
    private final int runs;
    private final boolean contend;
    private final PrintStream out;

    public DemoStress(DemoSettings settings, int runs, boolean contend, PrintStream out) {
        this.settings = settings;
        this.runs = runs;
        this.contend = contend;
        this.out = out;
    }

    /** Runs them all; true when every run was clean. */
    public boolean run() throws Exception {
        AtomicBoolean spinning = new AtomicBoolean(contend);
        List<Thread> busy = new ArrayList<>();
        int busyThreads = contend ? Math.max(1, Runtime.getRuntime().availableProcessors() - 1) : 0;
        for (int i = 0; i < busyThreads; i++) {
            Thread t = new Thread(() -> spin(spinning), "tidemark-stress-busy-" + i);
            t.setDaemon(true);
            t.start();
            busy.add(t);
        }
        List<String> lines = new ArrayList<>();
        int failed = 0;
        try {
            for (int run = 1; run <= runs; run++) {
                long seed = settings.seed() + run - 1;
                DemoSettings each =
                        new DemoSettings(
                                settings.workDir(),
                                settings.duration(),
                                settings.rate(),
                                settings.customers(),
                                settings.orders(),
                                settings.parallelism(),
                                settings.checkpointInterval(),
                                settings.webUiPort(),
                                settings.webUiBindAddress(),
                                settings.settleTimeout(),
                                settings.progressInterval(),
                                seed,
                                null,
                                settings.source());
                out.printf(
                        "%n=== stress run %d of %d (seed %d, %d busy threads) ===%n",
                        run, runs, seed, busyThreads);
                Instant started = Instant.now();
                String outcome;
                boolean clean;
                try {
                    DemoRunner.DemoResult result = new DemoRunner(each, out).run();
                    clean = result.clean();
                    outcome = describe(result);
                } catch (Exception e) {
                    clean = false;
                    outcome = "ERROR " + e;
                }
                if (!clean) {
                    failed++;
                }
                String line =
                        String.format(
                                "run %2d seed %d %s in %ds: %s",
                                run,
                                seed,
                                clean ? "CLEAN" : "FAILED",
                                Duration.between(started, Instant.now()).toSeconds(),
                                outcome);
                lines.add(line);
                out.println("stress: " + line);
            }
        } finally {
            spinning.set(false);
            for (Thread t : busy) {
                t.join();
            }
        }
        out.printf("%nStress runs (%d busy threads while each ran)%n", busyThreads);
        lines.forEach(out::println);
        out.printf("stress: %d passed, %d failed%n", runs - failed, failed);
        return failed == 0;
    }

    private static String describe(DemoRunner.DemoResult result) {
        String tables =
                result.reports().stream()
                        .map(DemoStress::describe)
                        .collect(Collectors.joining("; "));
        return String.format(
                "%s; quarantined %d; column added %s",
                tables,
                result.quarantined().values().stream().mapToLong(l -> l).sum(),
                result.evolved() ? "yes" : "no");
    }

    private static String describe(DiffReport report) {
        return String.format(
                "%s %d/%d rows missing %d extra %d duplicate %d stale %d%s",
                report.icebergTable(),
                report.tableRows(),
                report.sourceRows(),
                report.missing(),
                report.extra(),
                report.duplicate(),
                report.stale(),
                report.examples().isEmpty() ? "" : " " + report.examples());
    }

    /** Keeps one core busy until told to stop. */
    private static void spin(AtomicBoolean spinning) {
        long x = 0;
        while (spinning.get()) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        if (x == 42) {
            System.out.print("");
        }
    }
}
