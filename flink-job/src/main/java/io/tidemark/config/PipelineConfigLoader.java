package io.tidemark.config;

import io.tidemark.catalog.SqlNames;
import io.tidemark.config.ConfigKey.Kind;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.ChangeEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.util.TimeUtils;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads and validates a pipeline file up front. Every problem stops the start with a message that
 * names the file, the key and what is expected:
 *
 * <ul>
 *   <li>an unknown key (with the closest known key, if any);
 *   <li>a missing required key;
 *   <li>a value of the wrong kind (not an integer, not a duration, not one of the allowed values);
 *   <li>an {@code ${env:NAME}} reference to a variable that is not set.
 * </ul>
 *
 * <p>Precedence: the file, with {@code ${env:NAME}} references resolved from the environment.
 */
public final class PipelineConfigLoader {

    private static final Pattern ENV_REF = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");

    private final Function<String, String> environment;

    public PipelineConfigLoader() {
        this(System::getenv);
    }

    /** For tests: resolves {@code ${env:NAME}} with {@code environment} instead of the process. */
    public PipelineConfigLoader(Function<String, String> environment) {
        this.environment = environment;
    }

    public PipelineConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException(
                    file + ": no such file; pass an existing pipeline file to --config");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    public PipelineConfig parse(String yaml, String fileName) {
        Object root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        } catch (YAMLException e) {
            throw new ConfigException(fileName + ": not valid YAML: " + firstLine(e.getMessage()));
        }
        if (!(root instanceof Map)) {
            throw new ConfigException(
                    fileName
                            + ": expected a YAML map with pipeline, checkpoint, source, catalog and tables");
        }
        Reader reader = new Reader(fileName, environment);
        Map<String, Object> flat = new LinkedHashMap<>();
        Object tables = null;
        Object sourceList = null;
        for (Map.Entry<?, ?> entry : ((Map<?, ?>) root).entrySet()) {
            String section = String.valueOf(entry.getKey());
            if (section.equals("tables")) {
                tables = entry.getValue();
            } else if (section.equals("sources")) {
                sourceList = entry.getValue();
            } else {
                flatten(section, entry.getValue(), flat);
            }
        }
        reader.checkKnown(flat.keySet());

        String pipelineId = reader.string(flat, PipelineOptions.PIPELINE_ID);
        if (!pipelineId.matches("[A-Za-z0-9][A-Za-z0-9_-]*")) {
            throw new ConfigException(
                    String.format(
                            "%s: 'pipeline.id': expected letters, digits, '_' or '-', got '%s'",
                            fileName, pipelineId));
        }
        String defaultSlot = "tidemark_" + pipelineId.toLowerCase().replace('-', '_');
        int parallelism = reader.integer(flat, PipelineOptions.PARALLELISM, 1, 32768);
        List<SourceConfig> sources =
                readSources(reader, flat, sourceList, fileName, pipelineId, parallelism);
        Map<String, String> catalogProperties = readCatalog(reader, flat, fileName);
        String contractsDir = reader.optionalString(flat, PipelineOptions.CONTRACTS_DIR, null);
        List<TableConfig> tableConfigs =
                reader.tables(
                        tables,
                        sources.stream().map(SourceConfig::id).toList(),
                        reader.string(flat, PipelineOptions.SCHEMA_EVOLUTION));
        checkTables(tableConfigs, sources, contractsDir, fileName);
        int maxParallelism = reader.integer(flat, PipelineOptions.MAX_PARALLELISM, 1, 32768);
        if (maxParallelism < parallelism) {
            throw new ConfigException(
                    String.format(
                            "%s: 'pipeline.max-parallelism' (%d) must be at least 'pipeline.parallelism' (%d)",
                            fileName, maxParallelism, parallelism));
        }
        return new PipelineConfig(
                pipelineId,
                reader.optionalString(
                        flat, PipelineOptions.PIPELINE_NAME, "tidemark-" + pipelineId),
                parallelism,
                maxParallelism,
                reader.duration(flat, PipelineOptions.CHECKPOINT_INTERVAL),
                reader.duration(flat, PipelineOptions.CHECKPOINT_TIMEOUT),
                reader.optionalString(flat, PipelineOptions.CHECKPOINT_DIR, null),
                reader.optionalString(flat, PipelineOptions.SAVEPOINT_DIR, null),
                reader.string(flat, PipelineOptions.STATE_BACKEND),
                sources,
                reader.optionalString(flat, PipelineOptions.CATALOG_NAME, "tidemark"),
                catalogProperties,
                new PipelineConfig.ReconcileConfig(
                        reader.durationOrZero(flat, PipelineOptions.RECONCILE_EMIT_DELAY),
                        reader.durationOrZero(flat, PipelineOptions.RECONCILE_ALLOWED_LATENESS),
                        reader.duration(flat, PipelineOptions.RECONCILE_RETENTION),
                        reader.duration(flat, PipelineOptions.RECONCILE_IDLENESS)),
                tableConfigs,
                contractsDir,
                List.of());
    }

    /**
     * The pipeline's sources: {@code source} (one database, id {@link ChangeEvent#DEFAULT_SOURCE})
     * or the list {@code sources}, each with its id; never both.
     */
    private static List<SourceConfig> readSources(
            Reader reader,
            Map<String, Object> flat,
            Object sourceList,
            String fileName,
            String pipelineId,
            int parallelism) {
        String defaultSlot = "tidemark_" + pipelineId.toLowerCase().replace('-', '_');
        List<SourceConfig> sources = new ArrayList<>();
        boolean single = flat.keySet().stream().anyMatch(k -> k.startsWith("source."));
        if (sourceList != null && single) {
            throw new ConfigException(
                    fileName
                            + ": set either 'source' (one database) or 'sources' (a list), not both");
        }
        if (sourceList == null) {
            sources.add(
                    readSource(
                            reader,
                            flat,
                            fileName,
                            "source",
                            pipelineId,
                            ChangeEvent.DEFAULT_SOURCE,
                            defaultSlot,
                            parallelism));
        } else {
            if (!(sourceList instanceof List) || ((List<?>) sourceList).isEmpty()) {
                throw new ConfigException(
                        fileName
                                + ": 'sources': expected a non-empty list of sources, each with an id");
            }
            List<?> entries = (List<?>) sourceList;
            for (int i = 0; i < entries.size(); i++) {
                String at = "sources[" + i + "]";
                if (!(entries.get(i) instanceof Map)) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s': expected a map with id, type, hostname, ...",
                                    fileName, at));
                }
                Map<String, Object> entryFlat = new LinkedHashMap<>();
                flatten("source", entries.get(i), entryFlat);
                Object id = entryFlat.remove("source.id");
                if (id == null || !String.valueOf(id).matches("[a-z][a-z0-9_]*")) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s.id': expected lower-case letters, digits and '_', got '%s'",
                                    fileName, at, id));
                }
                String sourceId = String.valueOf(id);
                if (sources.stream().anyMatch(existing -> existing.id().equals(sourceId))) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s.id': source '%s' is declared twice",
                                    fileName, at, sourceId));
                }
                sources.add(
                        readSource(
                                reader,
                                entryFlat,
                                fileName,
                                at,
                                pipelineId,
                                sourceId,
                                defaultSlot + "_" + sourceId,
                                parallelism));
            }
        }
        return sources;
    }

    /** The catalog's properties, its {@code type} (or {@code catalog-impl}) required. */
    private static Map<String, String> readCatalog(
            Reader reader, Map<String, Object> flat, String fileName) {
        Map<String, String> catalogProperties =
                new LinkedHashMap<>(reader.map(flat, PipelineOptions.CATALOG_PROPERTIES));
        if (flat.containsKey(PipelineOptions.CATALOG_TYPE.name())) {
            catalogProperties.put("type", reader.string(flat, PipelineOptions.CATALOG_TYPE));
        }
        if (!catalogProperties.containsKey("type")
                && !catalogProperties.containsKey("catalog-impl")) {
            throw new ConfigException(
                    String.format(
                            "%s: missing required key 'catalog.type' (one of %s), or set 'catalog.properties.catalog-impl'",
                            fileName, PipelineOptions.CATALOG_TYPE.allowed()));
        }
        return catalogProperties;
    }

    /**
     * What the table entries ask of the rest of the file: {@code new-tables: capture} only from
     * MySQL sources, a contract version only with {@code contracts.dir}.
     */
    private static void checkTables(
            List<TableConfig> tableConfigs,
            List<SourceConfig> sources,
            String contractsDir,
            String fileName) {
        for (int i = 0; i < tableConfigs.size(); i++) {
            TableConfig table = tableConfigs.get(i);
            if (!table.capturesNewTables()) {
                continue;
            }
            for (SourceConfig source : sources) {
                if (table.sources().contains(source.id()) && !source.isMySql()) {
                    throw new ConfigException(
                            String.format(
                                    "%s: 'tables[%d].new-tables': capture follows tables created while "
                                            + "running in the MySQL binlog; %s is %s (a publication "
                                            + "names its tables): use 'ignore' and restart from a savepoint",
                                    fileName,
                                    i,
                                    sources.size() == 1
                                            ? "the source"
                                            : "source '" + source.id() + "'",
                                    source.type()));
                }
            }
        }
        for (int i = 0; i < tableConfigs.size(); i++) {
            if (tableConfigs.get(i).contract() != null && contractsDir == null) {
                throw new ConfigException(
                        String.format(
                                "%s: 'tables[%d].contract' names a contract version but 'contracts.dir' is not set",
                                fileName, i));
            }
        }
    }

    /**
     * Reads one source from {@code flat} (keys {@code source.*}); errors name the key as the file
     * spells it ({@code source.x} or {@code sources[i].x}).
     */
    private static SourceConfig readSource(
            Reader reader,
            Map<String, Object> flat,
            String fileName,
            String spelledAs,
            String pipelineId,
            String id,
            String defaultSlot,
            int parallelism) {
        try {
            checkKnownSourceKeys(flat, fileName);
            String type = reader.string(flat, PipelineOptions.SOURCE_TYPE);
            boolean mysql = type.equals(SourceConfig.MYSQL);
            checkKindKeys(reader, flat, fileName, type);
            int port =
                    flat.containsKey(PipelineOptions.SOURCE_PORT.name())
                            ? reader.integer(flat, PipelineOptions.SOURCE_PORT, 1, 65535)
                            : mysql ? 3306 : 5432;
            String serverId = null;
            if (mysql) {
                serverId =
                        reader.optionalString(
                                flat,
                                PipelineOptions.SOURCE_SERVER_ID,
                                defaultServerIds(pipelineId + "/" + id, parallelism));
                checkServerIds(fileName, serverId, parallelism);
            }
            SourceConfig source =
                    new SourceConfig(
                            id,
                            type,
                            reader.string(flat, PipelineOptions.SOURCE_HOSTNAME),
                            port,
                            reader.string(flat, PipelineOptions.SOURCE_DATABASE),
                            reader.string(flat, PipelineOptions.SOURCE_USERNAME),
                            reader.optionalString(flat, PipelineOptions.SOURCE_PASSWORD, ""),
                            mysql
                                    ? null
                                    : reader.optionalString(
                                            flat, PipelineOptions.SOURCE_SLOT_NAME, defaultSlot),
                            mysql
                                    ? null
                                    : reader.optionalString(
                                            flat, PipelineOptions.SOURCE_PUBLICATION, defaultSlot),
                            serverId,
                            mysql
                                    ? reader.optionalString(
                                            flat, PipelineOptions.SOURCE_SERVER_TIME_ZONE, "UTC")
                                    : null,
                            mysql ? reader.string(flat, PipelineOptions.SOURCE_BINLOG_ORDER) : null,
                            reader.string(flat, PipelineOptions.SOURCE_STARTUP_MODE),
                            reader.integer(
                                    flat, PipelineOptions.SOURCE_SPLIT_SIZE, 1, Integer.MAX_VALUE),
                            reader.integer(
                                    flat, PipelineOptions.SOURCE_FETCH_SIZE, 1, Integer.MAX_VALUE),
                            reader.duration(flat, PipelineOptions.SOURCE_HEARTBEAT),
                            reader.map(flat, PipelineOptions.SOURCE_PROPERTIES),
                            reader.integer(
                                    flat,
                                    PipelineOptions.SOURCE_RESNAPSHOT_RATE,
                                    1,
                                    Integer.MAX_VALUE));
            if (!mysql && !source.slotName().matches("[a-z0-9_]{1,63}")) {
                throw new ConfigException(
                        String.format(
                                "%s: 'source.slot-name': expected lower-case letters, digits and '_' (at most 63), got '%s'",
                                fileName, source.slotName()));
            }
            return source;
        } catch (ConfigException e) {
            if (spelledAs.equals("source")) {
                throw e;
            }
            throw new ConfigException(e.getMessage().replace("'source.", "'" + spelledAs + "."));
        }
    }

    /** A {@code source.*} key no option names is refused with the nearest known one. */
    private static void checkKnownSourceKeys(Map<String, Object> flat, String fileName) {
        Set<String> known = new HashSet<>();
        PipelineOptions.ALL.stream()
                .map(ConfigKey::name)
                .filter(k -> k.startsWith("source."))
                .forEach(known::add);
        for (String key : flat.keySet()) {
            if (key.startsWith("source.") && !known.contains(key)) {
                throw new ConfigException(
                        String.format(
                                "%s: unknown key '%s'%s",
                                fileName, key, Reader.suggestion(key, known)));
            }
        }
    }

    /**
     * Keys of the other source kind are refused (slot and publication are Postgres', server id,
     * time zone and binlog order MySQL's), and so is {@code committed-offset} on MySQL.
     */
    private static void checkKindKeys(
            Reader reader, Map<String, Object> flat, String fileName, String type) {
        boolean mysql = type.equals(SourceConfig.MYSQL);
        for (ConfigKey only :
                mysql
                        ? List.of(
                                PipelineOptions.SOURCE_SLOT_NAME,
                                PipelineOptions.SOURCE_PUBLICATION)
                        : List.of(
                                PipelineOptions.SOURCE_SERVER_ID,
                                PipelineOptions.SOURCE_SERVER_TIME_ZONE,
                                PipelineOptions.SOURCE_BINLOG_ORDER)) {
            if (flat.containsKey(only.name())) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s' is for %s sources, and this one is %s; remove it",
                                fileName,
                                only.name(),
                                mysql ? SourceConfig.POSTGRES : SourceConfig.MYSQL,
                                type));
            }
        }
        if (mysql
                && "committed-offset"
                        .equals(
                                reader.optionalString(
                                        flat, PipelineOptions.SOURCE_STARTUP_MODE, ""))) {
            throw new ConfigException(
                    String.format(
                            "%s: 'source.startup-mode': committed-offset resumes from a Postgres "
                                    + "replication slot; a mysql source keeps its position only in "
                                    + "checkpoints and savepoints: start from one, or use initial",
                            fileName));
        }
    }

    /**
     * {@code parallelism} consecutive replica server ids from a hash of the pipeline and source, so
     * two pipelines reading one server do not collide by default (5400 to about 6.4 million).
     */
    static String defaultServerIds(String seed, int parallelism) {
        long first = 5_400L + Math.floorMod(seed.hashCode(), 100_000) * 64L;
        return parallelism == 1 ? Long.toString(first) : first + "-" + (first + parallelism - 1);
    }

    private static void checkServerIds(String fileName, String serverId, int parallelism) {
        Matcher m =
                Pattern.compile("\\s*(\\d{1,10})\\s*(?:-\\s*(\\d{1,10})\\s*)?").matcher(serverId);
        if (!m.matches()) {
            throw new ConfigException(
                    String.format(
                            "%s: 'source.server-id': expected a server id or a range 'N-M', got '%s'",
                            fileName, serverId));
        }
        long first = Long.parseLong(m.group(1));
        long last = m.group(2) == null ? first : Long.parseLong(m.group(2));
        if (first < 1 || last > 4_294_967_295L || last < first) {
            throw new ConfigException(
                    String.format(
                            "%s: 'source.server-id': expected ids from 1 to 4294967295, the range ascending, got '%s'",
                            fileName, serverId));
        }
        if (last - first + 1 < parallelism) {
            throw new ConfigException(
                    String.format(
                            "%s: 'source.server-id': %d id(s) for pipeline.parallelism %d; every parallel "
                                    + "binlog reader needs its own, e.g. '%d-%d'",
                            fileName,
                            last - first + 1,
                            parallelism,
                            first,
                            first + parallelism - 1));
        }
    }

    /** Flattens nested maps to dotted keys, stopping at keys whose kind is MAP. */
    private static void flatten(String prefix, Object value, Map<String, Object> out) {
        boolean isMapKey =
                PipelineOptions.ALL.stream()
                        .anyMatch(k -> k.name().equals(prefix) && k.kind() == Kind.MAP);
        if (value instanceof Map && !isMapKey) {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                flatten(prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else {
            out.put(prefix, value);
        }
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("").trim();
    }

    /** Reads typed values from the flattened file, naming the file and key in every error. */
    private static final class Reader {

        private final String file;
        private final Function<String, String> environment;

        Reader(String file, Function<String, String> environment) {
            this.file = file;
            this.environment = environment;
        }

        void checkKnown(Set<String> keys) {
            Set<String> known = new HashSet<>();
            PipelineOptions.ALL.forEach(k -> known.add(k.name()));
            for (String key : keys) {
                if (!known.contains(key)) {
                    throw new ConfigException(
                            String.format(
                                    "%s: unknown key '%s'%s", file, key, suggestion(key, known)));
                }
            }
        }

        String string(Map<String, Object> flat, ConfigKey key) {
            Object raw = flat.get(key.name());
            if (raw == null) {
                if (key.required()) {
                    throw missing(key.name(), key);
                }
                raw = key.defaultValue();
            }
            return check(key, key.name(), scalar(key.name(), raw, key));
        }

        String optionalString(Map<String, Object> flat, ConfigKey key, String fallback) {
            Object raw = flat.get(key.name());
            return raw == null ? fallback : scalar(key.name(), raw, key);
        }

        int integer(Map<String, Object> flat, ConfigKey key, int min, int max) {
            Object raw = flat.get(key.name());
            String text = raw == null ? key.defaultValue() : scalar(key.name(), raw, key);
            try {
                int value = Integer.parseInt(text.trim());
                if (value < min || value > max) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s': expected an integer from %d to %d, got %d",
                                    file, key.name(), min, max, value));
                }
                return value;
            } catch (NumberFormatException e) {
                throw wrongKind(key.name(), key, text);
            }
        }

        Duration duration(Map<String, Object> flat, ConfigKey key) {
            Object raw = flat.get(key.name());
            String text = raw == null ? key.defaultValue() : scalar(key.name(), raw, key);
            try {
                Duration value =
                        text.matches("\\d+")
                                ? Duration.ofMillis(Long.parseLong(text))
                                : TimeUtils.parseDuration(text);
                if (value.isZero() || value.isNegative()) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s': expected a positive duration, got '%s'",
                                    file, key.name(), text));
                }
                return value;
            } catch (IllegalArgumentException e) {
                throw wrongKind(key.name(), key, text);
            }
        }

        Duration durationOrZero(Map<String, Object> flat, ConfigKey key) {
            Object raw = flat.get(key.name());
            String text = raw == null ? key.defaultValue() : scalar(key.name(), raw, key);
            if (text.matches("0+(ms|s|min)?")) {
                return Duration.ZERO;
            }
            return duration(flat, key);
        }

        Map<String, String> map(Map<String, Object> flat, ConfigKey key) {
            Object raw = flat.get(key.name());
            if (raw == null) {
                if (key.required()) {
                    throw missing(key.name(), key);
                }
                return Map.of();
            }
            if (!(raw instanceof Map)) {
                throw wrongKind(key.name(), key, raw);
            }
            Map<String, String> values = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) raw).entrySet()) {
                String name = key.name() + "." + e.getKey();
                if (e.getValue() instanceof Map || e.getValue() instanceof List) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s': expected a string value, got a nested %s",
                                    file, name, e.getValue() instanceof Map ? "map" : "list"));
                }
                values.put(
                        String.valueOf(e.getKey()),
                        e.getValue() == null ? "" : resolve(name, String.valueOf(e.getValue())));
            }
            return values;
        }

        List<TableConfig> tables(Object raw, List<String> sourceIds, String schemaEvolution) {
            if (raw == null) {
                throw new ConfigException(
                        file
                                + ": missing required key 'tables' (a list of {source, target, primary-key})");
            }
            if (!(raw instanceof List) || ((List<?>) raw).isEmpty()) {
                throw new ConfigException(
                        file
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
                                    file, at));
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
                String schemaEvolution) {
            for (Object k : entry.keySet()) {
                if (!known.contains(String.valueOf(k))) {
                    throw new ConfigException(
                            String.format(
                                    "%s: unknown key '%s.%s'%s",
                                    file, at, k, suggestion(String.valueOf(k), known)));
                }
            }
            String sourceName = sourceName(at, entry);
            boolean pattern = TableConfig.isPattern(sourceName);
            String targetName = targetName(at, entry, sourceName, pattern);
            List<String> key = stringList(at + ".primary-key", entry.get("primary-key"));
            String ordering = ordering(at, entry);
            String latePolicy =
                    choice(at, entry, PipelineOptions.TABLE_LATE_POLICY, "apply-if-newer");
            if (!sources.add(sourceName)) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.source': table '%s' is listed twice",
                                file, at, sourceName));
            }
            if (!targets.add(targetName)) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.target': table '%s' is the target of two sources",
                                file, at, targetName));
            }
            List<String> tableSources = tableSources(at, entry, sourceIds, sourceName, ordering);
            Integer contract = contractVersion(at, entry.get("contract"));
            String truncate =
                    choice(at, entry, PipelineOptions.TABLE_TRUNCATE, TableConfig.TRUNCATE_APPLY);
            String evolution = schemaEvolution;
            if (entry.get("schema-evolution") != null) {
                if (entry.get("contract") != null) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s.schema-evolution': the table has a contract, whose "
                                            + "schema-evolution decides; remove it from the entry",
                                    file, at));
                }
                evolution = choice(at, entry, PipelineOptions.TABLE_SCHEMA_EVOLUTION, null);
            }
            String newTables = newTables(at, entry, pattern, sourceName, latePolicy);
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
                    evolution);
        }

        /** The source table (or pattern) of entry {@code at}, as the database stores its name. */
        private String sourceName(String at, Map<?, ?> entry) {
            Object source = entry.get("source");
            if (source == null) {
                throw missing(at + ".source", PipelineOptions.TABLE_SOURCE);
            }
            String written = scalar(at + ".source", source, PipelineOptions.TABLE_SOURCE);
            try {
                // as the database stores it: public."Order Items" is public.Order Items
                return SqlNames.parseQualified(written);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.source': expected schema.table, or a pattern such as schema.* "
                                        + "(MySQL: database.table), got '%s': %s",
                                file, at, written, e.getMessage()));
            }
        }

        /** The ordering rule of entry {@code at}: commit order unless it declares event time. */
        private String ordering(String at, Map<?, ?> entry) {
            String ordering =
                    entry.get("ordering") == null
                            ? TableConfig.COMMIT_ORDER
                            : scalar(
                                    at + ".ordering",
                                    entry.get("ordering"),
                                    PipelineOptions.TABLE_ORDERING);
            if (!TableConfig.isOrdering(ordering)) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.ordering': expected 'commit-order' or"
                                        + " 'event-time:<column>', got '%s'",
                                file, at, ordering));
            }
            return ordering;
        }

        /**
         * The value of entry {@code at}'s key {@code option} (its last name part), one of the
         * option's allowed values, or {@code absent} when the entry does not set it.
         */
        private String choice(String at, Map<?, ?> entry, ConfigKey option, String absent) {
            String name = option.name().substring(option.name().lastIndexOf('.') + 1);
            Object value = entry.get(name);
            return value == null
                    ? absent
                    : check(option, at + "." + name, scalar(at + "." + name, value, option));
        }

        /**
         * The sources feeding entry {@code at}: those it names (each must exist), else every
         * source; more than one needs an event-time ordering (commit order exists within one
         * source).
         */
        private List<String> tableSources(
                String at,
                Map<?, ?> entry,
                List<String> sourceIds,
                String sourceName,
                String ordering) {
            List<String> fedBy = stringList(at + ".sources", entry.get("sources"));
            for (String id : fedBy) {
                if (!sourceIds.contains(id)) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s.sources': no source with id '%s' (sources: %s)",
                                    file, at, id, sourceIds));
                }
            }
            List<String> tableSources = fedBy.isEmpty() ? sourceIds : fedBy;
            if (tableSources.size() > 1 && !ordering.startsWith("event-time:")) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s.ordering': table '%s' is fed by %d sources %s; commit order exists only "
                                        + "within one source, so declare 'event-time:<column>'",
                                file, at, sourceName, tableSources.size(), tableSources));
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
                            : scalar(at + ".target", target, PipelineOptions.TABLE_TARGET);
            if (pattern) {
                if (!targetName.matches("[A-Za-z_]\\w*(\\.[A-Za-z_]\\w*)*\\.\\w*\\*\\w*")) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s.target': the source is a pattern, so the target is "
                                            + "namespace.<name with one *> ('*' becomes each table's name, e.g. lake.*), got '%s'",
                                    file, at, targetName));
                }
                if (entry.get("contract") != null) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s.contract': a contract is one table's; list the table on "
                                            + "its own entry (it then leaves the pattern '%s')",
                                    file, at, sourceName));
                }
            } else if (!targetName.matches("[A-Za-z_][\\w]*(\\.[A-Za-z_][\\w]*)+")) {
                throw new ConfigException(
                        target == null
                                ? String.format(
                                        "%s: '%s.target' is missing and the source's name '%s' is "
                                                + "not one an Iceberg table takes here: name the "
                                                + "target (namespace.table; letters, digits and "
                                                + "underscores, lower case for Trino)",
                                        file, at, sourceName)
                                : String.format(
                                        "%s: '%s.target': expected namespace.table, got '%s'",
                                        file, at, targetName));
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
                                file, at, version));
            }
            return Integer.parseInt(text);
        }

        /** The {@code new-tables} of entry {@code at}: {@code ignore} unless a pattern says. */
        private String newTables(
                String at, Map<?, ?> entry, boolean pattern, String sourceName, String latePolicy) {
            String newTables = "ignore";
            if (entry.get("new-tables") != null) {
                newTables =
                        check(
                                PipelineOptions.TABLE_NEW_TABLES,
                                at + ".new-tables",
                                scalar(
                                        at + ".new-tables",
                                        entry.get("new-tables"),
                                        PipelineOptions.TABLE_NEW_TABLES));
                if (!pattern) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s.new-tables': only a pattern (such as schema.*) can match tables "
                                            + "created later; '%s' is one table",
                                    file, at, sourceName));
                }
                if (newTables.equals(TableConfig.CAPTURE) && latePolicy.equals("quarantine")) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s.late-policy': quarantine needs a late table per target, made "
                                            + "before the start; with 'new-tables: capture' use apply-if-newer or fail",
                                    file, at));
                }
            }
            return newTables;
        }

        private List<String> stringList(String name, Object raw) {
            if (raw == null) {
                return List.of();
            }
            if (raw instanceof String) {
                return List.of(((String) raw).split("\\s*,\\s*"));
            }
            if (!(raw instanceof List) || ((List<?>) raw).isEmpty()) {
                throw wrongKind(name, PipelineOptions.TABLE_PRIMARY_KEY, raw);
            }
            List<String> values = new ArrayList<>();
            for (Object item : (List<?>) raw) {
                if (item instanceof Map || item instanceof List || item == null) {
                    throw wrongKind(name, PipelineOptions.TABLE_PRIMARY_KEY, raw);
                }
                values.add(String.valueOf(item));
            }
            return values;
        }

        private String scalar(String name, Object raw, ConfigKey key) {
            if (raw instanceof Map || raw instanceof List) {
                throw wrongKind(name, key, raw instanceof Map ? "a map" : "a list");
            }
            return resolve(name, String.valueOf(raw));
        }

        private String check(ConfigKey key, String name, String value) {
            if (key.kind() == Kind.ENUM && !key.allowed().contains(value)) {
                throw wrongKind(name, key, value);
            }
            if (key.kind() == Kind.BOOLEAN && !value.equals("true") && !value.equals("false")) {
                throw wrongKind(name, key, value);
            }
            return value;
        }

        private String resolve(String name, String value) {
            Matcher m = ENV_REF.matcher(value);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String resolved = environment.apply(m.group(1));
                if (resolved == null) {
                    throw new ConfigException(
                            String.format(
                                    "%s: '%s': environment variable %s is not set; export it or put the value in the file",
                                    file, name, m.group(1)));
                }
                m.appendReplacement(out, Matcher.quoteReplacement(resolved));
            }
            m.appendTail(out);
            return out.toString();
        }

        private ConfigException missing(String name, ConfigKey key) {
            return new ConfigException(
                    String.format(
                            "%s: missing required key '%s' (%s: %s)",
                            file, name, key.expected(), key.description()));
        }

        private ConfigException wrongKind(String name, ConfigKey key, Object got) {
            String shown = PipelineOptions.isSecret(name) ? "***" : String.valueOf(got);
            return new ConfigException(
                    String.format(
                            "%s: '%s': expected %s, got '%s'", file, name, key.expected(), shown));
        }

        static String suggestion(String key, Set<String> known) {
            return known.stream()
                    .min(Comparator.comparingInt(k -> distance(k, key)))
                    .filter(k -> distance(k, key) <= Math.max(2, key.length() / 4))
                    .map(k -> " (did you mean '" + k + "'?)")
                    .orElse("; see the configuration reference in the README");
        }

        private static int distance(String a, String b) {
            int[] prev = new int[b.length() + 1];
            int[] cur = new int[b.length() + 1];
            for (int j = 0; j <= b.length(); j++) {
                prev[j] = j;
            }
            for (int i = 1; i <= a.length(); i++) {
                cur[0] = i;
                for (int j = 1; j <= b.length(); j++) {
                    int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                    cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
                }
                int[] t = prev;
                prev = cur;
                cur = t;
            }
            return prev[b.length()];
        }
    }
}
