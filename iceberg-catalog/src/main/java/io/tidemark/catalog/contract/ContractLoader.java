package io.tidemark.catalog.contract;

import io.tidemark.catalog.contract.Contract.Column;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads contract files: {@code <dir>/<schema>.<table>/v<N>.yaml}, one file per version, side by
 * side. Every problem of a file is reported at once, each naming the file and the key:
 *
 * <pre>{@code
 * table: public.orders          # must match the directory
 * version: 2                    # must match the file name
 * columns:
 *   - {name: id, type: long, nullable: false}
 *   - {name: status, type: string}
 *   - {name: amount, type: 'decimal(12,2)'}
 *   - {name: updated_at, type: timestamp, nullable: false}
 * primary-key: [id]
 * ordering: event-time:updated_at          # default commit-order
 * freshness-sla: 5m                        # optional
 * schema-evolution: evolve                 # evolve | lenient | quarantine | fail (default)
 * constraints:
 *   - {column: status, allowed-values: [new, paid, shipped]}
 *   - {column: status, max-length: 20}
 *   - {column: amount, range: {min: 0, max: 100000}}
 *   - {column: updated_at, range: {min: '2000-01-01T00:00:00'}}
 *   - {column: note, pattern: '[A-Za-z ]*'}
 *   - {column: email, not-null: true}
 * }</pre>
 *
 * Column types are Iceberg's: {@code boolean, int, long, float, double, decimal(P,S), string, uuid,
 * date, time, timestamp, timestamptz, binary, fixed[N]}; columns are nullable unless {@code
 * nullable: false}.
 */
public final class ContractLoader {

    private static final Set<String> TOP =
            Set.of(
                    "table",
                    "version",
                    "columns",
                    "primary-key",
                    "ordering",
                    "freshness-sla",
                    "schema-evolution",
                    "constraints",
                    "checks");
    private static final Set<String> COLUMN = Set.of("name", "type", "nullable");
    private static final Set<String> CONSTRAINT =
            Set.of("column", "not-null", "range", "pattern", "allowed-values", "max-length");
    private static final Pattern FILE = Pattern.compile("v([1-9][0-9]*)\\.yaml");
    private static final Pattern DURATION = Pattern.compile("([0-9]+)\\s*(ms|s|m|h|d)");
    private static final String TYPES =
            "boolean, int, long, float, double, decimal(P,S), string, uuid, date, time, timestamp,"
                    + " timestamptz, binary, fixed[N]";

    private final Path dir;

    /**
     * @param dir the contracts directory, holding one directory per source table
     */
    public ContractLoader(Path dir) {
        this.dir = dir;
    }

    /** The versions kept for {@code table}, ascending. */
    public List<Integer> versions(String table) throws IOException {
        Path tableDir = dir.resolve(table);
        if (!Files.isDirectory(tableDir)) {
            return List.of();
        }
        TreeSet<Integer> versions = new TreeSet<>();
        try (Stream<Path> files = Files.list(tableDir)) {
            for (Path file : files.toList()) {
                Matcher m = FILE.matcher(file.getFileName().toString());
                if (m.matches()) {
                    versions.add(Integer.parseInt(m.group(1)));
                }
            }
        }
        return List.copyOf(versions);
    }

    /** Version {@code version} of {@code table}'s contract. */
    public Contract load(String table, int version) throws IOException {
        Path file = dir.resolve(table).resolve("v" + version + ".yaml");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ContractException(
                    file.toString(),
                    List.of(
                            "no such contract file; versions of "
                                    + table
                                    + " in "
                                    + dir
                                    + ": "
                                    + versions(table)));
        }
        return parse(text, file.toString(), table, version);
    }

    /**
     * Parses one contract file's text; {@code table} and {@code version} are what its location says
     * (null to accept what the file says).
     */
    public static Contract parse(String text, String fileName, String table, Integer version) {
        List<String> problems = new ArrayList<>();
        Object root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (YAMLException e) {
            throw new ContractException(
                    fileName,
                    List.of("not valid YAML: " + e.getMessage().lines().findFirst().orElse("")));
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw new ContractException(fileName, List.of("expected a mapping of contract keys"));
        }
        YamlValues.unknownKeys(top, TOP, "", problems);
        String declaredTable = YamlValues.string(top, "table", "", problems, true);
        if (table != null && declaredTable != null && !table.equals(declaredTable)) {
            problems.add("table: '" + declaredTable + "' but the file is kept under " + table);
        }
        int declaredVersion = YamlValues.integer(top.get("version"), "version", problems, true);
        if (version != null && declaredVersion > 0 && declaredVersion != version) {
            problems.add(
                    "version: " + declaredVersion + " but the file is named v" + version + ".yaml");
        }
        List<Column> columns = new ArrayList<>();
        Object columnList = top.get("columns");
        if (!(columnList instanceof List<?> list) || list.isEmpty()) {
            problems.add("columns: required, a list of {name, type, nullable}");
        } else {
            for (int i = 0; i < list.size(); i++) {
                String at = "columns[" + i + "]";
                if (!(list.get(i) instanceof Map<?, ?> column)) {
                    problems.add(at + ": expected {name, type, nullable}");
                    continue;
                }
                YamlValues.unknownKeys(column, COLUMN, at + ".", problems);
                String name = YamlValues.string(column, "name", at + ".", problems, true);
                String typeText = YamlValues.string(column, "type", at + ".", problems, true);
                Object nullable = column.get("nullable");
                if (nullable != null && !(nullable instanceof Boolean)) {
                    problems.add(at + ".nullable: expected true or false, got '" + nullable + "'");
                }
                Type.PrimitiveType type = null;
                if (typeText != null) {
                    try {
                        type = Types.fromPrimitiveString(typeText.toLowerCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                        problems.add(
                                at
                                        + ".type: '"
                                        + typeText
                                        + "' is not an Iceberg type ("
                                        + TYPES
                                        + ")");
                    }
                }
                if (name != null && type != null) {
                    columns.add(new Column(name, type, !Boolean.FALSE.equals(nullable)));
                }
            }
        }
        List<String> primaryKey = new ArrayList<>();
        Object keyList = top.get("primary-key");
        if (!(keyList instanceof List<?> keys) || keys.isEmpty()) {
            problems.add("primary-key: required, a list of column names");
        } else {
            keys.forEach(k -> primaryKey.add(String.valueOf(k)));
        }
        String ordering = YamlValues.string(top, "ordering", "", problems, false);
        if (ordering != null
                && !ordering.equals(Contract.COMMIT_ORDER)
                && !ordering.matches("event-time:[A-Za-z_][A-Za-z0-9_]*")) {
            problems.add("ordering: '" + ordering + "' is not commit-order or event-time:<column>");
        }
        Duration freshness = null;
        String freshnessText = YamlValues.string(top, "freshness-sla", "", problems, false);
        if (freshnessText != null) {
            Matcher m = DURATION.matcher(freshnessText.trim());
            if (!m.matches()) {
                problems.add(
                        "freshness-sla: '"
                                + freshnessText
                                + "' is not a duration (e.g. 90s, 5m, 2h)");
            } else {
                long amount = Long.parseLong(m.group(1));
                freshness =
                        switch (m.group(2)) {
                            case "ms" -> Duration.ofMillis(amount);
                            case "s" -> Duration.ofSeconds(amount);
                            case "m" -> Duration.ofMinutes(amount);
                            case "h" -> Duration.ofHours(amount);
                            default -> Duration.ofDays(amount);
                        };
            }
        }
        EvolutionPolicy evolution = null;
        String evolutionText = YamlValues.string(top, "schema-evolution", "", problems, false);
        if (evolutionText != null) {
            try {
                evolution = EvolutionPolicy.parse(evolutionText);
            } catch (IllegalArgumentException e) {
                problems.add("schema-evolution: " + e.getMessage());
            }
        }
        List<Constraint> constraints = constraints(top.get("constraints"), columns, problems);
        List<QualityCheck> checks = CheckEntries.parse(top.get("checks"), problems);
        if (!problems.isEmpty()) {
            throw new ContractException(fileName, problems);
        }
        try {
            return new Contract(
                    declaredTable,
                    declaredVersion,
                    columns,
                    primaryKey,
                    ordering,
                    constraints,
                    freshness,
                    evolution,
                    checks);
        } catch (ContractException e) {
            throw new ContractException(fileName, e.problems());
        }
    }

    private static List<Constraint> constraints(
            Object value, List<Column> columns, List<String> problems) {
        List<Constraint> constraints = new ArrayList<>();
        if (value == null) {
            return constraints;
        }
        if (!(value instanceof List<?> list)) {
            problems.add("constraints: expected a list of {column, <rule>: ...}");
            return constraints;
        }
        for (int i = 0; i < list.size(); i++) {
            String at = "constraints[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> entry)) {
                problems.add(at + ": expected {column, <rule>: ...}");
                continue;
            }
            YamlValues.unknownKeys(entry, CONSTRAINT, at + ".", problems);
            String column = YamlValues.string(entry, "column", at + ".", problems, true);
            if (column == null) {
                continue;
            }
            Type type =
                    columns.stream()
                            .filter(c -> c.name().equals(column))
                            .map(Column::type)
                            .findFirst()
                            .orElse(null);
            int rules = 0;
            if (entry.containsKey("not-null")) {
                rules++;
                if (!Boolean.TRUE.equals(entry.get("not-null"))) {
                    problems.add(at + ".not-null: only 'true' makes sense here");
                }
                constraints.add(new Constraint.NotNull(column));
            }
            if (entry.containsKey("range")) {
                rules++;
                if (!(entry.get("range") instanceof Map<?, ?> range)
                        || !(range.keySet().stream()
                                .allMatch(k -> k.equals("min") || k.equals("max")))
                        || range.isEmpty()) {
                    problems.add(
                            at + ".range: expected {min: ..., max: ...} (either may be left out)");
                } else if (type != null) {
                    Comparable<?> min = bound(range.get("min"), type, at + ".range.min", problems);
                    Comparable<?> max = bound(range.get("max"), type, at + ".range.max", problems);
                    constraints.add(new Constraint.Range(column, min, max));
                }
            }
            if (entry.containsKey("pattern")) {
                rules++;
                try {
                    constraints.add(
                            new Constraint.Matches(
                                    column, Pattern.compile(String.valueOf(entry.get("pattern")))));
                } catch (PatternSyntaxException e) {
                    problems.add(at + ".pattern: not a regular expression: " + e.getDescription());
                }
            }
            if (entry.containsKey("allowed-values")) {
                rules++;
                if (!(entry.get("allowed-values") instanceof List<?> values) || values.isEmpty()) {
                    problems.add(at + ".allowed-values: expected a non-empty list");
                } else {
                    constraints.add(
                            new Constraint.AllowedValues(
                                    column, values.stream().map(String::valueOf).toList()));
                }
            }
            if (entry.containsKey("max-length")) {
                rules++;
                int length =
                        YamlValues.integer(
                                entry.get("max-length"), at + ".max-length", problems, true);
                if (length > 0) {
                    constraints.add(new Constraint.MaxLength(column, length));
                }
            }
            if (rules == 0) {
                problems.add(
                        at
                                + ": names no rule (not-null, range, pattern, allowed-values,"
                                + " max-length)");
            }
        }
        return constraints;
    }

    private static Comparable<?> bound(Object value, Type type, String at, List<String> problems) {
        if (value == null) {
            return null;
        }
        String text = String.valueOf(value);
        try {
            switch (type.typeId()) {
                case INTEGER:
                case LONG:
                case FLOAT:
                case DOUBLE:
                case DECIMAL:
                    return new BigDecimal(text);
                case DATE:
                    return LocalDate.parse(text);
                case TIME:
                    return LocalTime.parse(text);
                case TIMESTAMP:
                    return ((Types.TimestampType) type).shouldAdjustToUTC()
                            ? Instant.parse(text)
                            : LocalDateTime.parse(text);
                case STRING:
                    return text;
                default:
                    problems.add(at + ": a range on a " + type + " column is not supported");
                    return null;
            }
        } catch (NumberFormatException | DateTimeParseException e) {
            problems.add(at + ": '" + text + "' is not a value of the column's type " + type);
            return null;
        }
    }
}
