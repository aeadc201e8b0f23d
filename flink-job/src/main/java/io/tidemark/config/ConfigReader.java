package io.tidemark.config;

import io.tidemark.config.ConfigKey.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

/**
 * Reads typed values from a flattened pipeline file, naming the file and the key in every error;
 * {@code ${env:NAME}} and {@code ${file:/path}} references are resolved as they are read.
 */
final class ConfigReader {

    private static final Pattern REF =
            Pattern.compile("\\$\\{(?:env:([A-Za-z_][A-Za-z0-9_]*)|file:([^}]+))}");

    private final String file;
    private final Function<String, String> environment;

    ConfigReader(String file, Function<String, String> environment) {
        this.file = file;
        this.environment = environment;
    }

    void checkKnown(Set<String> keys) {
        Set<String> known = new HashSet<>();
        PipelineOptions.ALL.forEach(k -> known.add(k.name()));
        for (String key : keys) {
            if (!known.contains(key)) {
                throw new ConfigException(
                        String.format("%s: unknown key '%s'%s", file, key, suggestion(key, known)));
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

    List<String> stringList(String name, Object raw) {
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

    String scalar(String name, Object raw, ConfigKey key) {
        if (raw instanceof Map || raw instanceof List) {
            throw wrongKind(name, key, raw instanceof Map ? "a map" : "a list");
        }
        return resolve(name, String.valueOf(raw));
    }

    String check(ConfigKey key, String name, String value) {
        if (key.kind() == Kind.ENUM && !key.allowed().contains(value)) {
            throw wrongKind(name, key, value);
        }
        if (key.kind() == Kind.BOOLEAN && !value.equals("true") && !value.equals("false")) {
            throw wrongKind(name, key, value);
        }
        return value;
    }

    /**
     * {@code value} with its {@code ${env:NAME}} references replaced by the variable's value and
     * its {@code ${file:/path}} references by the file's content without its final line break (a
     * Kubernetes or Docker secret mounted as a file).
     */
    String resolve(String name, String value) {
        Matcher m = REF.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String resolved =
                    m.group(1) != null ? variable(name, m.group(1)) : file(name, m.group(2));
            m.appendReplacement(out, Matcher.quoteReplacement(resolved));
        }
        m.appendTail(out);
        return out.toString();
    }

    private String variable(String name, String variable) {
        String resolved = environment.apply(variable);
        if (resolved == null) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s': environment variable %s is not set; export it or put the value in the file",
                            file, name, variable));
        }
        return resolved;
    }

    private String file(String name, String path) {
        Path secret = Path.of(path.trim());
        if (!secret.isAbsolute()) {
            throw new ConfigException(
                    String.format(
                            "%s: '%s': ${file:%s} needs an absolute path, such as "
                                    + "${file:/etc/tidemark/secrets/password}",
                            file, name, path));
        }
        try {
            String content = Files.readString(secret, StandardCharsets.UTF_8);
            // as mounted secrets usually end: one line break, which is no part of the value
            return content.endsWith("\r\n")
                    ? content.substring(0, content.length() - 2)
                    : content.endsWith("\n") ? content.substring(0, content.length() - 1) : content;
        } catch (IOException e) {
            // the message names the path, never the content
            throw new ConfigException(
                    String.format(
                            "%s: '%s': cannot read ${file:%s} (%s); mount the secret there or put "
                                    + "the value in the file",
                            file, name, path, e.getClass().getSimpleName()));
        }
    }

    ConfigException missing(String name, ConfigKey key) {
        return new ConfigException(
                String.format(
                        "%s: missing required key '%s' (%s: %s)",
                        file, name, key.expected(), key.description()));
    }

    ConfigException wrongKind(String name, ConfigKey key, Object got) {
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
                .orElse("; see the configuration reference, docs/configuration.md");
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

    /** The file's name, as errors name it. */
    String file() {
        return file;
    }
}
