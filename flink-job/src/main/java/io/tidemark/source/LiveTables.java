package io.tidemark.source;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.CapturedTables;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;

/**
 * Tables created in a MySQL source while the job runs, captured because a pattern with {@code
 * new-tables: capture} matches them. Known tables (resolved at the start) are never live.
 *
 * <p>The binlog carries every row of a table created after the job started, from its {@code CREATE
 * TABLE} on, so following it from its first change captures it whole. Its Iceberg table is made by
 * the schema stage, the one place that reads a live table's columns and key from the source ({@code
 * io.tidemark.schema.LiveTableCreation}), before its first change passes the stage after the source
 * ({@code io.tidemark.schema.LiveTableStage}); every operator after that reads the table's columns
 * and key from its Iceberg table ({@link #table}), never from the source.
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

    /**
     * The table property holding a live table's primary key columns in the source's key order
     * (Iceberg's identifier fields are a set): the order of the key of its changes.
     */
    public static final String KEY_PROPERTY = "tidemark.live.primary-key";

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private transient Map<String, LiveTable> tables;
    private transient Map<String, Optional<TableConfig>> entries;

    /** A live table's Iceberg table as the schema stage made it: its schema and key. */
    public record LiveTable(TableIdentifier identifier, Schema schema, List<String> primaryKey) {}

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
     * Live table {@code sourceTable}'s Iceberg table, once the schema stage made it (empty before,
     * and when no catalog was given); its key is kept, its schema is the table's when first read.
     */
    public synchronized Optional<LiveTable> table(String sourceTable) {
        if (tables == null) {
            tables = new HashMap<>();
        }
        LiveTable known = tables.get(sourceTable);
        if (known != null || targets == null) {
            return Optional.ofNullable(known);
        }
        TableIdentifier target = target(sourceTable);
        Catalog catalog = targets.loadCatalog();
        try {
            if (!catalog.tableExists(target)) {
                return Optional.empty();
            }
            Table table = catalog.loadTable(target);
            String key = table.properties().get(KEY_PROPERTY);
            if (key == null) {
                // made, its key not recorded yet: the schema stage does that next
                return Optional.empty();
            }
            LiveTable live = new LiveTable(target, table.schema(), decodeKey(key));
            tables.put(sourceTable, live);
            return Optional.of(live);
        } finally {
            if (catalog instanceof java.io.Closeable closeable) {
                try {
                    closeable.close();
                } catch (java.io.IOException e) {
                    // nothing held open that matters: the table is read
                }
            }
        }
    }

    /** The Iceberg table live table {@code sourceTable} is written to. */
    public TableIdentifier target(String sourceTable) {
        return TableIdentifier.parse(entry(sourceTable).target());
    }

    /** The source live table {@code sourceTable} is read from. */
    public SourceConfig source(String sourceTable) {
        return sources.get(entry(sourceTable).sources().get(0));
    }

    /** {@code key} as {@link #KEY_PROPERTY} holds it. */
    public static String encodeKey(List<String> key) {
        try {
            return JSON.writeValueAsString(key);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> decodeKey(String key) {
        try {
            return List.of(JSON.readValue(key, String[].class));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(
                    "table property " + KEY_PROPERTY + " is not a list of columns: " + key, e);
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

    /** The entry of live table {@code sourceTable}. */
    public TableConfig entry(String sourceTable) {
        return entryFor(sourceTable)
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "table '"
                                                + sourceTable
                                                + "' is not captured by any pattern"));
    }

    /**
     * The key columns of live table {@code sourceTable}, in the source's key order.
     *
     * @throws IllegalStateException if its Iceberg table is not made yet (the stage after the
     *     source lets none of its changes pass before)
     */
    public List<String> keyColumns(String sourceTable) {
        return table(sourceTable)
                .orElseThrow(
                        () ->
                                new IllegalStateException(
                                        "table '"
                                                + sourceTable
                                                + "', created while the job runs, has no Iceberg "
                                                + "table yet: the schema stage makes it before any "
                                                + "of its changes passes the operator 'live tables'"))
                .primaryKey();
    }
}
