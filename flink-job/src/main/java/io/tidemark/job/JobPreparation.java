package io.tidemark.job;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.TableLayout;
import io.tidemark.catalog.TableManager;
import io.tidemark.catalog.TableSpec;
import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.ContractLoader;
import io.tidemark.catalog.contract.ContractTables;
import io.tidemark.commit.ConsistentPoints;
import io.tidemark.config.LatePolicy;
import io.tidemark.config.Ordering;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.sink.HistoryTable;
import io.tidemark.sink.LateTable;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.source.SourceDialect;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of a start, before any job runs: reads every captured table's schema from its
 * source over JDBC (publications, replica identity, keys, generated columns), loads the tables'
 * contracts, and makes sure each Iceberg table exists and fits.
 */
public final class JobPreparation {

    private static final Logger LOG = LoggerFactory.getLogger(JobPreparation.class);

    private JobPreparation() {}

    /**
     * Reads every captured table's schema from the source and makes sure its Iceberg table exists
     * and fits. Runs on the client.
     */
    public static List<ResolvedTable> prepare(PipelineConfig config) throws SQLException {
        config.requireResolvedTables();
        List<TableSpec> specs = readSources(config);
        Catalog catalog =
                Catalogs.load(
                        config.catalogName(), config.catalogProperties(), TidemarkJob.hadoopConf());
        try {
            TableManager tables = new TableManager(catalog);
            List<ResolvedTable> resolved = new ArrayList<>();
            for (int i = 0; i < specs.size(); i++) {
                resolved.add(
                        resolve(config, config.tables().get(i), specs.get(i), catalog, tables));
            }
            if (!resolved.isEmpty()) {
                tables.ensureAppendOnly(
                        QuarantineTable.unrouted(resolved.get(0).target()), QuarantineTable.SCHEMA);
            }
            if (config.points().enabled()) {
                ConsistentPoints.ensure(catalog, TableIdentifier.parse(config.points().table()));
            }
            return resolved;
        } finally {
            if (catalog instanceof Closeable) {
                try {
                    ((Closeable) catalog).close();
                } catch (IOException e) {
                    LOG.warn("Closing catalog {} failed", config.catalogName(), e);
                }
            }
        }
    }

    /**
     * From every source: the server checked, each table's schema read (the same in every source of
     * a table), then what the source must hold for its tables checked and made ({@link
     * SourceDialect}). One spec per table entry, in order.
     */
    private static List<TableSpec> readSources(PipelineConfig config) throws SQLException {
        List<TableSpec> specs = new ArrayList<>();
        Map<String, Connection> connections = new HashMap<>();
        Map<String, SourceDialect> dialects = new HashMap<>();
        try {
            for (SourceConfig source : config.sources()) {
                SourceDialect dialect = SourceDialect.of(source);
                Connection connection = dialect.connect();
                connections.put(source.id(), connection);
                dialects.put(source.id(), dialect);
                dialect.checkServer(connection);
            }
            for (TableConfig table : config.tables()) {
                TableSpec spec = null;
                String readFrom = null;
                for (String sourceId : table.sources()) {
                    TableSpec read =
                            dialects.get(sourceId).readSchema(connections.get(sourceId), table);
                    if (spec == null) {
                        spec = read;
                        readFrom = sourceId;
                    } else if (!read.columns().equals(spec.columns())
                            || !read.primaryKey().equals(spec.primaryKey())) {
                        throw new IllegalStateException(
                                String.format(
                                        "table '%s' differs between sources '%s' (%s) and '%s' (%s): every source "
                                                + "of a table must have the same columns, types and key",
                                        table.source(), readFrom, spec, sourceId, read));
                    }
                }
                specs.add(spec);
            }
            for (SourceConfig source : config.sources()) {
                List<String> tables = TidemarkJob.tablesOf(config, source.id());
                if (!tables.isEmpty()) {
                    dialects.get(source.id()).prepareCapture(connections.get(source.id()), tables);
                }
            }
        } finally {
            for (Connection connection : connections.values()) {
                connection.close();
            }
        }
        return specs;
    }

    /**
     * One table: its Iceberg table made to fit its contract (or its source schema), its quarantine
     * and late tables made where its policies write them, its key and ordering settled.
     */
    private static ResolvedTable resolve(
            PipelineConfig config,
            TableConfig tableConfig,
            TableSpec spec,
            Catalog catalog,
            TableManager tables) {
        Contract contract = null;
        Table table;
        List<String> primaryKey = spec.primaryKey();
        Ordering ordering = tableConfig.ordering();
        if (tableConfig.contract() != null) {
            contract = contract(config, tableConfig, catalog, spec.identifier());
            table = catalog.loadTable(spec.identifier());
            // the contract made or checked the table's columns; its layout is the file's
            tableConfig.layout().applyTo(table, contract.primaryKey());
            tables.ensureAppendOnly(QuarantineTable.of(spec.identifier()), QuarantineTable.SCHEMA);
            primaryKey = contract.primaryKey();
            Ordering contracted = Ordering.parse(contract.ordering());
            if (!contracted.byCommit()) {
                if (!ordering.byCommit() && !ordering.equals(contracted)) {
                    throw new IllegalStateException(
                            String.format(
                                    "table '%s': the pipeline file orders by '%s' but contract %s by '%s'; "
                                            + "remove 'ordering' from the pipeline file or make them agree",
                                    tableConfig.source(),
                                    ordering,
                                    contract.id(),
                                    contract.ordering()));
                }
                ordering = contracted;
            }
        } else {
            // a column added or widened in the source while the pipeline was stopped: the
            // running job's schema evolution applies it (evolve, lenient), or the gate
            // checks changes against the table as it is and holds the new shape back
            // (quarantine), or stops at it once (fail), as for a change made while running
            table = tables.ensure(spec, tableConfig.layout(), true);
            Optional<String> flipped = booleanFlip(spec, table);
            if (flipped.isPresent()) {
                throw new IllegalStateException(flipped.get());
            }
        }
        LatePolicy latePolicy = tableConfig.latePolicy();
        if (latePolicy == LatePolicy.QUARANTINE) {
            tables.ensureAppendOnly(LateTable.of(spec.identifier()), LateTable.SCHEMA);
        }
        if (tableConfig.history()) {
            // the target's columns as they are now; the history writer adds what the target
            // gains later
            tables.ensure(
                    HistoryTable.spec(spec.identifier(), table.schema(), primaryKey),
                    TableLayout.NONE,
                    true);
        }
        LOG.info(
                "Table {} -> {} key {} ordering {} late-policy {} contract {}",
                tableConfig.source(),
                spec.identifier(),
                primaryKey,
                ordering,
                tableConfig.latePolicy(),
                contract == null ? "none" : contract.id());
        return new ResolvedTable(
                tableConfig.source(),
                spec.identifier(),
                table.schema(),
                primaryKey,
                OrderingRule.of(ordering).withSources(tableConfig.sources()),
                latePolicy,
                contract);
    }

    /**
     * A source column that is a boolean where the existing table's is an int, or the reverse: a
     * MySQL {@code tinyint(1)} read under a {@code source.treat-tinyint1-as-boolean.enabled} other
     * than the table was made with (every change would be quarantined, its values fitting no
     * column). The refusal, naming the fix, if so.
     */
    static Optional<String> booleanFlip(TableSpec spec, Table table) {
        for (org.apache.iceberg.types.Types.NestedField column : spec.columns()) {
            org.apache.iceberg.types.Types.NestedField existing =
                    table.schema().findField(column.name());
            if (existing == null) {
                continue;
            }
            org.apache.iceberg.types.Type.TypeID read = column.type().typeId();
            org.apache.iceberg.types.Type.TypeID made = existing.type().typeId();
            boolean flipped =
                    read == org.apache.iceberg.types.Type.TypeID.BOOLEAN
                                    && made == org.apache.iceberg.types.Type.TypeID.INTEGER
                            || read == org.apache.iceberg.types.Type.TypeID.INTEGER
                                    && made == org.apache.iceberg.types.Type.TypeID.BOOLEAN;
            if (flipped) {
                return Optional.of(
                        String.format(
                                "table %s column '%s' is %s in Iceberg but the source's is %s (a"
                                        + " MySQL tinyint(1): source.treat-tinyint1-as-boolean"
                                        + ".enabled is not what it was when the table was made;"
                                        + " set it back to %s), or write the table to a new"
                                        + " target",
                                table.name(),
                                column.name(),
                                existing.type(),
                                column.type(),
                                made == org.apache.iceberg.types.Type.TypeID.BOOLEAN));
            }
        }
        return Optional.empty();
    }

    /**
     * Loads the table's active contract and makes the Iceberg table fit it: created from it when
     * missing; evolved when the table was made for an older version that the active one may
     * replace; checked against it when the table was made without a contract. Refused with every
     * reason otherwise.
     */
    static Contract contract(
            PipelineConfig config, TableConfig tableConfig, Catalog catalog, TableIdentifier id) {
        ContractLoader loader = new ContractLoader(Path.of(config.contractsDir()));
        try {
            Contract contract = loader.load(tableConfig.source(), tableConfig.contract());
            Optional<Contract> previous = Optional.empty();
            if (catalog.tableExists(id)) {
                Optional<Integer> recorded = ContractTables.version(catalog.loadTable(id));
                if (recorded.isPresent()) {
                    previous = Optional.of(loader.load(tableConfig.source(), recorded.get()));
                } else {
                    // made before contracts: it must already fit this one
                    new TableManager(catalog).ensure(contract.spec(id));
                }
            }
            new ContractTables(catalog).ensure(id, contract, previous);
            return contract;
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot read the contracts of "
                            + tableConfig.source()
                            + " in "
                            + config.contractsDir(),
                    e);
        }
    }
}
