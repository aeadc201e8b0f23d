package io.tidemark.source;

import io.tidemark.catalog.TableSpec;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.CapturedTables;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.types.Types;

/**
 * Tables created in a MySQL source while the job runs, captured because a pattern with {@code
 * new-tables: capture} matches them. Known tables (resolved at the start) are never live.
 *
 * <p>The binlog carries every row of a table created after the job started, from its {@code CREATE
 * TABLE} on, so following it from its first change captures it whole. Operators ask for a live
 * table's key and schema here; both are read from the source's {@code information_schema} once per
 * table and operator instance (the table's schema as it is when first seen).
 *
 * <p>Serializable configuration; the cache is per instance and not persisted.
 */
public final class LiveTables implements CapturedTables {

    private static final long serialVersionUID = 1L;

    /** No pattern captures new tables. */
    public static final LiveTables NONE = new LiveTables(List.of(), Map.of(), Set.of(), null);

    private final List<TableConfig> patterns;
    private final Map<String, SourceConfig> sources;
    private final Set<String> known;

    /** The pipeline's catalog, where live tables' Iceberg tables are read; null: not read. */
    private final CatalogLoader targets;

    private transient Map<String, TableSpec> specs;
    private transient Map<String, Optional<TableConfig>> entries;

    private LiveTables(
            List<TableConfig> patterns,
            Map<String, SourceConfig> sources,
            Set<String> known,
            CatalogLoader targets) {
        this.patterns = List.copyOf(patterns);
        this.sources = Map.copyOf(sources);
        this.known = Set.copyOf(known);
        this.targets = targets;
    }

    /**
     * These live tables, whose Iceberg tables are read from {@code catalog} ({@link
     * #targetColumns}).
     */
    public LiveTables withTargets(CatalogLoader catalog) {
        return isEmpty() ? this : new LiveTables(patterns, sources, known, catalog);
    }

    /**
     * The columns of live table {@code sourceTable}'s Iceberg table, if it exists (empty also when
     * no catalog was given). A task that meets the table after its Iceberg table was made (a
     * restarted task, another subtask) checks its changes against these where the table's schema
     * evolution does not change the table: the source may hold columns the table never took.
     */
    public Optional<List<Types.NestedField>> targetColumns(String sourceTable) {
        if (targets == null) {
            return Optional.empty();
        }
        org.apache.iceberg.catalog.TableIdentifier target = spec(sourceTable).identifier();
        Catalog catalog = targets.loadCatalog();
        try {
            return catalog.tableExists(target)
                    ? Optional.of(catalog.loadTable(target).schema().columns())
                    : Optional.empty();
        } finally {
            if (catalog instanceof java.io.Closeable closeable) {
                try {
                    closeable.close();
                } catch (java.io.IOException e) {
                    // nothing held open that matters: the columns are read
                }
            }
        }
    }

    /** The live-capture patterns of a resolved pipeline. */
    public static LiveTables of(PipelineConfig config) {
        if (config.liveTables().isEmpty()) {
            return NONE;
        }
        Map<String, SourceConfig> sources = new HashMap<>();
        config.sources().forEach(s -> sources.put(s.id(), s));
        return new LiveTables(
                config.liveTables(),
                sources,
                config.tables().stream()
                        .map(TableConfig::source)
                        .collect(java.util.stream.Collectors.toSet()),
                null);
    }

    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    /** The patterns, for the source's table filter. */
    public List<TableConfig> patterns() {
        return patterns;
    }

    @Override
    public boolean captures(String table) {
        return entryFor(table).isPresent();
    }

    /** The entry of {@code sourceTable} if it is a live table (matched by a pattern, not known). */
    public synchronized Optional<TableConfig> entryFor(String sourceTable) {
        if (patterns.isEmpty() || known.contains(sourceTable)) {
            return Optional.empty();
        }
        if (entries == null) {
            entries = new HashMap<>();
        }
        return entries.computeIfAbsent(
                sourceTable,
                table -> {
                    for (TableConfig pattern : patterns) {
                        if (pattern.matches(table)) {
                            return Optional.of(pattern.forTable(table));
                        }
                    }
                    return Optional.empty();
                });
    }

    /** The live source table written to Iceberg table {@code target}, or null. */
    public String sourceOfTarget(String target) {
        for (TableConfig pattern : patterns) {
            String table = pattern.sourceOfTarget(target);
            if (table != null && !known.contains(table)) {
                return table;
            }
        }
        return null;
    }

    /**
     * The spec (columns, key, target) of live table {@code sourceTable}, read from its source.
     *
     * @throws IllegalArgumentException if it is not a live table, or has no primary key
     */
    public synchronized TableSpec spec(String sourceTable) {
        if (specs == null) {
            specs = new HashMap<>();
        }
        TableSpec spec = specs.get(sourceTable);
        if (spec != null) {
            return spec;
        }
        TableConfig entry =
                entryFor(sourceTable)
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "table '"
                                                        + sourceTable
                                                        + "' is not captured by any pattern"));
        SourceConfig source = sources.get(entry.sources().get(0));
        SourceDialect dialect = SourceDialect.of(source);
        try (Connection connection = dialect.connect()) {
            spec = dialect.readSchema(connection, entry);
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "cannot read the schema of table '"
                            + sourceTable
                            + "', created while the job runs, from source '"
                            + source.id()
                            + "': "
                            + e.getMessage(),
                    e);
        }
        specs.put(sourceTable, spec);
        return spec;
    }

    /** The key columns of live table {@code sourceTable}. */
    public List<String> keyColumns(String sourceTable) {
        return spec(sourceTable).primaryKey();
    }
}
