package io.tidemark.cli;

import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.catalog.verify.KeyFingerprints;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.source.SourceDialect;
import io.tidemark.source.TableDiscovery;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark verify --config pipeline.yaml}: the ground-truth diff of every table of the
 * pipeline against its source database (missing, extra, duplicate and stale rows by primary key).
 * With {@code --wait}, the key buckets that differed are compared again until they are equal or the
 * time is up: on a live source, changes not yet committed show as missing or stale for about a
 * checkpoint interval.
 *
 * <p>Streams both sides twice (a checksum per key bucket, then the differing buckets row by row;
 * see {@link GroundTruthDiff}), in memory proportional to the differences, not to the tables; each
 * re-check streams both sides again for the differing buckets. Run it where that read load is
 * acceptable (a replica, a quiet hour).
 */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = {
            "Diff the pipeline's Iceberg tables against the source database by primary key.",
            "Exit code 0: every table equals its source; 1: a difference remained; 2: bad usage;"
                    + " 3: a table could not be compared (an error)."
        })
final class VerifyCommand implements Callable<Integer> {

    static final int EXIT_DIFFERENT = 1;

    /** A table could not be compared (the source or the table could not be read): not a diff. */
    static final int EXIT_NOT_COMPARED = Tidemark.EXIT_ERROR;

    @Option(
            names = {"-c", "--config"},
            required = true,
            paramLabel = "<pipeline.yaml>",
            description = "The pipeline file whose sources, catalog and tables to compare.")
    Path config;

    @Option(
            names = {"-t", "--table"},
            paramLabel = "<namespace.table>",
            description = "Only this target table (default: every table of the pipeline).")
    String table;

    @Option(
            names = {"-w", "--wait"},
            paramLabel = "<duration>",
            defaultValue = "0s",
            converter = DurationConverter.class,
            description =
                    "Re-check a differing table's differing key buckets every 2 s for up to this long"
                            + " (e.g. 60s; default: ${DEFAULT-VALUE}).")
    Duration wait;

    @Option(
            names = {"-r", "--repair"},
            description =
                    "Ask the running pipeline to re-read the key buckets that differ (a re-snapshot"
                            + " limited to them, see `tidemark resnapshot`), then compare them again.")
    boolean repair;

    @Option(
            names = {"--repair-wait"},
            paramLabel = "<duration>",
            defaultValue = "10m",
            converter = DurationConverter.class,
            description =
                    "How long --repair waits for the pipeline to re-read and commit (default: ${DEFAULT-VALUE}).")
    Duration repairWait;

    @Option(
            names = "--output",
            paramLabel = "<text|json>",
            defaultValue = "text",
            description =
                    "text (default), or json: one document on stdout with each table's outcome and"
                            + " counts (the text goes to stderr).")
    OutputFormat output;

    /** The human-readable lines: stdout, or stderr beside a JSON document. */
    private java.io.PrintStream out;

    /** Each table's outcome, for {@code --output json}. */
    private final List<Map<String, Object>> outcomes = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        out = output.lines();
        int exit = verify();
        Map<String, Object> document = new java.util.LinkedHashMap<>();
        document.put("command", "verify");
        document.put("exitCode", exit);
        document.put("tables", outcomes);
        output.document(document);
        return exit;
    }

    private int verify() throws Exception {
        PipelineConfig loaded = Tidemark.loadPipeline(config, "verify");
        if (loaded == null) {
            return Tidemark.EXIT_USAGE;
        }
        PipelineConfig pipeline = TableDiscovery.resolve(loaded);
        List<TableConfig> tables = new ArrayList<>();
        for (TableConfig tableConfig : pipeline.tables()) {
            if (table == null || table.equals(tableConfig.target())) {
                tables.add(tableConfig);
            }
        }
        if (tables.isEmpty()) {
            List<String> targets = new ArrayList<>();
            pipeline.tables().forEach(t -> targets.add(t.target()));
            System.err.printf(
                    "tidemark verify: --table '%s' is not a target of %s; targets: %s%n",
                    table, config, targets);
            return Tidemark.EXIT_USAGE;
        }
        Map<String, Connection> connections = new HashMap<>();
        Catalog catalog = Tidemark.catalog(pipeline);
        boolean clean = true;
        boolean compared = true;
        try {
            for (SourceConfig source : pipeline.sources()) {
                connections.put(source.id(), SourceDialect.of(source).connect());
            }
            for (TableConfig tableConfig : tables) {
                String outcome = verify(pipeline, tableConfig, connections, catalog);
                compared &= !outcome.equals("NOT_COMPARED");
                clean &= !outcome.equals("DIFFERENT");
            }
        } finally {
            for (Connection connection : connections.values()) {
                connection.close();
            }
            Tidemark.close(catalog);
        }
        return !compared ? EXIT_NOT_COMPARED : clean ? 0 : EXIT_DIFFERENT;
    }

    /**
     * Compares one table (and repairs it with {@code --repair}); its outcome: {@code EQUAL}, {@code
     * REPAIRED}, {@code DIFFERENT}, {@code NOT_COMPARED} or {@code SKIPPED}.
     */
    private String verify(
            PipelineConfig pipeline,
            TableConfig tableConfig,
            Map<String, Connection> connections,
            Catalog catalog)
            throws Exception {
        if (tableConfig.sources().size() != 1) {
            // the table is a merge of several databases: no single source is its truth
            out.printf(
                    "%s -> %s: skipped, merged from sources %s (compare each source's rows"
                            + " with the merge rule yourself; `tidemark resnapshot` reads it again"
                            + " from all of them)%n",
                    tableConfig.source(), tableConfig.target(), tableConfig.sources());
            outcome(tableConfig, "SKIPPED", null)
                    .put("reason", "merged from sources " + tableConfig.sources());
            return "SKIPPED";
        }
        Connection source = connections.get(tableConfig.sources().get(0));
        DiffReport report;
        try {
            report = diffUntilClean(source, tableConfig, catalog);
        } catch (java.sql.SQLException | RuntimeException e) {
            // say which table, and go on with the others: an unreadable table is not a
            // difference, and must not look like one (exit code 3, not 1)
            out.printf(
                    "NOT COMPARED %s -> %s: %s%n", tableConfig.source(), tableConfig.target(), e);
            outcome(tableConfig, "NOT_COMPARED", null).put("error", e.toString());
            return "NOT_COMPARED";
        }
        out.println((report.isClean() ? "EQUAL " : "DIFFERENT ") + report);
        out.println("  " + report.scope());
        boolean differed = !report.isClean();
        if (differed && repair) {
            report = repair(tableConfig, source, catalog, report);
        }
        String outcome = report.isClean() ? (differed ? "REPAIRED" : "EQUAL") : "DIFFERENT";
        outcome(tableConfig, outcome, report);
        return outcome;
    }

    /**
     * Asks the running pipeline to re-read the keys that differ (when at most {@link
     * GroundTruthDiff#MAX_KEYS} do: the source reads just the key ranges that hold them), else the
     * buckets that differ (the whole table when more than a quarter of them do), waits for it, and
     * compares those buckets again until they are equal or {@link #repairWait} is up. Returns the
     * last comparison.
     */
    private DiffReport repair(
            TableConfig tableConfig, Connection source, Catalog catalog, DiffReport report)
            throws Exception {
        long deadline = System.nanoTime() + repairWait.toNanos();
        Table target = catalog.loadTable(TableIdentifier.parse(tableConfig.target()));
        KeyFingerprints keys = report.differingKeys();
        List<Integer> buckets =
                !keys.isEmpty() || report.differingBuckets().size() > GroundTruthDiff.BUCKETS / 4
                        ? List.of()
                        : report.differingBuckets();
        long request = ResnapshotRequests.request(target, buckets, keys);
        out.printf(
                "REPAIR %s: requested re-snapshot %d of %s%n",
                tableConfig.target(),
                request,
                !keys.isEmpty()
                        ? "the " + keys.size() + " differing keys"
                        : buckets.isEmpty()
                                ? "the whole table"
                                : "the keys in " + buckets.size() + " buckets");
        String outcome = ResnapshotCommand.awaitOutcome(target, request, repairWait);
        if (outcome == null || !outcome.startsWith(request + " done")) {
            out.printf(
                    "NOT REPAIRED %s: %s%n",
                    tableConfig.target(),
                    outcome == null
                            ? "the pipeline recorded no outcome within "
                                    + repairWait
                                    + ": is it running?"
                            : outcome);
            return report;
        }
        out.printf("  %s%n", outcome);
        DiffReport again =
                recheckUntilEqual(
                        source,
                        tableConfig.source(),
                        target,
                        GroundTruthDiff.recheck(source, tableConfig.source(), target, report),
                        deadline);
        out.println((again.isClean() ? "REPAIRED " : "DIFFERENT ") + again);
        out.println("  " + again.scope());
        return again;
    }

    private DiffReport diffUntilClean(Connection source, TableConfig tableConfig, Catalog catalog)
            throws Exception {
        long deadline = System.nanoTime() + wait.toNanos();
        Table target = catalog.loadTable(TableIdentifier.parse(tableConfig.target()));
        return recheckUntilEqual(
                source,
                tableConfig.source(),
                target,
                GroundTruthDiff.diff(source, tableConfig.source(), target),
                deadline);
    }

    /**
     * Compares the buckets that differ in {@code report} again every 2 s until they are equal or
     * {@code deadline} ({@link System#nanoTime}) has passed; returns the last comparison.
     */
    private static DiffReport recheckUntilEqual(
            Connection source, String sourceTable, Table target, DiffReport report, long deadline)
            throws Exception {
        while (!report.isClean() && System.nanoTime() < deadline) {
            // a pause for the pipeline to commit, not a wait for a condition: each round re-reads
            Thread.sleep(2_000);
            report = GroundTruthDiff.recheck(source, sourceTable, target, report);
        }
        return report;
    }

    /** Records the outcome of one table for {@code --output json}; its entry, to add to. */
    private Map<String, Object> outcome(TableConfig table, String outcome, DiffReport report) {
        Map<String, Object> entry = new java.util.LinkedHashMap<>();
        entry.put("source", table.source());
        entry.put("target", table.target());
        entry.put("outcome", outcome);
        if (report != null) {
            entry.put("sourceRows", report.sourceRows());
            entry.put("tableRows", report.tableRows());
            entry.put("missing", report.missing());
            entry.put("extra", report.extra());
            entry.put("duplicate", report.duplicate());
            entry.put("stale", report.stale());
            entry.put("examples", report.examples());
            entry.put("differingBuckets", report.differingBuckets().size());
            entry.put("sourceAt", report.sourceAt());
            entry.put("tableAt", report.tableAt());
        }
        outcomes.add(entry);
        return entry;
    }
}
