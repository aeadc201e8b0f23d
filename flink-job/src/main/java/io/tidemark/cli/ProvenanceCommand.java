package io.tidemark.cli;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.sink.HistoryTable;
import io.tidemark.sink.LateTable;
import io.tidemark.sink.QuarantineTable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark provenance --config pipeline.yaml}: prints the last commits of the pipeline's
 * tables with their provenance (run, checkpoint, source positions, valid-through, counts, code
 * version), read from the tables' own snapshot summaries through the pipeline's catalog.
 */
@Command(
        name = "provenance",
        mixinStandardHelpOptions = true,
        description = "Print the provenance of the last commits of the pipeline's Iceberg tables.")
final class ProvenanceCommand implements Callable<Integer> {

    @Option(
            names = {"-c", "--config"},
            required = true,
            paramLabel = "<pipeline.yaml>",
            description = "The pipeline file whose catalog and tables to read.")
    Path config;

    @Option(
            names = {"-t", "--table"},
            paramLabel = "<namespace.table>",
            description = "Only this target table (default: every table of the pipeline).")
    String table;

    @Option(
            names = {"-n", "--last"},
            paramLabel = "<N>",
            defaultValue = "5",
            description = "How many commits per table, newest first (default: ${DEFAULT-VALUE}).")
    int last;

    @Option(
            names = "--output",
            paramLabel = "<text|json>",
            defaultValue = "text",
            description =
                    "text (default), or json: one document on stdout, each table's commits with"
                            + " their snapshot id, time and every tidemark.* summary key.")
    OutputFormat output;

    @Override
    public Integer call() throws Exception {
        PipelineConfig pipeline = Tidemark.loadPipeline(config, "provenance");
        if (pipeline == null) {
            return Tidemark.EXIT_USAGE;
        }
        if (last < 1) {
            System.err.println("tidemark provenance: --last must be at least 1, got " + last);
            return Tidemark.EXIT_USAGE;
        }
        Catalog catalog = Tidemark.catalog(pipeline);
        try {
            List<String> tables = targets(pipeline, catalog);
            if (table != null) {
                if (!tables.contains(table)) {
                    System.err.printf(
                            "tidemark provenance: --table '%s' is not a target of %s; targets: %s%n",
                            table, config, tables);
                    return Tidemark.EXIT_USAGE;
                }
                tables = List.of(table);
            }
            Map<String, Object> document = new LinkedHashMap<>();
            for (String name : tables) {
                List<Provenance.Commit> commits =
                        Provenance.lastCommits(
                                catalog.loadTable(TableIdentifier.parse(name)), last);
                Provenance.print(name, commits, output.lines());
                List<Map<String, Object>> listed = new ArrayList<>();
                for (Provenance.Commit commit : commits) {
                    Map<String, Object> entry = new LinkedHashMap<>();
                    entry.put("snapshotId", commit.snapshotId());
                    entry.put("committedAt", commit.committedAt().toString());
                    commit.summary().entrySet().stream()
                            .filter(e -> e.getKey().startsWith("tidemark."))
                            .sorted(Map.Entry.comparingByKey())
                            .forEach(e -> entry.put(e.getKey(), e.getValue()));
                    listed.add(entry);
                }
                document.put(name, listed);
            }
            output.document(Map.of("command", "provenance", "tables", document));
        } finally {
            Tidemark.close(catalog);
        }
        return 0;
    }

    /**
     * The pipeline's target tables: those listed, and those of its patterns found in the catalog
     * (the source is not asked: provenance needs only the catalog), without the quarantine and late
     * tables beside them.
     */
    static List<String> targets(PipelineConfig pipeline, Catalog catalog) {
        List<String> tables = new ArrayList<>();
        Set<String> listed = new HashSet<>();
        for (TableConfig tableConfig : pipeline.tables()) {
            if (!tableConfig.isPattern()) {
                tables.add(tableConfig.target());
                listed.add(tableConfig.source());
            }
        }
        for (TableConfig pattern : pipeline.tables()) {
            if (!pattern.isPattern()) {
                continue;
            }
            Namespace namespace = TableIdentifier.parse(pattern.target()).namespace();
            List<TableIdentifier> inNamespace;
            try {
                inNamespace = catalog.listTables(namespace);
            } catch (NoSuchNamespaceException e) {
                continue; // nothing committed yet
            }
            List<String> found = new ArrayList<>();
            for (TableIdentifier id : inNamespace) {
                String name = id.toString();
                String source = pattern.sourceOfTarget(name);
                if (source != null
                        && !listed.contains(source)
                        && !tables.contains(name)
                        && !id.name().endsWith(QuarantineTable.SUFFIX)
                        && !id.name().endsWith(LateTable.SUFFIX)
                        && !id.name().endsWith(HistoryTable.SUFFIX)) {
                    found.add(name);
                }
            }
            Collections.sort(found);
            tables.addAll(found);
        }
        return tables;
    }
}
