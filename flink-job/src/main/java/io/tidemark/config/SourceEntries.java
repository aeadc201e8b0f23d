package io.tidemark.config;

import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.decode.BinlogOrder;
import io.tidemark.decode.ChangeEvent;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The sources of a pipeline file ({@code source}, or the list {@code sources}): each read and
 * checked, with the defaults of its kind (port, slot and publication, replica server ids).
 */
final class SourceEntries {

    private SourceEntries() {}

    /**
     * The pipeline's sources: {@code source} (one database, id {@link ChangeEvent#DEFAULT_SOURCE})
     * or the list {@code sources}, each with its id; never both.
     */
    static List<SourceConfig> read(
            ConfigReader reader,
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
                PipelineConfigLoader.flatten("source", entries.get(i), entryFlat);
                entryFlat = ConfigAliases.canonical(entryFlat, fileName, at);
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

    /**
     * Reads one source from {@code flat} (keys {@code source.*}); errors name the key as the file
     * spells it ({@code source.x} or {@code sources[i].x}).
     */
    private static SourceConfig readSource(
            ConfigReader reader,
            Map<String, Object> flat,
            String fileName,
            String spelledAs,
            String pipelineId,
            String id,
            String defaultSlot,
            int parallelism) {
        try {
            checkKnownSourceKeys(flat, fileName);
            SourceKind kind = SourceKind.of(reader.string(flat, PipelineOptions.SOURCE_TYPE));
            checkKindKeys(reader, flat, fileName, kind);
            int port =
                    flat.containsKey(PipelineOptions.SOURCE_PORT.name())
                            ? reader.integer(flat, PipelineOptions.SOURCE_PORT, 1, 65535)
                            : kind.defaultPort();
            String serverId =
                    kind.owns(PipelineOptions.SOURCE_SERVER_ID)
                            ? serverId(reader, flat, fileName, pipelineId + "/" + id, parallelism)
                            : null;
            String slotName =
                    kind.owns(PipelineOptions.SOURCE_SLOT_NAME)
                            ? slotName(reader, flat, fileName, defaultSlot)
                            : null;
            Map<String, String> jdbcProperties =
                    reader.map(flat, PipelineOptions.SOURCE_JDBC_PROPERTIES);
            if (kind == SourceKind.MYSQL) {
                for (String fixed : SourceKind.MYSQL_FIXED) {
                    if (jdbcProperties.containsKey(fixed)) {
                        throw new ConfigException(
                                String.format(
                                        "%s: 'source.jdbc.properties.%s': Tidemark sets it (the server's "
                                                + "time zone from source.server-time-zone, zero dates as "
                                                + "null, as the binlog reader reads them); remove it",
                                        fileName, fixed));
                    }
                }
                for (String typed :
                        List.of("column.propagate.source.type", "datatype.propagate.source.type")) {
                    if (reader.map(flat, PipelineOptions.SOURCE_DEBEZIUM).containsKey(typed)) {
                        throw new ConfigException(
                                String.format(
                                        "%s: 'source.debezium.%s': Tidemark sets it (a column's source"
                                                + " type tells the decoder a tinyint(1) to read as"
                                                + " a boolean: source.treat-tinyint1-as-boolean"
                                                + ".enabled); remove it",
                                        fileName, typed));
                    }
                }
            }
            SourceConfig source =
                    new SourceConfig(
                            id,
                            kind,
                            reader.string(flat, PipelineOptions.SOURCE_HOSTNAME),
                            port,
                            reader.string(flat, PipelineOptions.SOURCE_DATABASE),
                            reader.string(flat, PipelineOptions.SOURCE_USERNAME),
                            reader.optionalString(flat, PipelineOptions.SOURCE_PASSWORD, ""),
                            slotName,
                            kind.owns(PipelineOptions.SOURCE_PUBLICATION)
                                    ? reader.optionalString(
                                            flat, PipelineOptions.SOURCE_PUBLICATION, defaultSlot)
                                    : null,
                            serverId,
                            kind.owns(PipelineOptions.SOURCE_SERVER_TIME_ZONE)
                                    ? reader.optionalString(
                                            flat, PipelineOptions.SOURCE_SERVER_TIME_ZONE, "UTC")
                                    : null,
                            kind.owns(PipelineOptions.SOURCE_BINLOG_ORDER)
                                    ? binlogOrder(
                                            reader.string(
                                                    flat, PipelineOptions.SOURCE_BINLOG_ORDER))
                                    : null,
                            FileValue.parse(
                                    StartupMode.class,
                                    reader.string(flat, PipelineOptions.SOURCE_STARTUP_MODE)),
                            reader.integer(
                                    flat, PipelineOptions.SOURCE_SPLIT_SIZE, 1, Integer.MAX_VALUE),
                            reader.integer(
                                    flat, PipelineOptions.SOURCE_FETCH_SIZE, 1, Integer.MAX_VALUE),
                            reader.duration(flat, PipelineOptions.SOURCE_HEARTBEAT),
                            reader.map(flat, PipelineOptions.SOURCE_DEBEZIUM),
                            jdbcProperties,
                            reader.integer(
                                    flat,
                                    PipelineOptions.SOURCE_RESNAPSHOT_RATE,
                                    1,
                                    Integer.MAX_VALUE),
                            reader.duration(flat, PipelineOptions.SOURCE_RESNAPSHOT_POLL),
                            kind.owns(PipelineOptions.SOURCE_TINYINT1_AS_BOOLEAN)
                                    && "true"
                                            .equals(
                                                    reader.string(
                                                            flat,
                                                            PipelineOptions
                                                                    .SOURCE_TINYINT1_AS_BOOLEAN)),
                            Map.of());
            return source;
        } catch (ConfigException e) {
            if (spelledAs.equals("source")) {
                throw e;
            }
            throw new ConfigException(e.getMessage().replace("'source.", "'" + spelledAs + "."));
        }
    }

    /** {@code source.server-id}, by default a range derived from {@code seed}; checked. */
    private static String serverId(
            ConfigReader reader,
            Map<String, Object> flat,
            String fileName,
            String seed,
            int parallelism) {
        String serverId =
                reader.optionalString(
                        flat,
                        PipelineOptions.SOURCE_SERVER_ID,
                        defaultServerIds(seed, parallelism));
        checkServerIds(fileName, serverId, parallelism);
        return serverId;
    }

    /** {@code source.slot.name}, by default {@code defaultSlot}; a name Postgres takes. */
    private static String slotName(
            ConfigReader reader, Map<String, Object> flat, String fileName, String defaultSlot) {
        String slotName =
                reader.optionalString(flat, PipelineOptions.SOURCE_SLOT_NAME, defaultSlot);
        if (!slotName.matches("[a-z0-9_]{1,63}")) {
            throw new ConfigException(
                    String.format(
                            "%s: 'source.slot.name': expected lower-case letters, digits and '_' (at most 63), got '%s'",
                            fileName, slotName));
        }
        return slotName;
    }

    /** {@code source.binlog-order}: null for {@code auto}, resolved against the server. */
    private static BinlogOrder binlogOrder(String text) {
        return switch (text) {
            case "gtid" -> BinlogOrder.GTID;
            case "binlog-position" -> BinlogOrder.BINLOG_POSITION;
            default -> null;
        };
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
                                fileName, key, ConfigReader.suggestion(key, known)));
            }
        }
    }

    /**
     * Keys of the other source kind are refused (slot and publication are Postgres', server id,
     * time zone and binlog order MySQL's), and so is {@code committed-offset} on MySQL.
     */
    private static void checkKindKeys(
            ConfigReader reader, Map<String, Object> flat, String fileName, SourceKind kind) {
        for (ConfigKey only : kind.foreignKeys()) {
            if (flat.containsKey(only.name())) {
                SourceKind owner =
                        Stream.of(SourceKind.values()).filter(k -> k.owns(only)).findFirst().get();
                throw new ConfigException(
                        String.format(
                                "%s: '%s' is for %s sources, and this one is %s; remove it",
                                fileName, only.name(), owner, kind));
            }
        }
        if (!kind.resumesFromSource()
                && "committed-offset"
                        .equals(
                                reader.optionalString(
                                        flat, PipelineOptions.SOURCE_STARTUP_MODE, ""))) {
            throw new ConfigException(
                    String.format(
                            "%s: 'source.scan.startup.mode': committed-offset resumes from a Postgres "
                                    + "replication slot; a %s source keeps its position only in "
                                    + "checkpoints and savepoints: start from one, or use initial",
                            fileName, kind));
        }
    }

    /**
     * {@code source} read at {@code parallelism} instead of {@code was}: a MySQL source's derived
     * server-id range follows it; a range the file names must hold enough ids.
     */
    static SourceConfig withParallelism(
            SourceConfig source, String pipelineId, int was, int parallelism) {
        if (source.serverId() == null || was == parallelism) {
            return source;
        }
        String seed = pipelineId + "/" + source.id();
        if (!source.serverId().equals(defaultServerIds(seed, was))) {
            checkServerIds("the pipeline file", source.serverId(), parallelism);
            return source;
        }
        return copy(
                source,
                defaultServerIds(seed, parallelism),
                source.startupMode(),
                source.startOffset());
    }

    /** {@code source} with {@code serverId}, starting at {@code mode} or {@code startOffset}. */
    static SourceConfig copy(
            SourceConfig source,
            String serverId,
            StartupMode mode,
            Map<String, String> startOffset) {
        return new SourceConfig(
                source.id(),
                source.kind(),
                source.hostname(),
                source.port(),
                source.database(),
                source.username(),
                source.password(),
                source.slotName(),
                source.publication(),
                serverId,
                source.serverTimeZone(),
                source.binlogOrder(),
                mode,
                source.splitSize(),
                source.fetchSize(),
                source.heartbeatInterval(),
                source.properties(),
                source.jdbcProperties(),
                source.resnapshotRowsPerSecond(),
                source.resnapshotPollInterval(),
                source.tinyInt1AsBoolean(),
                startOffset);
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
}
