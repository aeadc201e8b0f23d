package io.tidemark.cli;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.source.TableDiscovery;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark resnapshot --config pipeline.yaml --table ns.table}: asks the running pipeline to
 * read one table again from its source while the other tables go on, through a property of the
 * table ({@link ResnapshotRequests}); with {@code --wait}, waits until the pipeline recorded the
 * outcome (once the re-read rows are in a completed checkpoint).
 */
@Command(
        name = "resnapshot",
        mixinStandardHelpOptions = true,
        description = {
            "Ask the running pipeline to re-read one table from its source, online.",
            "Exit code 0: requested (or, with --wait, done); 1: failed or refused; 2: bad usage;"
                    + " 3: --wait ran out before the pipeline recorded the outcome."
        })
final class ResnapshotCommand implements Callable<Integer> {

    @Option(
            names = {"-c", "--config"},
            required = true,
            paramLabel = "<pipeline.yaml>",
            description = "The pipeline file of the running pipeline.")
    Path config;

    @Option(
            names = {"-t", "--table"},
            required = true,
            paramLabel = "<namespace.table>",
            description = "The target table to re-read.")
    String table;

    @Option(
            names = {"-w", "--wait"},
            paramLabel = "<duration>",
            defaultValue = "0s",
            converter = DurationConverter.class,
            description =
                    "Wait up to this long for the outcome (e.g. 10m; default: ${DEFAULT-VALUE}, do not wait).")
    Duration wait;

    @Override
    public Integer call() throws Exception {
        PipelineConfig loaded = Tidemark.loadPipeline(config, "resnapshot");
        if (loaded == null) {
            return Tidemark.EXIT_USAGE;
        }
        PipelineConfig pipeline = TableDiscovery.resolve(loaded);
        TableConfig entry = null;
        List<String> targets = new ArrayList<>();
        for (TableConfig candidate : pipeline.tables()) {
            targets.add(candidate.target());
            if (candidate.target().equals(table)) {
                entry = candidate;
            }
        }
        if (entry == null) {
            System.err.printf(
                    "tidemark resnapshot: --table '%s' is not a target of %s; targets: %s%n",
                    table, config, targets);
            return Tidemark.EXIT_USAGE;
        }
        Catalog catalog = Tidemark.catalog(pipeline);
        try {
            Table target = catalog.loadTable(TableIdentifier.parse(table));
            long request = ResnapshotRequests.request(target);
            System.out.printf(
                    "tidemark resnapshot: requested re-snapshot %d of %s; the running pipeline starts it"
                            + " within seconds and records the outcome in the table property %s%n",
                    request, table, ResnapshotRequests.COMPLETED);
            if (wait.isZero()) {
                return 0;
            }
            String outcome = awaitOutcome(target, request, wait);
            if (outcome != null) {
                System.out.println("tidemark resnapshot: " + outcome);
                return outcome.startsWith(request + " done") ? 0 : 1;
            }
            System.err.printf(
                    "tidemark resnapshot: no outcome of re-snapshot %d within %s: is the pipeline"
                            + " running? (it picks the request up when it runs)%n",
                    request, wait);
            return 3;
        } finally {
            Tidemark.close(catalog);
        }
    }

    /**
     * The outcome the pipeline recorded for {@code request} on {@code target}, read every second
     * for up to {@code wait}; null if none came.
     */
    static String awaitOutcome(Table target, long request, Duration wait)
            throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (System.nanoTime() < deadline) {
            target.refresh();
            if (ResnapshotRequests.completed(target) >= request) {
                return target.properties().get(ResnapshotRequests.COMPLETED);
            }
            // a pause between reads of the table's metadata, not a wait for a condition
            Thread.sleep(1_000);
        }
        return null;
    }
}
