package io.tidemark.catalog.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.contract.Contract.Column;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class ContractCompatibilityTest {

    private static final List<Column> V1 =
            List.of(
                    new Column("id", Types.LongType.get(), false),
                    new Column("qty", Types.IntegerType.get(), false),
                    new Column("weight", Types.FloatType.get(), true),
                    new Column("amount", Types.DecimalType.of(10, 2), true),
                    new Column("note", Types.StringType.get(), true));

    private static Contract contract(int version, List<Column> columns) {
        return contract(version, columns, List.of("id"), null);
    }

    private static Contract contract(
            int version, List<Column> columns, List<String> key, String ordering) {
        return new Contract("public.t", version, columns, key, ordering, List.of(), null, null);
    }

    private static List<Column> with(String name, Type.PrimitiveType type, boolean nullable) {
        List<Column> columns = new ArrayList<>();
        boolean replaced = false;
        for (Column column : V1) {
            if (column.name().equals(name)) {
                columns.add(new Column(name, type, nullable));
                replaced = true;
            } else {
                columns.add(column);
            }
        }
        if (!replaced) {
            columns.add(new Column(name, type, nullable));
        }
        return columns;
    }

    private static List<String> problems(List<Column> next) {
        return ContractCompatibility.problems(contract(1, V1), contract(2, next));
    }

    @Test
    void additiveAndWideningChangesAreCompatible() {
        assertThat(problems(V1)).isEmpty();
        assertThat(problems(with("discount", Types.DoubleType.get(), true))).isEmpty();
        assertThat(problems(with("qty", Types.LongType.get(), false))).isEmpty();
        assertThat(problems(with("weight", Types.DoubleType.get(), true))).isEmpty();
        assertThat(problems(with("amount", Types.DecimalType.of(12, 2), true))).isEmpty();
        assertThat(problems(with("qty", Types.IntegerType.get(), true))).isEmpty();
        // constraints, freshness and policy may change freely
        Contract next =
                new Contract(
                        "public.t",
                        2,
                        V1,
                        List.of("id"),
                        null,
                        List.of(new Constraint.MaxLength("note", 10)),
                        java.time.Duration.ofMinutes(5),
                        EvolutionPolicy.EVOLVE);
        assertThat(ContractCompatibility.problems(contract(1, V1), next)).isEmpty();
    }

    @Test
    void droppedColumn() {
        List<Column> dropped = new ArrayList<>(V1);
        dropped.removeIf(c -> c.name().equals("note"));
        assertThat(problems(dropped))
                .containsExactly(
                        "column 'note' is dropped: its data would silently stop being written;"
                                + " keep it (make it nullable) instead");
    }

    @Test
    void narrowingAndRetyping() {
        assertThat(problems(with("weight", Types.IntegerType.get(), true)))
                .containsExactly(
                        "column 'weight' changes type from float to int: not a widening Iceberg"
                                + " can apply to existing files");
        assertThat(
                        ContractCompatibility.problems(
                                contract(1, with("qty", Types.LongType.get(), false)),
                                contract(2, V1)))
                .containsExactly(
                        "column 'qty' changes type from long to int: narrowing loses values"
                                + " already written");
        assertThat(problems(with("amount", Types.DecimalType.of(10, 3), true)))
                .containsExactly(
                        "column 'amount' changes type from decimal(10, 2) to decimal(10, 3): not a"
                                + " widening Iceberg can apply to existing files");
        assertThat(problems(with("note", Types.LongType.get(), true))).hasSize(1);
    }

    @Test
    void requiredColumns() {
        assertThat(problems(with("note", Types.StringType.get(), false)))
                .containsExactly(
                        "column 'note' becomes required: rows already written may hold nulls");
        assertThat(problems(with("sku", Types.StringType.get(), false)))
                .containsExactly(
                        "new column 'sku' is required: rows already written have no value; add it"
                                + " as nullable");
    }

    @Test
    void keyOrderingTableAndVersion() {
        Contract v1 = contract(1, V1);
        assertThat(ContractCompatibility.problems(v1, contract(2, V1, List.of("id", "qty"), null)))
                .containsExactly(
                        "primary key changes from [id] to [id, qty]: rows already written are"
                                + " merged and deleted by the old key; a new key needs a new table");
        assertThat(
                        ContractCompatibility.problems(
                                v1, contract(2, V1, List.of("id"), "event-time:qty")))
                .containsExactly(
                        "ordering changes from commit-order to event-time:qty: the reconciler's"
                                + " state holds positions of the old rule; start a new pipeline"
                                + " (new state) for another rule");
        assertThat(ContractCompatibility.problems(v1, contract(1, V1)))
                .containsExactly(
                        "version 1 does not follow 1: a new contract version must have a higher"
                                + " number");
        Contract other =
                new Contract("public.u", 2, V1, List.of("id"), null, List.of(), null, null);
        assertThat(ContractCompatibility.problems(v1, other))
                .containsExactly(
                        "contract is for table public.u, not public.t: a contract never moves to"
                                + " another table");
    }

    @Test
    void checkListsEveryProblem() {
        List<Column> next = with("note", Types.LongType.get(), false);
        next.removeIf(c -> c.name().equals("weight"));
        assertThatThrownBy(() -> ContractCompatibility.check(contract(1, V1), contract(2, next)))
                .isInstanceOf(ContractException.class)
                .hasMessageStartingWith("contract public.t v2 cannot replace public.t v1:")
                .hasMessageContaining("column 'weight' is dropped")
                .hasMessageContaining("column 'note' changes type from string to long")
                .hasMessageContaining("column 'note' becomes required")
                .satisfies(e -> assertThat(((ContractException) e).problems()).hasSize(3));
    }
}
