package io.tidemark.catalog.contract;

import io.tidemark.catalog.TableManager;
import io.tidemark.catalog.contract.Contract.Column;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Iceberg tables from contracts: creates a missing table from its contract, and moves an existing
 * table to a new contract version when {@link ContractCompatibility} allows it (new nullable
 * columns added, types widened, required columns made nullable), in one schema commit. The version
 * a table was last evolved to is kept in its properties ({@value #VERSION_PROPERTY}).
 */
public final class ContractTables {

    /** Table property: the contract version the table's schema was last made for. */
    public static final String VERSION_PROPERTY = "tidemark.contract-version";

    private static final Logger LOG = LoggerFactory.getLogger(ContractTables.class);

    private final Catalog catalog;

    public ContractTables(Catalog catalog) {
        this.catalog = catalog;
    }

    /**
     * The table {@code identifier} for {@code contract}: created if missing; evolved from {@code
     * previous} (the version it was made for) when that is older; refused with every reason when
     * {@code contract} cannot replace it. An existing table without a recorded version (made before
     * contracts; the caller checks that it fits) gets {@code contract}'s version recorded.
     */
    public Table ensure(
            TableIdentifier identifier, Contract contract, Optional<Contract> previous) {
        if (!catalog.tableExists(identifier)) {
            Table table = new TableManager(catalog).ensure(contract.spec(identifier));
            table.updateProperties()
                    .set(VERSION_PROPERTY, Integer.toString(contract.version()))
                    .commit();
            return table;
        }
        Table table = catalog.loadTable(identifier);
        if (previous.isEmpty()) {
            // a table made before contracts, which the caller checked against this one: from now
            // on it is the table of this version
            if (version(table).isEmpty()) {
                table.updateProperties()
                        .set(VERSION_PROPERTY, Integer.toString(contract.version()))
                        .commit();
                LOG.info("Table {} is now under contract {}", table.name(), contract.id());
            }
            return table;
        }
        if (previous.get().version() == contract.version()) {
            return table;
        }
        ContractCompatibility.check(previous.get(), contract);
        evolve(table, contract);
        return table;
    }

    /** The contract version {@code table} was last made for, if Tidemark recorded one. */
    public static Optional<Integer> version(Table table) {
        String version = table.properties().get(VERSION_PROPERTY);
        return version == null ? Optional.empty() : Optional.of(Integer.parseInt(version));
    }

    /** Applies the additive and widening differences between the table and {@code contract}. */
    static void evolve(Table table, Contract contract) {
        Schema schema = table.schema();
        // schema and recorded version in one commit: readers never see one without the other
        Transaction transaction = table.newTransaction();
        UpdateSchema update = transaction.updateSchema();
        List<String> changes = new ArrayList<>();
        for (Column column : contract.columns()) {
            Types.NestedField field = schema.findField(column.name());
            if (field == null) {
                update.addColumn(column.name(), column.type());
                changes.add("added " + column.name() + " " + column.type());
                continue;
            }
            if (!field.type().equals(column.type())) {
                if (TypeUtil.isPromotionAllowed(field.type(), column.type())) {
                    update.updateColumn(column.name(), column.type());
                    changes.add("widened " + column.name() + " to " + column.type());
                } else {
                    // widened while running (schema-evolution: evolve) beyond what the contract
                    // declares: the table keeps the wider type, the contract's values fit it
                    changes.add(column.name() + " stays " + field.type());
                }
            }
            if (field.isRequired() && column.nullable()) {
                update.makeColumnOptional(column.name());
                changes.add(column.name() + " nullable");
            }
        }
        update.commit();
        transaction
                .updateProperties()
                .set(VERSION_PROPERTY, Integer.toString(contract.version()))
                .commit();
        transaction.commitTransaction();
        LOG.info("Evolved {} to contract {}: {}", table.name(), contract.id(), changes);
    }
}
