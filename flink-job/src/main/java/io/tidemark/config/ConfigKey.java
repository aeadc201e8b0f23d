package io.tidemark.config;

import java.util.List;

/**
 * One key of the pipeline file: its dotted name, the kind of value it takes, whether it is
 * required, its default and its description (docs/configuration.md lists them).
 *
 * <p>Tidemark does not use Flink's {@code ConfigOption} here: its value class is not public, and
 * the pipeline file needs the expected kind in every error message and nested maps and lists that
 * {@code ConfigOption} does not model.
 */
public record ConfigKey(
        String name,
        Kind kind,
        boolean required,
        String defaultValue,
        List<String> allowed,
        String description) {

    /** The kinds of value a key takes. */
    public enum Kind {
        STRING("a string"),
        INT("an integer"),
        DURATION("a duration such as 500ms, 10s or 2min"),
        BOOLEAN("true or false"),
        ENUM("one of"),
        MAP("a map of string keys to string values"),
        STRING_LIST("a list of strings");

        private final String expected;

        Kind(String expected) {
            this.expected = expected;
        }

        public String expected() {
            return expected;
        }
    }

    public ConfigKey {
        allowed = List.copyOf(allowed);
    }

    static ConfigKey required(String name, Kind kind, String description) {
        return new ConfigKey(name, kind, true, null, List.of(), description);
    }

    static ConfigKey optional(String name, Kind kind, String defaultValue, String description) {
        return new ConfigKey(name, kind, false, defaultValue, List.of(), description);
    }

    static ConfigKey oneOf(
            String name, String defaultValue, List<String> allowed, String description) {
        return new ConfigKey(
                name, Kind.ENUM, defaultValue == null, defaultValue, allowed, description);
    }

    /** What the value must look like, for error messages. */
    public String expected() {
        return kind == Kind.ENUM ? "one of " + allowed : kind.expected();
    }
}
