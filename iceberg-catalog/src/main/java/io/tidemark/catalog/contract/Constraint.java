package io.tidemark.catalog.contract;

import java.io.Serializable;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A rule on one column's values, checked on every change that carries the column. Null values pass
 * every constraint but {@link NotNull}: nullability is the column's own rule. A violation's message
 * names the rule, never the value.
 */
public sealed interface Constraint extends Serializable {

    /** The column the rule applies to. */
    String column();

    /** The violation of {@code value} (already coerced to the column's type), if any. */
    Optional<Violation> check(Object value);

    /** The value must not be null (also for columns the source declares nullable). */
    record NotNull(String column) implements Constraint {
        @Override
        public Optional<Violation> check(Object value) {
            return value == null
                    ? Optional.of(new Violation(ReasonCode.NOT_NULL, column, "is null"))
                    : Optional.empty();
        }
    }

    /**
     * The value must lie in {@code [min, max]} (either bound may be null: open). Bounds are of the
     * column's Java type: numbers as {@link BigDecimal}, dates and times as their {@code java.time}
     * types.
     */
    record Range(String column, Comparable<?> min, Comparable<?> max) implements Constraint {
        @Override
        public Optional<Violation> check(Object value) {
            if (value == null) {
                return Optional.empty();
            }
            if ((value instanceof Double d && d.isNaN())
                    || (value instanceof Float f && f.isNaN())) {
                // NaN has no place in any range (and no decimal form to compare)
                return Optional.of(
                        new Violation(ReasonCode.OUT_OF_RANGE, column, "NaN is in no range"));
            }
            if ((value instanceof Double d && d.isInfinite())
                    || (value instanceof Float f && f.isInfinite())) {
                boolean positive = ((Number) value).doubleValue() > 0;
                if ((positive && max != null) || (!positive && min != null)) {
                    return Optional.of(
                            new Violation(
                                    ReasonCode.OUT_OF_RANGE,
                                    column,
                                    (positive ? "Infinity" : "-Infinity")
                                            + " is outside the range ["
                                            + (min == null ? "" : min)
                                            + ", "
                                            + (max == null ? "" : max)
                                            + "]"));
                }
                return Optional.empty();
            }
            Comparable<Object> comparable = comparable(value);
            if ((min != null && comparable.compareTo(min) < 0)
                    || (max != null && comparable.compareTo(max) > 0)) {
                return Optional.of(
                        new Violation(
                                ReasonCode.OUT_OF_RANGE,
                                column,
                                "outside the range ["
                                        + (min == null ? "" : min)
                                        + ", "
                                        + (max == null ? "" : max)
                                        + "]"));
            }
            return Optional.empty();
        }

        @SuppressWarnings("unchecked")
        private static Comparable<Object> comparable(Object value) {
            if (value instanceof Number number && !(value instanceof BigDecimal)) {
                return (Comparable<Object>) (Object) new BigDecimal(number.toString());
            }
            if (value instanceof LocalDate
                    || value instanceof LocalTime
                    || value instanceof LocalDateTime
                    || value instanceof Instant
                    || value instanceof BigDecimal
                    || value instanceof String) {
                return (Comparable<Object>) value;
            }
            throw new IllegalArgumentException("no order for " + value.getClass().getSimpleName());
        }
    }

    /** A text value must match the regular expression in full. */
    record Matches(String column, Pattern pattern) implements Constraint {
        @Override
        public Optional<Violation> check(Object value) {
            if (value == null || pattern.matcher(value.toString()).matches()) {
                return Optional.empty();
            }
            return Optional.of(
                    new Violation(
                            ReasonCode.PATTERN_MISMATCH,
                            column,
                            "does not match the pattern " + pattern.pattern()));
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Matches m
                    && m.column.equals(column)
                    && m.pattern.pattern().equals(pattern.pattern());
        }

        @Override
        public int hashCode() {
            return column.hashCode() * 31 + pattern.pattern().hashCode();
        }
    }

    /** The value, as text, must be one of {@code values}. */
    record AllowedValues(String column, List<String> values) implements Constraint {
        public AllowedValues {
            values = List.copyOf(values);
        }

        @Override
        public Optional<Violation> check(Object value) {
            // a short list: contains() beats building a set for every change
            if (value == null || values.contains(value.toString())) {
                return Optional.empty();
            }
            return Optional.of(
                    new Violation(ReasonCode.NOT_ALLOWED_VALUE, column, "is not one of " + values));
        }
    }

    /** A text value may have at most {@code length} characters, a binary one that many bytes. */
    record MaxLength(String column, int length) implements Constraint {
        @Override
        public Optional<Violation> check(Object value) {
            int actual;
            if (value == null) {
                return Optional.empty();
            } else if (value instanceof byte[] bytes) {
                actual = bytes.length;
            } else {
                String text = value.toString();
                actual = text.codePointCount(0, text.length());
            }
            if (actual <= length) {
                return Optional.empty();
            }
            return Optional.of(
                    new Violation(
                            ReasonCode.TOO_LONG,
                            column,
                            "has " + actual + " characters, at most " + length + " allowed"));
        }
    }
}
