package io.tidemark.cli;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.sink.QuarantineTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark quarantine --config pipeline.yaml}: counts the quarantined changes of every table
 * with a contract, by reason, and lists the newest. Payloads are printed only with {@code
 * --show-payload}: they are the source's data. {@code tidemark quarantine replay} ({@link
 * QuarantineReplayCommand}) brings them in once a contract is fixed.
 */
@Command(
        name = "quarantine",
        mixinStandardHelpOptions = true,
        subcommands = QuarantineReplayCommand.class,
        description = {
            "Count and list the changes quarantined for breaking their table's contract.",
            "'quarantine replay' brings them in once the contract is fixed."
        })
final class QuarantineCommand implements Callable<Integer> {

    @Option(
            names = {"-c", "--config"},
            paramLabel = "<pipeline.yaml>",
            description = "The pipeline file whose quarantine tables to read (required).")
    Path config;

    @Option(
            names = {"-t", "--table"},
            paramLabel = "<namespace.table>",
            description = "Only this target table (default: every table with a contract).")
    String table;

    @Option(
            names = {"-n", "--list"},
            paramLabel = "<N>",
            defaultValue = "0",
            description = "Also list the N newest quarantined changes per table.")
    int list;

    @Option(
            names = "--show-payload",
            description = "Print the quarantined changes' row images (the source's data) too.")
    boolean showPayload;

    @Option(
            names = "--output",
            paramLabel = "<text|json>",
            defaultValue = "text",
            description =
                    "text (default), or json: one document on stdout, each quarantine table's"
                            + " counts by reason and contract and its newest rows.")
    OutputFormat output;

    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    /** The lines: stdout, or stderr beside a JSON document. */
    private java.io.PrintStream out;

    @Override
    public Integer call() throws Exception {
        out = output.lines();
        if (config == null) {
            // not required by picocli, which would then ask for it before 'replay' too
            throw new picocli.CommandLine.ParameterException(
                    spec.commandLine(), "Missing required option: '--config=<pipeline.yaml>'");
        }
        PipelineConfig pipeline = Tidemark.loadPipeline(config, "quarantine");
        if (pipeline == null) {
            return Tidemark.EXIT_USAGE;
        }
        List<TableIdentifier> tables = new ArrayList<>();
        for (TableConfig tableConfig : pipeline.tables()) {
            if (tableConfig.contract() != null
                    && (table == null || table.equals(tableConfig.target()))) {
                tables.add(QuarantineTable.of(TableIdentifier.parse(tableConfig.target())));
            }
        }
        // undecodable changes of tables without a contract, changes of tables not captured
        TableIdentifier unrouted =
                QuarantineTable.unrouted(TableIdentifier.parse(pipeline.tables().get(0).target()));
        if (table == null || table.equals(unrouted.toString())) {
            tables.add(unrouted);
        }
        if (tables.isEmpty()) {
            System.err.printf(
                    "tidemark quarantine: %s has no table with a contract named '%s' (nor is it %s)%n",
                    config, table, unrouted);
            return Tidemark.EXIT_USAGE;
        }
        Catalog catalog = Tidemark.catalog(pipeline);
        try {
            Map<String, Object> document = new java.util.LinkedHashMap<>();
            for (TableIdentifier id : tables) {
                if (!catalog.tableExists(id)) {
                    out.printf("%s: no quarantine table yet%n", id);
                    continue;
                }
                document.put(id.toString(), print(catalog.loadTable(id), id));
            }
            output.document(Map.of("command", "quarantine", "tables", document));
        } finally {
            Tidemark.close(catalog);
        }
        return 0;
    }

    /** Prints what {@code quarantine} holds; the same for {@code --output json}. */
    private Map<String, Object> print(Table quarantine, TableIdentifier id) throws Exception {
        Map<String, Long> byReason = new TreeMap<>();
        Map<String, Long> byContract = new TreeMap<>();
        Comparator<Record> byDetection =
                Comparator.comparing((Record r) -> r.getField("detected_at").toString());
        // the newest `list` rows: a heap whose head is the oldest kept
        PriorityQueue<Record> newest = new PriorityQueue<>(byDetection);
        long total = 0;
        long replayed = 0;
        // quarantine tables of releases before the replay have no replay columns
        boolean marked = quarantine.schema().findField(QuarantineTable.REPLAYED_BY) != null;
        if (quarantine.currentSnapshot() != null) {
            try (CloseableIterable<Record> rows = IcebergGenerics.read(quarantine).build()) {
                for (Record row : rows) {
                    total++;
                    if (marked && row.getField(QuarantineTable.REPLAYED_BY) != null) {
                        replayed++;
                    }
                    byContract.merge(String.valueOf(row.getField("contract")), 1L, Long::sum);
                    for (String reason : String.valueOf(row.getField("reasons")).split(",")) {
                        byReason.merge(reason, 1L, Long::sum);
                    }
                    if (list > 0) {
                        newest.add(row.copy());
                        if (newest.size() > list) {
                            newest.poll();
                        }
                    }
                }
            }
        }
        out.printf(
                "%s: %d quarantined change(s) %s, %d of them replayed%n",
                id, total, byContract, replayed);
        byReason.forEach((reason, count) -> out.printf("  %-18s %d%n", reason, count));
        List<Record> shown = new ArrayList<>(newest);
        shown.sort(byDetection.reversed());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Record row : shown) {
            out.printf(
                    "  %s %s key %s [%s] %s (run %s)%n",
                    row.getField("detected_at"),
                    row.getField("operation"),
                    row.getField("key"),
                    row.getField("reasons"),
                    row.getField("details"),
                    row.getField("run_id"));
            Map<String, Object> entry = new java.util.LinkedHashMap<>();
            for (String field :
                    List.of("detected_at", "operation", "key", "reasons", "details", "run_id")) {
                entry.put(field, String.valueOf(row.getField(field)));
            }
            if (showPayload) {
                out.printf("    payload %s%n", row.getField("payload"));
                entry.put("payload", String.valueOf(row.getField("payload")));
            }
            rows.add(entry);
        }
        Map<String, Object> summary = new java.util.LinkedHashMap<>();
        summary.put("total", total);
        summary.put("replayed", replayed);
        summary.put("byContract", byContract);
        summary.put("byReason", byReason);
        summary.put("newest", rows);
        return summary;
    }
}
