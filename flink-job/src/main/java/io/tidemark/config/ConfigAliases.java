package io.tidemark.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The names a pipeline file may also use: Tidemark's names before it took Flink CDC's for the same
 * option (deprecated, accepted with a warning for one release), and Flink CDC's prefixed
 * pass-through keys ({@code debezium.*}, {@code jdbc.properties.*}) written flat. Applied to the
 * flattened file before its keys are checked, so everything after sees one name per option.
 */
final class ConfigAliases {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigAliases.class);

    /** Deprecated name, then the name that replaced it (Flink CDC's). */
    static final Map<String, ConfigKey> DEPRECATED = deprecated();

    /** Map options whose entries may also be written flat, {@code <name>.<entry>: value}. */
    static final List<ConfigKey> PREFIXED_MAPS =
            List.of(PipelineOptions.SOURCE_DEBEZIUM, PipelineOptions.SOURCE_JDBC_PROPERTIES);

    private ConfigAliases() {}

    private static Map<String, ConfigKey> deprecated() {
        Map<String, ConfigKey> aliases = new LinkedHashMap<>();
        aliases.put("source.slot-name", PipelineOptions.SOURCE_SLOT_NAME);
        aliases.put("source.startup-mode", PipelineOptions.SOURCE_STARTUP_MODE);
        aliases.put("source.snapshot.split-size", PipelineOptions.SOURCE_SPLIT_SIZE);
        aliases.put("source.snapshot.fetch-size", PipelineOptions.SOURCE_FETCH_SIZE);
        aliases.put("source.heartbeat-interval", PipelineOptions.SOURCE_HEARTBEAT);
        aliases.put("source.properties", PipelineOptions.SOURCE_DEBEZIUM);
        return Map.copyOf(aliases);
    }

    /** Whether {@code name} holds a map: a map option, or the deprecated name of one. */
    static boolean isMap(String name) {
        ConfigKey key = DEPRECATED.get(name);
        return key != null && key.kind() == ConfigKey.Kind.MAP;
    }

    /**
     * {@code flat} with every deprecated name replaced by its new one (a warning each) and flat
     * entries of the prefixed maps gathered into their map; {@code spelledAs} is how the file
     * spells the section ({@code source} or {@code sources[i]}), for messages.
     */
    static Map<String, Object> canonical(
            Map<String, Object> flat, String fileName, String spelledAs) {
        Map<String, Object> out = new LinkedHashMap<>();
        List<String> renamed = new ArrayList<>();
        for (Map.Entry<String, Object> entry : flat.entrySet()) {
            ConfigKey replacement = DEPRECATED.get(entry.getKey());
            if (replacement == null) {
                continue;
            }
            if (flat.containsKey(replacement.name())) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s' and '%s' name the same option; keep '%s'",
                                fileName,
                                spelled(entry.getKey(), spelledAs),
                                spelled(replacement.name(), spelledAs),
                                spelled(replacement.name(), spelledAs)));
            }
            renamed.add(entry.getKey());
        }
        for (Map.Entry<String, Object> entry : flat.entrySet()) {
            ConfigKey replacement = DEPRECATED.get(entry.getKey());
            out.put(replacement == null ? entry.getKey() : replacement.name(), entry.getValue());
        }
        for (String old : renamed) {
            LOG.warn(
                    "{}: '{}' is deprecated and will be removed in the next release; use '{}', the name Flink CDC gives it",
                    fileName,
                    spelled(old, spelledAs),
                    spelled(DEPRECATED.get(old).name(), spelledAs));
        }
        for (ConfigKey map : PREFIXED_MAPS) {
            gather(out, map, fileName, spelledAs);
        }
        return out;
    }

    /** Moves the flat entries {@code <map>.<entry>} of {@code out} into the map {@code map}. */
    private static void gather(
            Map<String, Object> out, ConfigKey map, String fileName, String spelledAs) {
        String prefix = map.name() + ".";
        Map<String, Object> entries = new LinkedHashMap<>();
        Object nested = out.get(map.name());
        if (nested instanceof Map<?, ?> m) {
            m.forEach((k, v) -> entries.put(String.valueOf(k), v));
        } else if (nested != null) {
            // not a map: the reader names what it expected
            return;
        }
        List<String> flatKeys = new ArrayList<>();
        for (String key : out.keySet()) {
            if (key.startsWith(prefix)) {
                flatKeys.add(key);
            }
        }
        if (flatKeys.isEmpty()) {
            return;
        }
        for (String key : flatKeys) {
            String entry = key.substring(prefix.length());
            if (entries.containsKey(entry)) {
                throw new ConfigException(
                        String.format(
                                "%s: '%s' is set twice (once in the map '%s')",
                                fileName, spelled(key, spelledAs), spelled(map.name(), spelledAs)));
            }
            entries.put(entry, out.remove(key));
        }
        out.put(map.name(), entries);
    }

    private static String spelled(String key, String spelledAs) {
        return key.startsWith("source.") ? spelledAs + key.substring("source".length()) : key;
    }
}
