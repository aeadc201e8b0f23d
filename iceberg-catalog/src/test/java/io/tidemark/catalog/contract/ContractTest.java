package io.tidemark.catalog.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.contract.Contract.Checked;
import io.tidemark.catalog.contract.Contract.Column;
import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class ContractTest {

    static final Contract ORDERS =
            new Contract(
                    "public.orders",
                    1,
                    List.of(
                            new Column("id", Types.LongType.get(), false),
                            new Column("customer_id", Types.LongType.get(), false),
                            new Column("status", Types.StringType.get(), true),
                            new Column("amount", Types.DecimalType.of(12, 2), true),
                            new Column("code", Types.StringType.get(), true),
                            new Column("email", Types.StringType.get(), true),
                            new Column("updated_at", Types.TimestampType.withoutZone(), false)),
                    List.of("id"),
                    "event-time:updated_at",
                    List.of(
                            new Constraint.AllowedValues("status", List.of("new", "paid")),
                            new Constraint.MaxLength("status", 4),
                            new Constraint.Range(
                                    "amount", new BigDecimal("0"), new BigDecimal("1000")),
                            new Constraint.Range(
                                    "updated_at",
                                    LocalDateTime.parse("2000-01-01T00:00:00"),
                                    LocalDateTime.parse("2100-01-01T00:00:00")),
                            new Constraint.Matches("code", Pattern.compile("[A-Z]{3}-[0-9]+")),
                            new Constraint.NotNull("email")),
                    null,
                    EvolutionPolicy.QUARANTINE);

    static Map<String, Object> valid() {
        Map<String, Object> row = new HashMap<>();
        row.put("id", 7); // an Integer: coerced to the contract's long
        row.put("customer_id", 3L);
        row.put("status", "paid");
        row.put("amount", new BigDecimal("12.5"));
        row.put("code", "ABC-12");
        row.put("email", "a@example.com");
        row.put("updated_at", LocalDateTime.parse("2026-11-30T10:00:00"));
        return row;
    }

    private static List<ReasonCode> reasons(Map<String, Object> row) {
        return ORDERS.check(row, false).violations().stream().map(Violation::reason).toList();
    }

    @Test
    void validRowPassesCoerced() {
        Checked checked = ORDERS.check(valid(), false);
        assertThat(checked.violations()).isEmpty();
        assertThat(checked.row().get("id")).isEqualTo(7L);
        assertThat(checked.row().get("amount")).isEqualTo(new BigDecimal("12.50"));
    }

    @Test
    void keyAbsentOrNull() {
        Map<String, Object> row = valid();
        row.remove("id");
        assertThat(reasons(row)).containsExactly(ReasonCode.MISSING_KEY);
        row.put("id", null);
        assertThat(reasons(row)).containsExactly(ReasonCode.NULL_KEY);
    }

    @Test
    void requiredColumnAbsentOrNull() {
        Map<String, Object> row = valid();
        row.remove("customer_id");
        assertThat(reasons(row)).containsExactly(ReasonCode.MISSING_COLUMN);
        row.put("customer_id", null);
        assertThat(reasons(row)).containsExactly(ReasonCode.NOT_NULL);
        // a nullable column may be absent
        row = valid();
        row.remove("code");
        assertThat(reasons(row)).isEmpty();
    }

    @Test
    void unknownColumnIsSchemaDrift() {
        Map<String, Object> row = valid();
        row.put("discount", 5);
        List<Violation> violations = ORDERS.check(row, false).violations();
        assertThat(violations)
                .containsExactly(
                        new Violation(
                                ReasonCode.UNKNOWN_COLUMN,
                                "discount",
                                "not a column of contract public.orders v1"));
    }

    @Test
    void wrongTypesAreNamedWithoutTheirValues() {
        Map<String, Object> row = valid();
        row.put("status", 5);
        row.put("amount", new BigDecimal("1.234"));
        row.put("customer_id", "seventeen");
        List<Violation> violations = ORDERS.check(row, false).violations();
        assertThat(violations)
                .extracting(Violation::reason)
                .containsOnly(ReasonCode.WRONG_TYPE)
                .hasSize(3);
        assertThat(violations)
                .extracting(Violation::toString)
                .containsExactlyInAnyOrder(
                        "WRONG_TYPE(customer_id): a String, not coercible to long",
                        "WRONG_TYPE(status): a Integer, not coercible to string",
                        "WRONG_TYPE(amount): a BigDecimal with more than 2 decimal places, not coercible to decimal(12, 2)");
        assertThat(violations.toString()).doesNotContain("seventeen").doesNotContain("1.234");
    }

    @Test
    void everyConstraintKind() {
        Map<String, Object> row = valid();
        row.put("status", "shipped");
        assertThat(reasons(row))
                .containsExactlyInAnyOrder(ReasonCode.NOT_ALLOWED_VALUE, ReasonCode.TOO_LONG);
        row = valid();
        row.put("amount", new BigDecimal("-0.01"));
        assertThat(reasons(row)).containsExactly(ReasonCode.OUT_OF_RANGE);
        row = valid();
        row.put("updated_at", LocalDateTime.parse("1970-01-01T00:00:00"));
        assertThat(reasons(row)).containsExactly(ReasonCode.OUT_OF_RANGE);
        row = valid();
        row.put("code", "abc-1");
        assertThat(reasons(row)).containsExactly(ReasonCode.PATTERN_MISMATCH);
        row = valid();
        row.put("email", null);
        assertThat(reasons(row)).containsExactly(ReasonCode.NOT_NULL);
    }

    @Test
    void constraintMessagesNameTheRuleNotTheValue() {
        Map<String, Object> row = valid();
        row.put("status", "secret");
        row.put("amount", new BigDecimal("99999.99"));
        row.put("code", "leak-me");
        assertThat(ORDERS.check(row, false).violations())
                .extracting(Violation::toString)
                .containsExactlyInAnyOrder(
                        "NOT_ALLOWED_VALUE(status): is not one of [new, paid]",
                        "TOO_LONG(status): has 6 characters, at most 4 allowed",
                        "OUT_OF_RANGE(amount): outside the range [0, 1000]",
                        "PATTERN_MISMATCH(code): does not match the pattern [A-Z]{3}-[0-9]+")
                .noneMatch(m -> m.contains("secret") || m.contains("leak-me"));
    }

    @Test
    void allViolationsOfOneRowAreReported() {
        Map<String, Object> row = valid();
        row.put("id", null);
        row.put("status", "lost");
        row.put("email", null);
        row.put("extra", 1);
        assertThat(reasons(row))
                .containsExactlyInAnyOrder(
                        ReasonCode.NULL_KEY,
                        ReasonCode.NOT_ALLOWED_VALUE,
                        ReasonCode.NOT_NULL,
                        ReasonCode.UNKNOWN_COLUMN);
    }

    @Test
    void deletesAreCheckedByTheirKeyOnly() {
        assertThat(ORDERS.check(Map.of("id", 9L), true).violations()).isEmpty();
        Map<String, Object> key = new HashMap<>();
        key.put("id", null);
        assertThat(ORDERS.check(key, true).violations())
                .extracting(Violation::reason)
                .containsExactly(ReasonCode.NULL_KEY);
        assertThat(ORDERS.check(Map.of("id", "x"), true).violations())
                .extracting(Violation::reason)
                .containsExactly(ReasonCode.WRONG_TYPE);
    }

    @Test
    void badContractsNameEveryProblem() {
        assertThatThrownBy(
                        () ->
                                new Contract(
                                        "public.t",
                                        0,
                                        List.of(
                                                new Column("id", Types.LongType.get(), true),
                                                new Column("id", Types.LongType.get(), true)),
                                        List.of("id", "k"),
                                        "event-time:ts",
                                        List.of(new Constraint.NotNull("nope")),
                                        null,
                                        null))
                .isInstanceOf(ContractException.class)
                .hasMessageContaining("contract public.t v0")
                .hasMessageContaining("version must be 1 or more, got 0")
                .hasMessageContaining("column 'id' is declared twice")
                .hasMessageContaining("primary key column 'k' is not a column")
                .hasMessageContaining(
                        "primary key column 'id' must not be nullable (write nullable: false)")
                .hasMessageContaining("constraint on 'nope' names no column")
                .hasMessageContaining("ordering 'event-time:ts' names no column");
        assertThatThrownBy(
                        () ->
                                new Contract(
                                        "public.t",
                                        1,
                                        List.of(new Column("id", Types.LongType.get(), false)),
                                        List.of(),
                                        null,
                                        List.of(),
                                        null,
                                        null))
                .hasMessageContaining("primary-key is required");
    }

    @Test
    void defaultsAreCommitOrderAndFail() {
        Contract contract =
                new Contract(
                        "public.t",
                        1,
                        List.of(new Column("id", Types.LongType.get(), false)),
                        List.of("id"),
                        null,
                        List.of(),
                        null,
                        null);
        assertThat(contract.ordering()).isEqualTo(Contract.COMMIT_ORDER);
        assertThat(contract.evolution()).isEqualTo(EvolutionPolicy.FAIL);
        assertThat(contract.id()).isEqualTo("public.t v1");
        assertThat(
                        contract.spec(org.apache.iceberg.catalog.TableIdentifier.of("db", "t"))
                                .schema()
                                .identifierFieldNames())
                .containsExactly("id");
    }

    @Test
    void aNaNOrInfiniteDoubleAgainstARangeIsAViolationNotAFailure() {
        Constraint.Range range =
                new Constraint.Range("score", BigDecimal.ZERO, new BigDecimal("100"));
        assertThat(range.check(Double.NaN))
                .hasValueSatisfying(v -> assertThat(v.reason()).isEqualTo(ReasonCode.OUT_OF_RANGE));
        assertThat(range.check(Float.NaN)).isPresent();
        assertThat(range.check(Double.POSITIVE_INFINITY)).isPresent();
        assertThat(range.check(Double.NEGATIVE_INFINITY)).isPresent();
        assertThat(
                        new Constraint.Range("score", BigDecimal.ZERO, null)
                                .check(Double.POSITIVE_INFINITY))
                .isEmpty();
        assertThat(range.check(42.5)).isEmpty();
    }
}
