package io.tidemark.source;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whole-database capture: resolves the pipeline file's table patterns ({@code shop.*}) to the
 * tables they match in the source, when the job is prepared.
 *
 * <ul>
 *   <li>A pattern matches base tables (not views) of its schema (MySQL: database), in every source
 *       that feeds it; tables are taken in name order.
 *   <li>A table listed on an entry of its own is left to that entry, whatever patterns match it.
 *   <li>A pattern that matches nothing stops the start (a typo must not capture an empty set),
 *       unless it captures tables created later.
 *   <li>Matched tables without a primary key stop the start, all named at once, unless the entry
 *       declares {@code primary-key} (every matched table must then have those columns).
 * </ul>
 *
 * <p>Tables created after the start: under {@code new-tables: ignore} a running job does not read
 * them; a restart from its savepoint resolves the pattern again and the source snapshots the new
 * tables, then follows them, while the others keep their state. Under {@code new-tables: capture}
 * (MySQL) the running job follows them from their first binlog change ({@link LiveTables}), and
 * such a pattern may match nothing at the start (the pipeline as a whole must match some table).
 */
public final class TableDiscovery {

    private static final Logger LOG = LoggerFactory.getLogger(TableDiscovery.class);

    private TableDiscovery() {}

    /** {@code config} with every pattern entry replaced by one entry per matched table. */
    public static PipelineConfig resolve(PipelineConfig config) throws SQLException {
        if (config.tables().stream().noneMatch(TableConfig::isPattern)) {
            return config;
        }
        Map<String, Connection> connections = new HashMap<>();
        try {
            for (SourceConfig source : config.sources()) {
                connections.put(source.id(), SourceDialect.of(source).connect());
            }
            return resolve(config, connections);
        } finally {
            for (Connection connection : connections.values()) {
                connection.close();
            }
        }
    }

    static PipelineConfig resolve(PipelineConfig config, Map<String, Connection> connections)
            throws SQLException {
        Set<String> listed =
                config.tables().stream()
                        .filter(t -> !t.isPattern())
                        .map(TableConfig::source)
                        .collect(Collectors.toSet());
        Map<String, SourceDialect> dialects = new HashMap<>();
        for (SourceConfig source : config.sources()) {
            dialects.put(source.id(), SourceDialect.of(source));
        }
        Map<String, TableConfig> resolved = new LinkedHashMap<>();
        List<String> keyless = new ArrayList<>();
        for (TableConfig entry : config.tables()) {
            if (!entry.isPattern()) {
                resolved.put(entry.source(), entry);
                continue;
            }
            String namespace = entry.source().substring(0, entry.source().indexOf('.'));
            Set<String> matched = new TreeSet<>();
            for (String sourceId : entry.sources()) {
                for (String table :
                        dialects.get(sourceId).tables(connections.get(sourceId), namespace)) {
                    String name = namespace + "." + table;
                    if (entry.matches(name) && !listed.contains(name)) {
                        matched.add(name);
                    }
                }
            }
            if (matched.isEmpty() && !entry.capturesNewTables()) {
                throw new IllegalArgumentException(
                        String.format(
                                "table pattern '%s' matches no table of '%s' in source(s) %s that is "
                                        + "not listed on its own; check the pattern and the user's SELECT grant",
                                entry.source(), namespace, entry.sources()));
            }
            for (String table : matched) {
                if (resolved.containsKey(table)) {
                    continue; // an earlier pattern has it
                }
                if (entry.primaryKey().isEmpty()) {
                    String[] parts = table.split("\\.", 2);
                    String first = entry.sources().get(0);
                    List<String> key =
                            dialects.get(first)
                                    .primaryKey(connections.get(first), parts[0], parts[1]);
                    if (key.isEmpty()) {
                        keyless.add(table);
                        continue;
                    }
                }
                resolved.put(table, entry.forTable(table));
            }
            LOG.info("Table pattern {} matched {}", entry.source(), matched);
        }
        if (!keyless.isEmpty()) {
            throw new IllegalArgumentException(
                    String.format(
                            "table(s) %s match a pattern but have no primary key, so Tidemark cannot "
                                    + "replicate them row by row: add a primary key in the database, list each "
                                    + "on its own entry with 'primary-key', or narrow the pattern",
                            keyless));
        }
        if (resolved.isEmpty()) {
            throw new IllegalArgumentException(
                    "the pipeline's patterns match no table at the start; create one first (or list a "
                            + "table), then start it");
        }
        checkOneSourcePerTarget(resolved.values());
        return config.withTables(
                new ArrayList<>(resolved.values()),
                config.tables().stream().filter(TableConfig::capturesNewTables).toList());
    }

    /** Two tables written to one target are refused, naming both. */
    private static void checkOneSourcePerTarget(java.util.Collection<TableConfig> tables) {
        Map<String, String> targets = new HashMap<>();
        for (TableConfig table : tables) {
            String other = targets.putIfAbsent(table.target(), table.source());
            if (other != null) {
                throw new IllegalArgumentException(
                        String.format(
                                "tables '%s' and '%s' would both be written to '%s'; give one of them "
                                        + "an entry of its own with another target",
                                other, table.source(), table.target()));
            }
        }
    }
}
