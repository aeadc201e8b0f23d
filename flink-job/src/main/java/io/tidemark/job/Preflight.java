package io.tidemark.job;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.TableLayout;
import io.tidemark.catalog.TableManager;
import io.tidemark.catalog.TableSpec;
import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.ContractCompatibility;
import io.tidemark.catalog.contract.ContractLoader;
import io.tidemark.catalog.contract.ContractTables;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.source.SourceDialect;
import io.tidemark.source.TableDiscovery;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * The checks of a start without the start ({@code tidemark check}): every problem {@link
 * JobPreparation} would stop at, each with its fix, found without making or changing anything. Each
 * source is reached and its server checked (Postgres: {@code wal_level}, the user's right to
 * replicate, a free slot; MySQL: the binlog's format and images, the user's grants); the pipeline's
 * patterns are resolved; each table's schema and key read; what capture needs in the source tried
 * in a transaction that is rolled back (Postgres: replica identity, then the publication made or
 * extended as the start would, with the user's rights); the catalog loaded and each Iceberg table
 * that exists checked against its source or contract and layout; the contracts read.
 */
public final class Preflight {

    private Preflight() {}

    /** One thing checked: what, of what, and the problem with its fix where it failed. */
    public record Finding(String subject, String check, boolean ok, String detail) {}

    /** Every check of {@code file}'s start, in the order a start makes them. */
    public static List<Finding> check(PipelineConfig file) {
        List<Finding> findings = new ArrayList<>();
        Map<String, Connection> connections = new HashMap<>();
        try {
            for (SourceConfig source : file.sources()) {
                checkSource(source, connections, findings);
            }
            if (connections.size() < file.sources().size()) {
                return findings;
            }
            PipelineConfig config;
            try {
                config = TableDiscovery.resolve(file);
            } catch (SQLException | RuntimeException e) {
                findings.add(problem("pipeline", "tables", e.getMessage()));
                return findings;
            }
            Map<TableConfig, TableSpec> specs = readTables(config, connections, findings);
            for (SourceConfig source : config.sources()) {
                tryCapture(config, source, connections.get(source.id()), findings);
            }
            checkCatalog(config, specs, findings);
            return findings;
        } finally {
            for (Connection connection : connections.values()) {
                try {
                    connection.close();
                } catch (SQLException e) {
                    // checked: nothing to keep
                }
            }
        }
    }

    private static void checkSource(
            SourceConfig source, Map<String, Connection> connections, List<Finding> findings) {
        String subject = "source " + source.id();
        SourceDialect dialect = SourceDialect.of(source);
        Connection connection;
        try {
            connection = dialect.connect();
            findings.add(
                    ok(
                            subject,
                            "connection",
                            connection.getMetaData().getDatabaseProductName()
                                    + " "
                                    + connection.getMetaData().getDatabaseProductVersion()
                                    + " as "
                                    + source.username()));
        } catch (SQLException e) {
            findings.add(
                    problem(
                            subject,
                            "connection",
                            "cannot connect: "
                                    + e.getMessage()
                                    + " (check source.hostname, port, database, username and"
                                    + " password)"));
            return;
        }
        connections.put(source.id(), connection);
        try {
            List<String> problems = dialect.serverProblems(connection);
            if (problems.isEmpty()) {
                findings.add(ok(subject, "server", "ready for " + dialect.connectorName()));
            }
            for (String problem : problems) {
                findings.add(problem(subject, "server", problem));
            }
            dialect.slotProblem(connection)
                    .ifPresent(problem -> findings.add(problem(subject, "slot", problem)));
        } catch (SQLException e) {
            findings.add(problem(subject, "server", "cannot read its settings: " + e.getMessage()));
        }
    }

    /** Each table's schema and key from each of its sources (the same in all of them). */
    private static Map<TableConfig, TableSpec> readTables(
            PipelineConfig config, Map<String, Connection> connections, List<Finding> findings) {
        Map<TableConfig, TableSpec> specs = new HashMap<>();
        for (TableConfig table : config.tables()) {
            TableSpec spec = null;
            for (String sourceId : table.sources()) {
                SourceConfig source =
                        config.sources().stream()
                                .filter(s -> s.id().equals(sourceId))
                                .findFirst()
                                .orElseThrow();
                try {
                    TableSpec read =
                            SourceDialect.of(source).readSchema(connections.get(sourceId), table);
                    if (spec != null
                            && (!read.columns().equals(spec.columns())
                                    || !read.primaryKey().equals(spec.primaryKey()))) {
                        findings.add(
                                problem(
                                        "table " + table.source(),
                                        "schema",
                                        "differs between its sources: every source of a table"
                                                + " must have the same columns, types and key"));
                        spec = null;
                        break;
                    }
                    spec = read;
                } catch (SQLException | RuntimeException e) {
                    findings.add(problem("table " + table.source(), "schema", e.getMessage()));
                    spec = null;
                    break;
                }
            }
            if (spec != null) {
                specs.put(table, spec);
                findings.add(
                        ok(
                                "table " + table.source(),
                                "schema",
                                spec.columns().size()
                                        + " columns, key "
                                        + spec.primaryKey()
                                        + " -> "
                                        + spec.identifier()));
            }
        }
        return specs;
    }

    /**
     * What capture needs in the source, done as the start does it in a transaction that is rolled
     * back: the user's rights are tried, nothing is kept.
     */
    private static void tryCapture(
            PipelineConfig config,
            SourceConfig source,
            Connection connection,
            List<Finding> findings) {
        List<String> tables = TidemarkJob.tablesOf(config, source.id());
        if (tables.isEmpty()) {
            return;
        }
        String subject = "source " + source.id();
        try {
            connection.setAutoCommit(false);
            try {
                SourceDialect.of(source).prepareCapture(connection, tables);
                findings.add(
                        ok(
                                subject,
                                "capture",
                                "can capture "
                                        + tables.size()
                                        + " table(s) (what the start makes for them, such as a"
                                        + " publication, was tried and rolled back)"));
            } finally {
                connection.rollback();
                connection.setAutoCommit(true);
            }
        } catch (SQLException | RuntimeException e) {
            findings.add(problem(subject, "capture", e.getMessage()));
        }
    }

    private static void checkCatalog(
            PipelineConfig config, Map<TableConfig, TableSpec> specs, List<Finding> findings) {
        Catalog catalog;
        try {
            catalog =
                    Catalogs.load(
                            config.catalogName(),
                            config.catalogProperties(),
                            TidemarkJob.hadoopConf());
            findings.add(ok("catalog " + config.catalogName(), "connection", "loaded"));
        } catch (RuntimeException e) {
            findings.add(
                    problem(
                            "catalog " + config.catalogName(),
                            "connection",
                            e.getMessage() + " (check the catalog section of the pipeline file)"));
            return;
        }
        try {
            TableManager tables = new TableManager(catalog);
            for (TableConfig table : config.tables()) {
                TableSpec spec = specs.get(table);
                if (spec != null) {
                    checkTarget(config, table, spec, catalog, tables, findings);
                }
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                try {
                    closeable.close();
                } catch (IOException e) {
                    // checked: nothing to keep
                }
            }
        }
    }

    private static void checkTarget(
            PipelineConfig config,
            TableConfig table,
            TableSpec spec,
            Catalog catalog,
            TableManager tables,
            List<Finding> findings) {
        String subject = "table " + spec.identifier();
        try {
            Optional<String> problem;
            if (table.contract() != null) {
                problem = contractProblem(config, table, spec.identifier(), catalog, tables);
            } else {
                problem = tables.check(spec, table.layout(), true);
                if (problem.isEmpty() && catalog.tableExists(spec.identifier())) {
                    problem =
                            JobPreparation.booleanFlip(spec, catalog.loadTable(spec.identifier()));
                }
            }
            if (problem.isPresent()) {
                findings.add(problem(subject, "target", problem.get()));
            } else {
                findings.add(
                        ok(
                                subject,
                                "target",
                                catalog.tableExists(spec.identifier())
                                        ? "exists and fits"
                                        : "will be made"));
            }
        } catch (IOException | RuntimeException e) {
            findings.add(problem(subject, "target", e.getMessage()));
        }
    }

    /** What keeps the table's active contract from governing its Iceberg table, if anything. */
    private static Optional<String> contractProblem(
            PipelineConfig config,
            TableConfig table,
            TableIdentifier id,
            Catalog catalog,
            TableManager tables)
            throws IOException {
        ContractLoader loader = new ContractLoader(Path.of(config.contractsDir()));
        Contract contract = loader.load(table.source(), table.contract());
        if (!catalog.tableExists(id)) {
            return Optional.empty();
        }
        Table existing = catalog.loadTable(id);
        Optional<Integer> recorded = ContractTables.version(existing);
        if (recorded.isEmpty()) {
            return tables.check(contract.spec(id), TableLayout.NONE, false);
        }
        if (recorded.get().equals(contract.version())) {
            return Optional.empty();
        }
        List<String> problems =
                ContractCompatibility.problems(
                        loader.load(table.source(), recorded.get()), contract);
        return problems.isEmpty()
                ? Optional.empty()
                : Optional.of(
                        "contract version "
                                + contract.version()
                                + " may not replace version "
                                + recorded.get()
                                + " the table was made for: "
                                + String.join("; ", problems));
    }

    private static Finding ok(String subject, String check, String detail) {
        return new Finding(subject, check, true, detail);
    }

    private static Finding problem(String subject, String check, String detail) {
        return new Finding(subject, check, false, detail);
    }
}
