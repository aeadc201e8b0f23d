package io.tidemark.config;

import io.tidemark.catalog.TableLayout;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.decode.BinlogOrder;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A validated pipeline file. Immutable; produced by {@link PipelineConfigLoader}. Values come from
 * the file, with {@code ${env:NAME}} and {@code ${file:/path}} references resolved; the command
 * line overrides only the run id. {@link #describe()} prints it with secrets masked.
 */
public record PipelineConfig(
        String pipelineId,
        String jobName,
        int parallelism,
        int maxParallelism,
        Duration checkpointInterval,
        Duration checkpointTimeout,
        String checkpointDir,
        String savepointDir,
        String stateBackend,
        List<SourceConfig> sources,
        String catalogName,
        Map<String, String> catalogProperties,
        ReconcileConfig reconcile,
        List<TableConfig> tables,
        String contractsDir,
        List<TableConfig> liveTables,
        MaintenanceConfig maintenance,
        PointsConfig points,
        Map<String, String> origins)
        implements Serializable {

    /** The origin of a Flink setting the pipeline file names. */
    public static final String FROM_FILE = "pipeline file";

    /** The origin of a Flink setting neither the file nor the platform names: Tidemark's. */
    public static final String FROM_DEFAULT = "default";

    /**
     * The Flink settings a pipeline file may leave to the platform ({@code
     * io.tidemark.job.PlatformSettings} resolves them): their {@link #origins} are recorded.
     */
    public static final List<ConfigKey> FLINK_SETTINGS =
            List.of(
                    PipelineOptions.PARALLELISM,
                    PipelineOptions.MAX_PARALLELISM,
                    PipelineOptions.CHECKPOINT_INTERVAL,
                    PipelineOptions.CHECKPOINT_TIMEOUT,
                    PipelineOptions.STATE_BACKEND);

    public PipelineConfig {
        sources = List.copyOf(sources);
        catalogProperties = Map.copyOf(catalogProperties);
        tables = List.copyOf(tables);
        liveTables = List.copyOf(liveTables);
        origins = Map.copyOf(origins);
    }

    /**
     * Where the value of {@code key}, one of {@link #FLINK_SETTINGS}, came from: {@link
     * #FROM_FILE}, {@link #FROM_DEFAULT}, or the platform's configuration ({@code platform: <flink
     * key>}).
     */
    public String origin(ConfigKey key) {
        return origins.getOrDefault(key.name(), FROM_FILE);
    }

    /** Whether the pipeline file names {@code key}. */
    public boolean fromFile(ConfigKey key) {
        return origin(key).equals(FROM_FILE);
    }

    /**
     * This pipeline with the Flink settings resolved against the platform's: each value with its
     * origin. A MySQL source's derived {@code server-id} range follows the parallelism; one the
     * file names must hold enough ids for it.
     */
    public PipelineConfig withFlinkSettings(
            int parallelism,
            int maxParallelism,
            Duration checkpointInterval,
            Duration checkpointTimeout,
            String stateBackend,
            Map<String, String> origins) {
        if (maxParallelism < parallelism) {
            throw new ConfigException(
                    String.format(
                            "max parallelism %d (%s) is below the parallelism %d (%s): set "
                                    + "'pipeline.max-parallelism' in the pipeline file, at least "
                                    + "the parallelism, and keep it for the life of the state",
                            maxParallelism,
                            origins.get(PipelineOptions.MAX_PARALLELISM.name()),
                            parallelism,
                            origins.get(PipelineOptions.PARALLELISM.name())));
        }
        List<SourceConfig> resolved =
                sources.stream()
                        .map(
                                s ->
                                        SourceEntries.withParallelism(
                                                s, pipelineId, this.parallelism, parallelism))
                        .toList();
        return new PipelineConfig(
                pipelineId,
                jobName,
                parallelism,
                maxParallelism,
                checkpointInterval,
                checkpointTimeout,
                checkpointDir,
                savepointDir,
                stateBackend,
                resolved,
                catalogName,
                catalogProperties,
                reconcile,
                tables,
                contractsDir,
                liveTables,
                maintenance,
                points,
                origins);
    }

    /** This pipeline with the reconciler's {@link ReconcileConfig#replayedThrough} set. */
    public PipelineConfig withReplayedThrough(Map<String, String> replayedThrough) {
        return with(sources, tables, liveTables, reconcile.withReplayedThrough(replayedThrough));
    }

    /**
     * This pipeline with {@code tables} instead of its own (patterns resolved to tables), and the
     * patterns whose tables created while the job runs are captured ({@code new-tables: capture}).
     */
    public PipelineConfig withTables(List<TableConfig> resolved, List<TableConfig> live) {
        return with(sources, resolved, live, reconcile);
    }

    /**
     * This pipeline with each source as {@code change} makes it ({@code run --fresh
     * --keep-serving}: the log from where each source's is now).
     */
    public PipelineConfig withSources(java.util.function.UnaryOperator<SourceConfig> change) {
        return with(sources.stream().map(change).toList(), tables, liveTables, reconcile);
    }

    private PipelineConfig with(
            List<SourceConfig> sources,
            List<TableConfig> tables,
            List<TableConfig> live,
            ReconcileConfig reconcile) {
        return new PipelineConfig(
                pipelineId,
                jobName,
                parallelism,
                maxParallelism,
                checkpointInterval,
                checkpointTimeout,
                checkpointDir,
                savepointDir,
                stateBackend,
                sources,
                catalogName,
                catalogProperties,
                reconcile,
                tables,
                contractsDir,
                live,
                maintenance,
                points,
                origins);
    }

    /**
     * Fails if a table entry is still a pattern: whatever builds the job must resolve patterns
     * against the source first ({@code io.tidemark.source.TableDiscovery}).
     */
    public void requireResolvedTables() {
        for (TableConfig table : tables) {
            if (table.isPattern()) {
                throw new IllegalStateException(
                        "table pattern '"
                                + table.source()
                                + "' is not resolved; resolve the pipeline's patterns with "
                                + "TableDiscovery.resolve before preparing the job");
            }
        }
    }

    /** The first (in a single-source pipeline, the only) source. */
    public SourceConfig source() {
        return sources.get(0);
    }

    /**
     * The source database connection and capture settings. Settings of another kind of source are
     * null; so is {@code binlogOrder} under {@code auto} (resolved against the server when the job
     * is built).
     */
    public record SourceConfig(
            String id,
            SourceKind kind,
            String hostname,
            int port,
            String database,
            String username,
            String password,
            String slotName,
            String publication,
            String serverId,
            String serverTimeZone,
            BinlogOrder binlogOrder,
            StartupMode startupMode,
            int splitSize,
            int fetchSize,
            Duration heartbeatInterval,
            Map<String, String> properties,
            Map<String, String> jdbcProperties,
            int resnapshotRowsPerSecond,
            Duration resnapshotPollInterval,
            boolean tinyInt1AsBoolean,
            Map<String, String> startOffset)
            implements Serializable {

        public SourceConfig {
            properties = Map.copyOf(properties);
            jdbcProperties = Map.copyOf(jdbcProperties);
            startOffset = Map.copyOf(startOffset);
        }

        /** This source starting at {@code mode}. */
        public SourceConfig withStartupMode(StartupMode mode) {
            return SourceEntries.copy(this, serverId, mode, Map.of());
        }

        /**
         * This source reading the log from {@code offset} (a MySQL binlog offset as Flink CDC keeps
         * it: file, position and, placed by GTID, the executed set), no snapshot ({@code run
         * --fresh --keep-serving}); empty {@link #startOffset}: as {@code startupMode} says.
         */
        public SourceConfig startingAt(Map<String, String> offset) {
            return SourceEntries.copy(this, serverId, StartupMode.LATEST_OFFSET, offset);
        }

        /** JDBC URL of the source database. */
        public String jdbcUrl() {
            return kind.jdbcUrl(this);
        }

        @Override
        public String toString() {
            return "SourceConfig{"
                    + kind
                    + " "
                    + username
                    + "@"
                    + hostname
                    + ":"
                    + port
                    + "/"
                    + database
                    + " "
                    + kind.describeCapture(this)
                    + "}";
        }
    }

    /**
     * One captured table. {@code primaryKey} is empty when the file leaves it to the source table's
     * primary key.
     */
    public record TableConfig(
            String source,
            String target,
            List<String> primaryKey,
            Ordering ordering,
            LatePolicy latePolicy,
            List<String> sources,
            Integer contract,
            NewTables newTables,
            TruncatePolicy truncate,
            EvolutionPolicy schemaEvolution,
            List<String> exclude,
            TableLayout layout,
            boolean history)
            implements Serializable {

        public TableConfig {
            primaryKey = List.copyOf(primaryKey);
            sources = List.copyOf(sources);
            exclude = List.copyOf(exclude);
        }

        /**
         * Whether {@code source} names tables by pattern: {@code *} (any characters) or {@code ?}
         * (one) in the table part, for example {@code shop.*} for every table of {@code shop}.
         */
        public boolean isPattern() {
            return isPattern(source);
        }

        /** Whether the table is ordered by its source's commit order. */
        public boolean orderedByCommit() {
            return ordering.byCommit();
        }

        static boolean isPattern(String name) {
            return name.indexOf('*') >= 0 || name.indexOf('?') >= 0;
        }

        /**
         * Whether this entry (a pattern or a table) covers table {@code table} of its namespace.
         */
        public boolean matches(String table) {
            return table.matches(regex(source))
                    && exclude.stream().noneMatch(excluded -> table.matches(regex(excluded)));
        }

        /**
         * The regular expression of the tables this entry covers: {@link #regex} of its source,
         * preceded by a negative lookahead of its {@code exclude} list; what Debezium's table
         * filter reads.
         */
        public String filterRegex() {
            if (exclude.isEmpty()) {
                return regex(source);
            }
            StringBuilder excluded = new StringBuilder();
            for (String name : exclude) {
                excluded.append(excluded.length() == 0 ? "" : "|").append(regex(name));
            }
            return "(?!(?:" + excluded + ")$)" + regex(source);
        }

        /**
         * The regular expression of a table name or pattern, {@code schema.table} with {@code *}
         * any characters of a name and {@code ?} one; every other character but letters, digits and
         * '_' is escaped (names are kept as the database stores them, spaces and all). Debezium's
         * table filter reads the same expression.
         */
        public static String regex(String pattern) {
            StringBuilder regex = new StringBuilder();
            for (char c : pattern.toCharArray()) {
                switch (c) {
                    case '*' -> regex.append("[^.]*");
                    case '?' -> regex.append("[^.]");
                    case '.' -> regex.append("\\.");
                    default -> {
                        // spaces, '$' and the like, literally (names are kept as stored)
                        if (!Character.isLetterOrDigit(c) && c != '_') {
                            regex.append('\\');
                        }
                        regex.append(c);
                    }
                }
            }
            return regex.toString();
        }

        /**
         * The entry of one table this pattern matched: its target's {@code *} is the table name.
         */
        public TableConfig forTable(String table) {
            String name = table.substring(table.indexOf('.') + 1);
            return new TableConfig(
                    table,
                    target.replace("*", name),
                    primaryKey,
                    ordering,
                    latePolicy,
                    sources,
                    contract,
                    newTables,
                    truncate,
                    schemaEvolution,
                    List.of(),
                    layout,
                    history);
        }

        /** A table of the only source with the default ordering and late policy. */
        public TableConfig(String source, String target, List<String> primaryKey) {
            this(
                    source,
                    target,
                    primaryKey,
                    Ordering.COMMIT_ORDER,
                    LatePolicy.APPLY_IF_NEWER,
                    List.of(io.tidemark.decode.ChangeEvent.DEFAULT_SOURCE),
                    null,
                    NewTables.IGNORE,
                    TruncatePolicy.APPLY,
                    EvolutionPolicy.EVOLVE,
                    List.of(),
                    TableLayout.NONE,
                    false);
        }

        /** Whether tables this pattern matches that are created while the job runs are captured. */
        public boolean capturesNewTables() {
            return isPattern() && newTables == NewTables.CAPTURE;
        }

        /** The source table whose Iceberg table {@code target} this pattern names, or null. */
        public String sourceOfTarget(String target) {
            int star = this.target.indexOf('*');
            String prefix = this.target.substring(0, star);
            String suffix = this.target.substring(star + 1);
            if (!target.startsWith(prefix)
                    || !target.endsWith(suffix)
                    || target.length() < prefix.length() + suffix.length()) {
                return null;
            }
            String name = target.substring(prefix.length(), target.length() - suffix.length());
            String table = source.substring(0, source.indexOf('.') + 1) + name;
            return matches(table) && forTable(table).target().equals(target) ? table : null;
        }
    }

    /** The configuration as YAML-like text with every secret shown as {@code ***}. */
    public String describe() {
        return ConfigDescription.of(this);
    }

    /** Never prints secrets. */
    @Override
    public String toString() {
        return "PipelineConfig{"
                + pipelineId
                + ", "
                + sources
                + ", catalog="
                + catalogName
                + ", tables="
                + tables
                + "}";
    }
}
