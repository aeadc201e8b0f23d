package io.tidemark.catalog.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContractLoaderTest {

    static final String ORDERS_V1 =
            String.join(
                    "\n",
                    "table: public.orders",
                    "version: 1",
                    "columns:",
                    "  - {name: id, type: long, nullable: false}",
                    "  - {name: status, type: string}",
                    "  - {name: amount, type: 'decimal(12,2)'}",
                    "  - {name: updated_at, type: timestamp, nullable: false}",
                    "primary-key: [id]",
                    "ordering: event-time:updated_at",
                    "freshness-sla: 5m",
                    "schema-evolution: evolve",
                    "constraints:",
                    "  - {column: status, allowed-values: [new, paid, shipped]}",
                    "  - {column: status, max-length: 20, pattern: '[a-z]+'}",
                    "  - {column: amount, range: {min: 0, max: 100000}}",
                    "  - {column: updated_at, range: {min: '2000-01-01T00:00:00'}}",
                    "  - {column: status, not-null: true}",
                    "");

    @TempDir Path dir;

    @Test
    void readsAVersionKeptUnderItsTable() throws Exception {
        Files.createDirectories(dir.resolve("public.orders"));
        Files.writeString(dir.resolve("public.orders/v1.yaml"), ORDERS_V1);
        Files.writeString(
                dir.resolve("public.orders/v2.yaml"),
                ORDERS_V1.replace("version: 1", "version: 2"));
        Files.writeString(dir.resolve("public.orders/notes.txt"), "not a contract");
        ContractLoader loader = new ContractLoader(dir);
        assertThat(loader.versions("public.orders")).containsExactly(1, 2);
        assertThat(loader.versions("public.none")).isEmpty();

        Contract contract = loader.load("public.orders", 1);
        assertThat(contract.id()).isEqualTo("public.orders v1");
        assertThat(contract.primaryKey()).containsExactly("id");
        assertThat(contract.ordering()).isEqualTo("event-time:updated_at");
        assertThat(contract.freshness()).isEqualTo(Duration.ofMinutes(5));
        assertThat(contract.evolution()).isEqualTo(EvolutionPolicy.EVOLVE);
        assertThat(contract.column("amount").orElseThrow().type())
                .isEqualTo(Types.DecimalType.of(12, 2));
        assertThat(contract.column("status").orElseThrow().nullable()).isTrue();
        assertThat(contract.column("id").orElseThrow().nullable()).isFalse();
        assertThat(contract.constraints())
                .contains(
                        new Constraint.Range(
                                "amount", new BigDecimal("0"), new BigDecimal("100000")),
                        new Constraint.Range(
                                "updated_at", LocalDateTime.parse("2000-01-01T00:00:00"), null),
                        new Constraint.MaxLength("status", 20),
                        new Constraint.NotNull("status"))
                .hasSize(6);
    }

    @Test
    void locationMustAgreeWithTheFile() throws Exception {
        Files.createDirectories(dir.resolve("public.orders"));
        Files.writeString(
                dir.resolve("public.orders/v3.yaml"),
                ORDERS_V1.replace("table: public.orders", "table: public.order"));
        assertThatThrownBy(() -> new ContractLoader(dir).load("public.orders", 3))
                .isInstanceOf(ContractException.class)
                .hasMessageContaining("v3.yaml")
                .hasMessageContaining(
                        "table: 'public.order' but the file is kept under public.orders")
                .hasMessageContaining("version: 1 but the file is named v3.yaml");
        assertThatThrownBy(() -> new ContractLoader(dir).load("public.orders", 4))
                .hasMessageContaining("no such contract file; versions of public.orders")
                .hasMessageContaining("[3]");
    }

    @Test
    void everyProblemOfAFileIsNamed() {
        String bad =
                String.join(
                        "\n",
                        "table: public.t",
                        "version: two",
                        "colums: []",
                        "columns:",
                        "  - {name: id, type: lng, nullable: maybe}",
                        "  - {name: ts, type: timestamp, size: 3}",
                        "primary-key: [id]",
                        "ordering: newest",
                        "freshness-sla: soon",
                        "schema-evolution: ignore",
                        "constraints:",
                        "  - {column: ts, range: {min: yesterday}}",
                        "  - {column: ts}",
                        "  - {column: ts, pattern: '('}",
                        "  - {column: ts, max-length: -1}",
                        "");
        assertThatThrownBy(() -> ContractLoader.parse(bad, "t/v2.yaml", "public.t", 2))
                .isInstanceOf(ContractException.class)
                .hasMessageStartingWith("t/v2.yaml:")
                .hasMessageContaining("colums: unknown key (known: [checks, columns, constraints,")
                .hasMessageContaining("version: expected a positive integer, got 'two'")
                .hasMessageContaining(
                        "columns[0].type: 'lng' is not an Iceberg type (boolean, int, long,")
                .hasMessageContaining("columns[0].nullable: expected true or false, got 'maybe'")
                .hasMessageContaining("columns[1].size: unknown key")
                .hasMessageContaining(
                        "ordering: 'newest' is not commit-order or event-time:<column>")
                .hasMessageContaining("freshness-sla: 'soon' is not a duration (e.g. 90s, 5m, 2h)")
                .hasMessageContaining(
                        "schema-evolution: 'ignore' is not one of evolve, lenient, quarantine, fail")
                .hasMessageContaining(
                        "constraints[0].range.min: 'yesterday' is not a value of the column's"
                                + " type timestamp")
                .hasMessageContaining(
                        "constraints[1]: names no rule (not-null, range, pattern,"
                                + " allowed-values, max-length)")
                .hasMessageContaining("constraints[2].pattern: not a regular expression")
                .hasMessageContaining(
                        "constraints[3].max-length: expected a positive integer, got '-1'");
    }

    @Test
    void contractRulesAreReportedWithTheFile() {
        String noKeyColumn = ORDERS_V1.replace("primary-key: [id]", "primary-key: [order_id]");
        assertThatThrownBy(() -> ContractLoader.parse(noKeyColumn, "orders/v1.yaml", null, null))
                .hasMessageStartingWith("orders/v1.yaml:")
                .hasMessageContaining("primary key column 'order_id' is not a column");
        assertThatThrownBy(() -> ContractLoader.parse("- a\n- b\n", "x.yaml", null, null))
                .hasMessage("x.yaml:\n  - expected a mapping of contract keys");
        assertThatThrownBy(() -> ContractLoader.parse("a: [", "x.yaml", null, null))
                .hasMessageContaining("not valid YAML");
    }

    @Test
    void qualityChecks() {
        Contract contract =
                ContractLoader.parse(
                        ORDERS_V1
                                + String.join(
                                        "\n",
                                        "checks:",
                                        "  - {check: quarantine-ratio, max: 0.05}",
                                        "  - {check: null-rate, column: status, max: 0.2, window: 4, mode: warn}",
                                        "  - {check: no-rows-written}",
                                        "  - {check: freshness, mode: warn}",
                                        ""),
                        "orders/v1.yaml",
                        null,
                        null);
        assertThat(contract.checks())
                .containsExactly(
                        new QualityCheck(
                                QualityCheck.Kind.QUARANTINE_RATIO,
                                null,
                                0.05,
                                10,
                                QualityCheck.Mode.FAIL),
                        new QualityCheck(
                                QualityCheck.Kind.NULL_RATE,
                                "status",
                                0.2,
                                4,
                                QualityCheck.Mode.WARN),
                        new QualityCheck(
                                QualityCheck.Kind.NO_ROWS_WRITTEN,
                                null,
                                0,
                                5,
                                QualityCheck.Mode.FAIL),
                        new QualityCheck(
                                QualityCheck.Kind.FRESHNESS, null, 0, 10, QualityCheck.Mode.WARN));
        assertThat(contract.checks().get(1).name()).isEqualTo("null-rate(status)");

        String bad =
                ORDERS_V1.replace("freshness-sla: 5m\n", "")
                        + String.join(
                                "\n",
                                "checks:",
                                "  - {check: quarantine-ratio, max: 2}",
                                "  - {check: null-rate, max: 0.1}",
                                "  - {check: nulls, max: 0.1}",
                                "  - {check: no-rows-written, max: 1, mode: loud}",
                                "  - {check: freshness}",
                                "  - {check: null-rate, column: nope, max: 0.1}",
                                "");
        assertThatThrownBy(() -> ContractLoader.parse(bad, "orders/v1.yaml", null, null))
                .hasMessageContaining("checks[0].max: expected a ratio between 0 and 1, got '2'")
                .hasMessageContaining("checks[1].column: required")
                .hasMessageContaining(
                        "checks[2].check: 'nulls' is not one of quarantine-ratio, null-rate,"
                                + " no-rows-written, freshness")
                .hasMessageContaining(
                        "checks[3].max: only quarantine-ratio and null-rate take a maximum")
                .hasMessageContaining("checks[3].mode: 'loud' is not one of fail, warn");
        String noSla =
                ORDERS_V1.replace("freshness-sla: 5m\n", "") + "checks:\n  - {check: freshness}\n";
        assertThatThrownBy(() -> ContractLoader.parse(noSla, "orders/v1.yaml", null, null))
                .hasMessageContaining("check freshness needs freshness-sla");
        String noColumn = ORDERS_V1 + "checks:\n  - {check: null-rate, column: nope, max: 0.1}\n";
        assertThatThrownBy(() -> ContractLoader.parse(noColumn, "orders/v1.yaml", null, null))
                .hasMessageContaining("check null-rate(nope) names no column");
    }
}
