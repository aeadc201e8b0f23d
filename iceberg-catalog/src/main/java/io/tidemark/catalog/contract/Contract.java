package io.tidemark.catalog.contract;

import io.tidemark.catalog.TableSpec;
import io.tidemark.catalog.contract.Coercion.CoercionException;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * One version of a table's contract: its columns (name, Iceberg type, nullability), primary key,
 * ordering rule, value constraints, freshness SLA and schema-evolution policy. Versions of one
 * table live side by side ({@code v1.yaml}, {@code v2.yaml}, ...; see {@link ContractLoader}); the
 * pipeline names the active one, and {@link ContractCompatibility} decides whether a version may
 * replace another.
 */
public record Contract(
        String table,
        int version,
        List<Column> columns,
        List<String> primaryKey,
        String ordering,
        List<Constraint> constraints,
        Duration freshness,
        EvolutionPolicy evolution,
        List<QualityCheck> checks)
        implements Serializable {

    /** Ordering when the contract names none: the source's commit order. */
    public static final String COMMIT_ORDER = "commit-order";

    /** One column: its name, Iceberg type and whether it may be null. */
    public record Column(String name, Type.PrimitiveType type, boolean nullable)
            implements Serializable {
        public Column {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
        }
    }

    /** A checked row: the values coerced to the contract's types, and what was wrong. */
    public record Checked(Map<String, Object> row, List<Violation> violations) {
        public boolean passed() {
            return violations.isEmpty();
        }
    }

    /** A contract without data-quality checks. */
    public Contract(
            String table,
            int version,
            List<Column> columns,
            List<String> primaryKey,
            String ordering,
            List<Constraint> constraints,
            Duration freshness,
            EvolutionPolicy evolution) {
        this(
                table,
                version,
                columns,
                primaryKey,
                ordering,
                constraints,
                freshness,
                evolution,
                List.of());
    }

    public Contract {
        checks = checks == null ? List.of() : List.copyOf(checks);
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
        constraints = List.copyOf(constraints);
        ordering = ordering == null ? COMMIT_ORDER : ordering;
        evolution = evolution == null ? EvolutionPolicy.FAIL : evolution;
        List<String> problems = new ArrayList<>();
        if (version < 1) {
            problems.add("version must be 1 or more, got " + version);
        }
        Set<String> names = new HashSet<>();
        for (Column column : columns) {
            if (!names.add(column.name())) {
                problems.add("column '" + column.name() + "' is declared twice");
            }
        }
        if (primaryKey.isEmpty()) {
            problems.add("primary-key is required: rows are merged and deleted by it");
        }
        for (String key : primaryKey) {
            if (!names.contains(key)) {
                problems.add(
                        "primary key column '"
                                + key
                                + "' is not a column (columns: "
                                + names
                                + ")");
            }
        }
        for (Column column : columns) {
            if (primaryKey.contains(column.name()) && column.nullable()) {
                problems.add(
                        "primary key column '"
                                + column.name()
                                + "' must not be nullable (write nullable: false)");
            }
        }
        for (Constraint constraint : constraints) {
            if (!names.contains(constraint.column())) {
                problems.add(
                        "constraint on '"
                                + constraint.column()
                                + "' names no column (columns: "
                                + names
                                + ")");
            }
        }
        if (ordering.startsWith("event-time:")
                && !names.contains(ordering.substring("event-time:".length()))) {
            problems.add("ordering '" + ordering + "' names no column");
        }
        for (QualityCheck check : checks) {
            if (check.kind() == QualityCheck.Kind.NULL_RATE && !names.contains(check.column())) {
                problems.add("check " + check.name() + " names no column (columns: " + names + ")");
            }
            if (check.kind() == QualityCheck.Kind.FRESHNESS && freshness == null) {
                problems.add("check freshness needs freshness-sla");
            }
        }
        if (!problems.isEmpty()) {
            throw new ContractException("contract " + table + " v" + version, problems);
        }
    }

    /** {@code public.orders v2}: how messages and commits name this contract. */
    public String id() {
        return table + " v" + version;
    }

    public Optional<Column> column(String name) {
        for (Column column : columns) {
            if (column.name().equals(name)) {
                return Optional.of(column);
            }
        }
        return Optional.empty();
    }

    /** The Iceberg table this contract describes, under {@code identifier}. */
    public TableSpec spec(TableIdentifier identifier) {
        List<Types.NestedField> fields = new ArrayList<>();
        int id = 1;
        for (Column column : columns) {
            fields.add(
                    column.nullable()
                            ? Types.NestedField.optional(id++, column.name(), column.type())
                            : Types.NestedField.required(id++, column.name(), column.type()));
        }
        return new TableSpec(identifier, fields, primaryKey);
    }

    /**
     * Checks one row image. {@code keyOnly} for deletes, whose image may hold just the key: then
     * only the key columns are checked. Every violation is reported, not just the first.
     */
    public Checked check(Map<String, Object> row, boolean keyOnly) {
        List<Violation> violations = new ArrayList<>();
        Map<String, Object> coerced = new LinkedHashMap<>();
        Set<String> badType = new HashSet<>();
        for (String key : primaryKey) {
            if (!row.containsKey(key)) {
                violations.add(new Violation(ReasonCode.MISSING_KEY, key, "key column absent"));
            } else if (row.get(key) == null) {
                violations.add(new Violation(ReasonCode.NULL_KEY, key, "key column is null"));
            }
        }
        for (Column column : columns) {
            if (keyOnly && !primaryKey.contains(column.name())) {
                if (row.containsKey(column.name())) {
                    coerce(column, row.get(column.name()), coerced, violations, badType);
                }
                continue;
            }
            if (!row.containsKey(column.name())) {
                if (!column.nullable() && !primaryKey.contains(column.name())) {
                    violations.add(
                            new Violation(
                                    ReasonCode.MISSING_COLUMN,
                                    column.name(),
                                    "required column absent"));
                }
                continue;
            }
            Object value = row.get(column.name());
            coerce(column, value, coerced, violations, badType);
            if (value == null && !column.nullable() && !primaryKey.contains(column.name())) {
                violations.add(
                        new Violation(ReasonCode.NOT_NULL, column.name(), "is null, not nullable"));
            }
        }
        for (String name : row.keySet()) {
            if (column(name).isEmpty()) {
                violations.add(
                        new Violation(
                                ReasonCode.UNKNOWN_COLUMN,
                                name,
                                "not a column of contract " + id()));
            }
        }
        for (Constraint constraint : constraints) {
            String name = constraint.column();
            if (badType.contains(name) || (keyOnly && !coerced.containsKey(name))) {
                continue;
            }
            constraint.check(coerced.get(name)).ifPresent(violations::add);
        }
        return new Checked(coerced, violations);
    }

    private static void coerce(
            Column column,
            Object value,
            Map<String, Object> coerced,
            List<Violation> violations,
            Set<String> badType) {
        try {
            coerced.put(column.name(), Coercion.coerce(value, column.type()));
        } catch (CoercionException e) {
            badType.add(column.name());
            violations.add(new Violation(ReasonCode.WRONG_TYPE, column.name(), e.getMessage()));
        }
    }
}
