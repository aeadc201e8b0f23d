package io.tidemark.catalog;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates target tables that are missing and checks that existing ones can take the pipeline's
 * changes.
 *
 * <ul>
 *   <li>New tables are format version 2, with identifier fields = primary key and hash write
 *       distribution, so every change of one key meets one writer; partitioned, sorted and with the
 *       properties their {@link TableLayout} gives (unpartitioned without one).
 *   <li>An existing table must have the same identifier fields and every source column with the
 *       same type; otherwise the start fails with a message naming the difference. Tidemark never
 *       silently rewrites a table it did not create that way. Its layout is checked and fitted
 *       ({@link TableLayout#applyTo}): a partition on a column outside the key is refused.
 * </ul>
 */
public final class TableManager {

    private static final Logger LOG = LoggerFactory.getLogger(TableManager.class);

    private final Catalog catalog;

    public TableManager(Catalog catalog) {
        this.catalog = catalog;
    }

    /** Returns the table for {@code spec}, creating it (and its namespace) if missing. */
    public Table ensure(TableSpec spec) {
        return ensure(spec, false);
    }

    /**
     * As {@link #ensure(TableSpec)}; with {@code columnsMayLag}, an existing table needs only the
     * spec's key: its columns may lag the source's (a column added or widened in the source since
     * the table was made, which the running job's schema evolution applies when a change carries
     * it).
     */
    public Table ensure(TableSpec spec, boolean columnsMayLag) {
        return ensure(spec, TableLayout.NONE, columnsMayLag);
    }

    /**
     * As {@link #ensure(TableSpec, boolean)}, the table laid out as {@code layout} says: made so,
     * or checked and fitted ({@link TableLayout#applyTo}).
     */
    public Table ensure(TableSpec spec, TableLayout layout, boolean columnsMayLag) {
        layout.requirePartitionsByKey(spec.identifier().toString(), spec.primaryKey());
        if (catalog.tableExists(spec.identifier())) {
            return existing(spec, layout, columnsMayLag);
        }
        ensureNamespace(spec.identifier().namespace());
        Map<String, String> properties = new HashMap<>(layout.properties());
        properties.put(TableProperties.FORMAT_VERSION, "2");
        properties.put(TableProperties.WRITE_DISTRIBUTION_MODE, "hash");
        properties.put(TableProperties.UPSERT_ENABLED, "true");
        try {
            Table table =
                    catalog.buildTable(spec.identifier(), spec.schema())
                            .withPartitionSpec(layout.spec(spec.schema()))
                            .withSortOrder(layout.sortOrder(spec.schema()))
                            .withProperties(properties)
                            .create();
            LOG.info(
                    "Created table {} with key {}, partitioning {} and schema {}",
                    spec.identifier(),
                    spec.primaryKey(),
                    TableLayout.describe(table.spec()),
                    table.schema());
            return table;
        } catch (AlreadyExistsException e) {
            // another job created it between our check and our create: check it like any other
            return existing(spec, layout, columnsMayLag);
        }
    }

    /**
     * What {@link #ensure(TableSpec, TableLayout, boolean)} would refuse of an existing table,
     * changing nothing: its key, columns (unless {@code columnsMayLag}) and layout. Empty when the
     * table is missing (it would be made) or fits.
     *
     * @return the refusal's message, if any
     */
    public java.util.Optional<String> check(
            TableSpec spec, TableLayout layout, boolean columnsMayLag) {
        try {
            layout.requirePartitionsByKey(spec.identifier().toString(), spec.primaryKey());
            if (catalog.tableExists(spec.identifier())) {
                Table table = catalog.loadTable(spec.identifier());
                checkCompatible(spec, table, columnsMayLag);
                layout.check(table, spec.primaryKey());
            }
            return java.util.Optional.empty();
        } catch (IllegalStateException | IllegalArgumentException e) {
            return java.util.Optional.of(e.getMessage());
        }
    }

    private Table existing(TableSpec spec, TableLayout layout, boolean columnsMayLag) {
        Table table = catalog.loadTable(spec.identifier());
        checkCompatible(spec, table, columnsMayLag);
        layout.applyTo(table, spec.primaryKey());
        return table;
    }

    /**
     * Returns the append-only table {@code identifier} (no identifier fields), creating it if
     * missing; an existing one must have every column of {@code schema} with the same type, except
     * optional columns it lacks, which are added at its end in one schema commit (the columns a
     * newer release adds to a table an older one made, such as the quarantine tables' replay
     * columns).
     */
    public Table ensureAppendOnly(
            org.apache.iceberg.catalog.TableIdentifier identifier, Schema schema) {
        if (catalog.tableExists(identifier)) {
            Table table = catalog.loadTable(identifier);
            List<Types.NestedField> added = new ArrayList<>();
            for (Types.NestedField column : schema.columns()) {
                Types.NestedField actual = table.schema().findField(column.name());
                if (actual == null && column.isOptional()) {
                    added.add(column);
                } else if (actual == null || !actual.type().equals(column.type())) {
                    throw new IllegalStateException(
                            String.format(
                                    "table %s exists but its column '%s' is %s, expected %s: "
                                            + "drop or rename the table so Tidemark can create it",
                                    identifier,
                                    column.name(),
                                    actual == null ? "missing" : actual.type(),
                                    column.type()));
                }
            }
            if (!added.isEmpty()) {
                UpdateSchema update = table.updateSchema();
                added.forEach(c -> update.addColumn(c.name(), c.type(), c.doc()));
                update.commit();
                LOG.info(
                        "Added column(s) {} to append-only table {}",
                        added.stream().map(Types.NestedField::name).toList(),
                        identifier);
            }
            return table;
        }
        ensureNamespace(identifier.namespace());
        try {
            Table table =
                    catalog.buildTable(identifier, schema)
                            .withPartitionSpec(PartitionSpec.unpartitioned())
                            .withProperty(TableProperties.FORMAT_VERSION, "2")
                            .create();
            LOG.info("Created append-only table {}", identifier);
            return table;
        } catch (AlreadyExistsException e) {
            return catalog.loadTable(identifier);
        }
    }

    private void ensureNamespace(Namespace namespace) {
        if (namespace.isEmpty() || !(catalog instanceof SupportsNamespaces)) {
            return;
        }
        SupportsNamespaces namespaces = (SupportsNamespaces) catalog;
        if (!namespaces.namespaceExists(namespace)) {
            try {
                namespaces.createNamespace(namespace);
            } catch (AlreadyExistsException e) {
                LOG.debug("Namespace {} was created concurrently", namespace);
            }
        }
    }

    static void checkCompatible(TableSpec spec, Table table, boolean columnsMayLag) {
        Schema schema = table.schema();
        Set<String> actualKey = new TreeSet<>(schema.identifierFieldNames());
        Set<String> expectedKey = new TreeSet<>(spec.primaryKey());
        if (!actualKey.equals(expectedKey)) {
            throw new IllegalStateException(
                    String.format(
                            "table %s exists with identifier fields %s but the pipeline declares primary key %s: "
                                    + "fix 'primary-key' in the pipeline file or write to another table",
                            spec.identifier(), actualKey, expectedKey));
        }
        if (columnsMayLag) {
            return;
        }
        List<String> problems = new java.util.ArrayList<>();
        for (Types.NestedField column : spec.columns()) {
            Types.NestedField actual = schema.findField(column.name());
            if (actual == null) {
                problems.add(String.format("column '%s' is missing", column.name()));
            } else if (!actual.type().equals(column.type())) {
                problems.add(
                        String.format(
                                "column '%s' is %s in the table but %s in the source",
                                column.name(), actual.type(), column.type()));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException(
                    String.format(
                            "table %s exists but does not match the source table: %s",
                            spec.identifier(), String.join("; ", problems)));
        }
    }
}
