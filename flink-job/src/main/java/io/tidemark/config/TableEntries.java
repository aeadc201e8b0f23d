package io.tidemark.config;

import io.tidemark.catalog.SqlNames;
import io.tidemark.catalog.TableLayout;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.config.PipelineConfig.TableConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code tables} list of a pipeline file: each entry read and checked (its source name or
 * pattern, target, key, ordering, late policy, feeding sources, contract, truncate policy, schema
 * evolution, new tables), and checked against the entries before it.
 */
final class TableEntries {

    private final ConfigReader reader;

    TableEntries(ConfigReader reader) {
        this.reader = reader;
    }

    List<TableConfig> tables(Object raw, List<String> sourceIds, EvolutionPolicy schemaEvolution) {
        if (raw == null) {
            throw new ConfigException(
                    reader.file()
                            + ": missing required key 'tables' (a list of {source, target, primary-key})");
        }
        if (!(raw instanceof List) || ((List<?>) raw).isEmpty()) {
            throw new ConfigException(
                    reader.file()
                            + ": 'tables': expected a non-empty list of {source, target, primary-key}");
        }
        List<TableConfig> tables = new ArrayList<>();
        Set<String> sources = new HashSet<>();
        Set<String> targets = new HashSet<>();
        List<?> entries = (List<?>) raw;
        Set<String> known = new HashSet<>();
        PipelineOptions.TABLE_KEYS.forEach(k -> known.add(k.name()));
        for (int i = 0; i < entries.size(); i++) {
            String at = "tables[" + i + "]";
            if (!(entries.get(i) instanceof Map)) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s': expected a map with source, target, primary-key",
                                reader.file(), at));
            }
            Map<?, ?> entry = (Map<?, ?>) entries.get(i);
            tables.add(table(at, entry, known, sources, targets, sourceIds, schemaEvolution));
        }
        return tables;
    }

    /** Entry {@code at} of {@code tables}, checked against the entries before it. */
    private TableConfig table(
            String at,
            Map<?, ?> entry,
            Set<String> known,
            Set<String> sources,
            Set<String> targets,
            List<String> sourceIds,
            EvolutionPolicy schemaEvolution) {
        for (Object k : entry.keySet()) {
            if (!known.contains(String.valueOf(k))) {
                throw new ConfigException(
                        String.format(
                                "%s: unknown key '%s.%s'%s",
                                reader.file(),
                                at,
                                k,
                                ConfigReader.suggestion(String.valueOf(k), known)));
            }
        }
        String sourceName = sourceName(at, entry);
        boolean pattern = TableConfig.isPattern(sourceName);
        String targetName = targetName(at, entry, sourceName, pattern);
        List<String> key = reader.stringList(at + ".primary-key", entry.get("primary-key"));
        Ordering ordering = ordering(at, entry);
        LatePolicy latePolicy =
                LatePolicy.parse(
                        choice(at, entry, PipelineOptions.TABLE_LATE_POLICY, "apply-if-newer"));
        if (!sources.add(sourceName)) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s.source': table '%s' is listed twice",
                            reader.file(), at, sourceName));
        }
        if (!targets.add(targetName)) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s.target': table '%s' is the target of two sources",
                            reader.file(), at, targetName));
        }
        List<String> tableSources = tableSources(at, entry, sourceIds, sourceName, ordering);
        Integer contract = contractVersion(at, entry.get("contract"));
        TruncatePolicy truncate =
                FileValue.parse(
                        TruncatePolicy.class,
                        choice(
                                at,
                                entry,
                                PipelineOptions.TABLE_TRUNCATE,
                                TruncatePolicy.APPLY.fileValue()));
        EvolutionPolicy evolution = schemaEvolution;
        if (entry.get("schema-evolution") != null) {
            if (entry.get("contract") != null) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.schema-evolution': the table has a contract, whose "
                                        + "schema-evolution decides; remove it from the entry",
                                reader.file(), at));
            }
            evolution =
                    EvolutionPolicy.parse(
                            choice(at, entry, PipelineOptions.TABLE_SCHEMA_EVOLUTION, null));
        }
        NewTables newTables = newTables(at, entry, pattern, sourceName, latePolicy);
        boolean history = "scd2".equals(choice(at, entry, PipelineOptions.TABLE_HISTORY, "none"));
        if (history && newTables == NewTables.CAPTURE) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s.history': scd2 needs a history table per target, made before "
                                    + "the start; with 'new-tables: capture' list the tables that keep "
                                    + "a history in entries of their own",
                            reader.file(), at));
        }
        List<String> exclude = exclude(at, entry, pattern, sourceName);
        TableLayout layout = layout(at, entry);
        return new TableConfig(
                sourceName,
                targetName,
                key,
                ordering,
                latePolicy,
                tableSources,
                contract,
                newTables,
                truncate,
                evolution,
                exclude,
                layout,
                history);
    }

    /**
     * {@code items} with the pieces YAML's flow list cut at a comma inside parentheses put back
     * together: {@code [bucket(16, id), day]} reads as {@code "bucket(16"}, {@code "id)"}, {@code
     * "day"}.
     */
    static List<String> rejoined(List<String> items) {
        List<String> joined = new ArrayList<>();
        StringBuilder open = null;
        for (String item : items) {
            if (open != null) {
                open.append(", ").append(item.trim());
            } else {
                open = new StringBuilder(item.trim());
            }
            String text = open.toString();
            if (text.chars().filter(c -> c == '(').count()
                    <= text.chars().filter(c -> c == ')').count()) {
                joined.add(text);
                open = null;
            }
        }
        if (open != null) {
            joined.add(open.toString());
        }
        return joined;
    }

    /**
     * The {@code partition-by}, {@code table-properties} and {@code sort-order} of entry {@code
     * at}, their syntax checked (their columns are checked against the table when it is prepared).
     */
    private TableLayout layout(String at, Map<?, ?> entry) {
        List<String> partitionBy =
                rejoined(reader.stringList(at + ".partition-by", entry.get("partition-by")));
        List<String> sortOrder = reader.stringList(at + ".sort-order", entry.get("sort-order"));
        Object raw = entry.get("table-properties");
        Map<String, String> properties = new LinkedHashMap<>();
        if (raw != null) {
            if (!(raw instanceof Map<?, ?> map)) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.table-properties': expected a map of Iceberg table properties",
                                reader.file(), at));
            }
            map.forEach((k, v) -> properties.put(String.valueOf(k), String.valueOf(v)));
        }
        if (partitionBy.isEmpty() && sortOrder.isEmpty() && properties.isEmpty()) {
            return TableLayout.NONE;
        }
        try {
            return new TableLayout(partitionBy, properties, sortOrder);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(
                    String.format("%s: '%s': %s", reader.file(), at, e.getMessage()));
        }
    }

    /**
     * The {@code exclude} list of entry {@code at}: names or patterns of tables of the pattern's
     * namespace that it leaves out; only a pattern has one.
     */
    private List<String> exclude(String at, Map<?, ?> entry, boolean pattern, String sourceName) {
        List<String> exclude = reader.stringList(at + ".exclude", entry.get("exclude"));
        if (exclude.isEmpty()) {
            return exclude;
        }
        if (!pattern) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s.exclude': only a pattern (such as schema.*) leaves tables out; "
                                    + "'%s' names one table",
                            reader.file(), at, sourceName));
        }
        String namespace = sourceName.substring(0, sourceName.indexOf('.') + 1);
        List<String> qualified = new ArrayList<>();
        for (String name : exclude) {
            // a bare table name is of the pattern's namespace
            String table = name.indexOf('.') < 0 ? namespace + name : name;
            if (!table.startsWith(namespace)) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.exclude': '%s' is not of the pattern's namespace '%s'",
                                reader.file(),
                                at,
                                name,
                                namespace.substring(0, namespace.length() - 1)));
            }
            qualified.add(table);
        }
        return qualified;
    }

    /** The source table (or pattern) of entry {@code at}, as the database stores its name. */
    private String sourceName(String at, Map<?, ?> entry) {
        Object source = entry.get("source");
        if (source == null) {
            throw reader.missing(at + ".source", PipelineOptions.TABLE_SOURCE);
        }
        String written = reader.scalar(at + ".source", source, PipelineOptions.TABLE_SOURCE);
        try {
            // as the database stores it: public."Order Items" is public.Order Items
            return SqlNames.parseQualified(written);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s.source': expected schema.table, or a pattern such as schema.* "
                                    + "(MySQL: database.table), got '%s': %s",
                            reader.file(), at, written, e.getMessage()));
        }
    }

    /** The ordering rule of entry {@code at}: commit order unless it declares event time. */
    private Ordering ordering(String at, Map<?, ?> entry) {
        if (entry.get("ordering") == null) {
            return Ordering.COMMIT_ORDER;
        }
        String text =
                reader.scalar(
                        at + ".ordering", entry.get("ordering"), PipelineOptions.TABLE_ORDERING);
        try {
            return Ordering.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s.ordering': expected 'commit-order' or"
                                    + " 'event-time:<column>', got '%s'",
                            reader.file(), at, text));
        }
    }

    /**
     * The value of entry {@code at}'s key {@code option} (its last name part), one of the option's
     * allowed values, or {@code absent} when the entry does not set it.
     */
    private String choice(String at, Map<?, ?> entry, ConfigKey option, String absent) {
        String name = option.name().substring(option.name().lastIndexOf('.') + 1);
        Object value = entry.get(name);
        return value == null
                ? absent
                : reader.check(
                        option, at + "." + name, reader.scalar(at + "." + name, value, option));
    }

    /**
     * The sources feeding entry {@code at}: those it names (each must exist), else every source;
     * more than one needs an event-time ordering (commit order exists within one source).
     */
    private List<String> tableSources(
            String at,
            Map<?, ?> entry,
            List<String> sourceIds,
            String sourceName,
            Ordering ordering) {
        List<String> fedBy = reader.stringList(at + ".sources", entry.get("sources"));
        for (String id : fedBy) {
            if (!sourceIds.contains(id)) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.sources': no source with id '%s' (sources: %s)",
                                reader.file(), at, id, sourceIds));
            }
        }
        List<String> tableSources = fedBy.isEmpty() ? sourceIds : fedBy;
        if (tableSources.size() > 1 && ordering.byCommit()) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s.ordering': table '%s' is fed by %d sources %s; commit order exists only "
                                    + "within one source, so declare 'event-time:<column>'",
                            reader.file(), at, sourceName, tableSources.size(), tableSources));
        }
        return tableSources;
    }

    /** The target of entry {@code at}: as written, or the source's own name (pattern). */
    private String targetName(String at, Map<?, ?> entry, String sourceName, boolean pattern) {
        Object target = entry.get("target");
        String targetName =
                target == null
                        ? pattern
                                ? sourceName.substring(0, sourceName.indexOf('.')) + ".*"
                                : sourceName
                        : reader.scalar(at + ".target", target, PipelineOptions.TABLE_TARGET);
        if (pattern) {
            if (!targetName.matches("[A-Za-z_]\\w*(\\.[A-Za-z_]\\w*)*\\.\\w*\\*\\w*")) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.target': the source is a pattern, so the target is "
                                        + "namespace.<name with one *> ('*' becomes each table's name, e.g. lake.*), got '%s'",
                                reader.file(), at, targetName));
            }
            if (entry.get("contract") != null) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.contract': a contract is one table's; list the table on "
                                        + "its own entry (it then leaves the pattern '%s')",
                                reader.file(), at, sourceName));
            }
        } else if (!targetName.matches("[A-Za-z_][\\w]*(\\.[A-Za-z_][\\w]*)+")) {
            throw new ConfigException(
                    target == null
                            ? String.format(
                                    "%s: '%s.target' is missing and the source's name '%s' is "
                                            + "not one an Iceberg table takes here: name the "
                                            + "target (namespace.table; letters, digits and "
                                            + "underscores, lower case for Trino)",
                                    reader.file(), at, sourceName)
                            : String.format(
                                    "%s: '%s.target': expected namespace.table, got '%s'",
                                    reader.file(), at, targetName));
        }
        return targetName;
    }

    /** The contract version of entry {@code at} ({@code 3} or {@code v3}), null for none. */
    private Integer contractVersion(String at, Object version) {
        if (version == null) {
            return null;
        }
        String text = String.valueOf(version).replaceFirst("^v", "");
        if (!text.matches("[1-9][0-9]{0,8}")) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s.contract': expected a contract version (1, 2, ... or v1, v2, ...), got '%s'",
                            reader.file(), at, version));
        }
        return Integer.parseInt(text);
    }

    /** The {@code new-tables} of entry {@code at}: {@code ignore} unless a pattern says. */
    private NewTables newTables(
            String at, Map<?, ?> entry, boolean pattern, String sourceName, LatePolicy latePolicy) {
        NewTables newTables = NewTables.IGNORE;
        if (entry.get("new-tables") != null) {
            String text =
                    reader.check(
                            PipelineOptions.TABLE_NEW_TABLES,
                            at + ".new-tables",
                            reader.scalar(
                                    at + ".new-tables",
                                    entry.get("new-tables"),
                                    PipelineOptions.TABLE_NEW_TABLES));
            newTables = FileValue.parse(NewTables.class, text);
            if (!pattern) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.new-tables': only a pattern (such as schema.*) can match tables "
                                        + "created later; '%s' is one table",
                                reader.file(), at, sourceName));
            }
            if (newTables == NewTables.CAPTURE && latePolicy == LatePolicy.QUARANTINE) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.late-policy': quarantine needs a late table per target, made "
                                        + "before the start; with 'new-tables: capture' use apply-if-newer or fail",
                                reader.file(), at));
            }
        }
        return newTables;
    }
}
