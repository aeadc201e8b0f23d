package io.tidemark.config;

import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.config.ConfigKey.Kind;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
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
 * <p>Precedence: the file, with {@code ${env:NAME}} and {@code ${file:/path}} references resolved.
 */
public final class PipelineConfigLoader {

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
        ConfigReader reader = new ConfigReader(fileName, environment);
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
        flat = ConfigAliases.canonical(flat, fileName, "source");
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
                SourceEntries.read(reader, flat, sourceList, fileName, pipelineId, parallelism);
        Map<String, String> catalogProperties = readCatalog(reader, flat, fileName);
        String contractsDir = reader.optionalString(flat, PipelineOptions.CONTRACTS_DIR, null);
        List<TableConfig> tableConfigs =
                new TableEntries(reader)
                        .tables(
                                tables,
                                sources.stream().map(SourceConfig::id).toList(),
                                EvolutionPolicy.parse(
                                        reader.string(flat, PipelineOptions.SCHEMA_EVOLUTION)));
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
                new ReconcileConfig(
                        reader.durationOrZero(flat, PipelineOptions.RECONCILE_EMIT_DELAY),
                        reader.durationOrZero(flat, PipelineOptions.RECONCILE_ALLOWED_LATENESS),
                        reader.duration(flat, PipelineOptions.RECONCILE_RETENTION),
                        reader.duration(flat, PipelineOptions.RECONCILE_IDLENESS),
                        reader.integer(
                                flat,
                                PipelineOptions.RECONCILE_TRANSACTION_MAX_CHANGES,
                                0,
                                10_000_000)),
                tableConfigs,
                contractsDir,
                List.of(),
                maintenance(reader, flat, catalogProperties, fileName),
                points(reader, flat, fileName),
                origins(flat));
    }

    /** {@code points.*}: a table name {@code namespace.table}, or none. */
    private static PointsConfig points(
            ConfigReader reader, Map<String, Object> flat, String fileName) {
        String table = reader.optionalString(flat, PointsOptions.TABLE, null);
        if (table != null && table.split("\\.").length < 2) {
            throw new ConfigException(
                    String.format(
                            "%s: 'points.table': '%s' is not <namespace>.<table>: name the Iceberg"
                                    + " table of the pipeline's consistent points, for example"
                                    + " shop.tidemark_points",
                            fileName, table));
        }
        return new PointsConfig(table, reader.integer(flat, PointsOptions.RETAIN, 1, 100_000_000));
    }

    /** Which of the Flink settings the file names (the others are the platform's or defaults). */
    private static Map<String, String> origins(Map<String, Object> flat) {
        Map<String, String> origins = new java.util.HashMap<>();
        for (ConfigKey key : PipelineConfig.FLINK_SETTINGS) {
            origins.put(
                    key.name(),
                    flat.containsKey(key.name())
                            ? PipelineConfig.FROM_FILE
                            : PipelineConfig.FROM_DEFAULT);
        }
        return origins;
    }

    /** The {@code maintenance.*} settings; a task scheduled without a lock is refused. */
    private static MaintenanceConfig maintenance(
            ConfigReader reader,
            Map<String, Object> flat,
            Map<String, String> catalogProperties,
            String fileName) {
        String lock =
                reader.optionalString(
                        flat,
                        MaintenanceOptions.LOCK_URI,
                        "jdbc".equals(catalogProperties.get("type"))
                                ? catalogProperties.get("uri")
                                : null);
        MaintenanceConfig maintenance =
                new MaintenanceConfig(
                        flat.containsKey(MaintenanceOptions.COMPACT_EVERY.name())
                                ? reader.integer(
                                        flat,
                                        MaintenanceOptions.COMPACT_EVERY,
                                        0,
                                        Integer.MAX_VALUE)
                                : 0,
                        flat.containsKey(MaintenanceOptions.COMPACT_DELETE_FILE_THRESHOLD.name())
                                ? reader.integer(
                                        flat,
                                        MaintenanceOptions.COMPACT_DELETE_FILE_THRESHOLD,
                                        0,
                                        Integer.MAX_VALUE)
                                : 0,
                        flat.containsKey(MaintenanceOptions.FOLD_DELETES_EVERY.name())
                                ? reader.integer(
                                        flat,
                                        MaintenanceOptions.FOLD_DELETES_EVERY,
                                        0,
                                        Integer.MAX_VALUE)
                                : 0,
                        flat.containsKey(MaintenanceOptions.EXPIRE_EVERY.name())
                                ? reader.integer(
                                        flat, MaintenanceOptions.EXPIRE_EVERY, 0, Integer.MAX_VALUE)
                                : 0,
                        reader.integer(flat, MaintenanceOptions.RETAIN_LAST, 1, Integer.MAX_VALUE),
                        reader.duration(flat, MaintenanceOptions.MAX_SNAPSHOT_AGE),
                        flat.containsKey(MaintenanceOptions.ORPHANS_EVERY.name())
                                ? reader.durationOrZero(flat, MaintenanceOptions.ORPHANS_EVERY)
                                : Duration.ZERO,
                        reader.duration(flat, MaintenanceOptions.ORPHANS_MIN_AGE),
                        reader.duration(flat, MaintenanceOptions.MIN_INTERVAL),
                        lock);
        if (!maintenance.orphanFilesEvery().isZero()
                && maintenance.orphanFilesMinAge().compareTo(Duration.ofHours(1)) < 0) {
            // a file the writers wrote waits in a checkpoint until the checkpoint completes and
            // the committer commits it: removed as an orphan meanwhile, its rows would be lost
            throw new ConfigException(
                    String.format(
                            "%s: 'maintenance.orphan-files.min-age': expected at least 1h, got %s:"
                                    + " a file younger than that may belong to a commit under way"
                                    + " (written, waiting for its checkpoint to complete); keep"
                                    + " the default, 3d, unless files must go sooner",
                            fileName, maintenance.orphanFilesMinAge()));
        }
        if (maintenance.minInterval().toSeconds() < 1) {
            throw new ConfigException(
                    String.format(
                            "%s: 'maintenance.min-interval': expected at least 1s, got %s",
                            fileName, maintenance.minInterval()));
        }
        if (maintenance.enabled() && lock == null) {
            throw new ConfigException(
                    String.format(
                            "%s: 'maintenance': a table's maintenance runs under a lock in a JDBC "
                                    + "database, and the catalog is not a JDBC catalog: set "
                                    + "'maintenance.lock.jdbc-uri' (for example the JDBC URL of a "
                                    + "Postgres database the job can write to)",
                            fileName));
        }
        return maintenance;
    }

    /** The catalog's properties, its {@code type} (or {@code catalog-impl}) required. */
    private static Map<String, String> readCatalog(
            ConfigReader reader, Map<String, Object> flat, String fileName) {
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
                if (table.sources().contains(source.id()) && !source.kind().followsNewTables()) {
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
                                    source.kind()));
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

    /** Flattens nested maps to dotted keys, stopping at keys whose kind is MAP. */
    static void flatten(String prefix, Object value, Map<String, Object> out) {
        boolean isMapKey =
                ConfigAliases.isMap(prefix)
                        || PipelineOptions.ALL.stream()
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
}
