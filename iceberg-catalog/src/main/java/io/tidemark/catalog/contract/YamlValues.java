package io.tidemark.catalog.contract;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Typed reads of a contract file's YAML values; each problem is added, named by its place. */
final class YamlValues {

    private YamlValues() {}

    static void unknownKeys(
            Map<?, ?> map, Set<String> known, String prefix, List<String> problems) {
        for (Object key : map.keySet()) {
            if (!known.contains(String.valueOf(key))) {
                problems.add(prefix + key + ": unknown key (known: " + new TreeSet<>(known) + ")");
            }
        }
    }

    static String string(
            Map<?, ?> map, String key, String prefix, List<String> problems, boolean required) {
        Object value = map.get(key);
        if (value == null) {
            if (required) {
                problems.add(prefix + key + ": required");
            }
            return null;
        }
        if (value instanceof Map || value instanceof List) {
            problems.add(prefix + key + ": expected a single value");
            return null;
        }
        return String.valueOf(value);
    }

    static int integer(Object value, String at, List<String> problems, boolean required) {
        if (value == null) {
            if (required) {
                problems.add(at + ": required");
            }
            return -1;
        }
        if (value instanceof Integer i && i > 0) {
            return i;
        }
        problems.add(at + ": expected a positive integer, got '" + value + "'");
        return -1;
    }
}
