package io.tidemark.cli;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.source.TableDiscovery;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark verify --config pipeline.yaml}: the ground-truth diff of every table of the
 * pipeline against its source database (missing, extra, duplicate and stale rows by primary key).
 * With {@code --wait}, differences are re-checked until they are gone or the time is up: on a live
 * source, changes not yet committed show as missing or stale for about a checkpoint interval.
 *
 * <p>Reads both sides in full: run it where that load is acceptable (a replica, a quiet hour).
 */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = {
            "Diff the pipeline's Iceberg tables against the source database by primary key.",
            "Exit code 0: every table equals its source; 1: a difference remained; 2: bad usage."
        })
final class VerifyCommand implements Callable<Integer> {

    static final int EXIT_DIFFERENT = 1;

    /** A table could not be compared (the source or the table could not be read): not a diff. */
    static final int EXIT_NOT_COMPARED = 3;

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
                    "Re-check a differing table every 2 s for up to this long (e.g. 60s; default: ${DEFAULT-VALUE}).")
    Duration wait;

    @Override
    public Integer call() throws Exception {
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
        Catalogs.registerJdbcDrivers();
        Map<String, Connection> connections = new HashMap<>();
        Catalog catalog = Tidemark.catalog(pipeline);
        boolean clean = true;
        boolean compared = true;
        try {
            for (SourceConfig source : pipeline.sources()) {
                Properties credentials = new Properties();
                credentials.setProperty("user", source.username());
                credentials.setProperty("password", source.password());
                connections.put(
                        source.id(), DriverManager.getConnection(source.jdbcUrl(), credentials));
            }
            for (TableConfig tableConfig : tables) {
                if (tableConfig.sources().size() != 1) {
                    // the table is a merge of several databases: no single source is its truth
                    System.out.printf(
                            "%s -> %s: skipped, merged from sources %s (compare each source's rows"
                                    + " with the merge rule yourself)%n",
                            tableConfig.source(), tableConfig.target(), tableConfig.sources());
                    continue;
                }
                DiffReport report;
                try {
                    report =
                            diffUntilClean(
                                    connections.get(tableConfig.sources().get(0)),
                                    tableConfig,
                                    catalog);
                } catch (java.sql.SQLException | RuntimeException e) {
                    // say which table, and go on with the others: an unreadable table is not a
                    // difference, and must not look like one (exit code 3, not 1)
                    System.out.printf(
                            "NOT COMPARED %s -> %s: %s%n",
                            tableConfig.source(), tableConfig.target(), e);
                    compared = false;
                    continue;
                }
                System.out.println((report.isClean() ? "EQUAL " : "DIFFERENT ") + report);
                clean &= report.isClean();
            }
        } finally {
            for (Connection connection : connections.values()) {
                connection.close();
            }
            Tidemark.close(catalog);
        }
        return !compared ? EXIT_NOT_COMPARED : clean ? 0 : EXIT_DIFFERENT;
    }

    private DiffReport diffUntilClean(Connection source, TableConfig tableConfig, Catalog catalog)
            throws Exception {
        long deadline = System.nanoTime() + wait.toNanos();
        TableIdentifier target = TableIdentifier.parse(tableConfig.target());
        while (true) {
            DiffReport report =
                    GroundTruthDiff.diff(source, tableConfig.source(), catalog.loadTable(target));
            if (report.isClean() || System.nanoTime() >= deadline) {
                return report;
            }
            Thread.sleep(2_000);
        }
    }
}
