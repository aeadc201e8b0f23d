package io.tidemark.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.contract.Constraint;
import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.Contract.Column;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.catalog.contract.QualityCheck;
import io.tidemark.config.TruncatePolicy;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import io.tidemark.protocol.CommitMessage.GateCounts;
import io.tidemark.protocol.CommitMessage.GateTally;
import io.tidemark.protocol.CommitMessageSerializer;
import io.tidemark.runtime.RunContext;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.table.data.RowData;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

/** The contract gate on the real operator: evolution, undecodable changes and its tally. */
class ContractGateTest {

    private static final String TABLE = "public.items";

    private static Contract contract(EvolutionPolicy evolution) {
        return new Contract(
                TABLE,
                1,
                List.of(
                        new Column("id", Types.LongType.get(), false),
                        new Column("qty", Types.IntegerType.get(), true),
                        new Column("name", Types.StringType.get(), true)),
                List.of("id"),
                Contract.COMMIT_ORDER,
                List.<Constraint>of(),
                Duration.ofHours(1),
                evolution);
    }

    private static ChangeEvent insert(long id, Map<String, Object> extra) {
        Map<String, Object> after = new LinkedHashMap<>();
        after.put("id", id);
        after.put("qty", 1);
        after.put("name", "n" + id);
        after.putAll(extra);
        return new ChangeEvent(
                TABLE,
                Operation.INSERT,
                List.of(id),
                null,
                after,
                new SourcePosition(100 + id, 100 + id, id),
                1_000L);
    }

    /** Runs {@code changes} through a gate; returns (passed, quarantined, tally). */
    private static Result run(Contract contract, List<ChangeEvent> changes) throws Exception {
        return run(contract, changes, Map.of(), Map.of());
    }

    private static Result run(
            Contract contract,
            List<ChangeEvent> changes,
            Map<String, TruncatePolicy> truncatePolicies,
            Map<String, String> orderingColumns)
            throws Exception {
        return run(contract, null, changes, truncatePolicies, orderingColumns);
    }

    /** {@code implicit}: the table has no contract, and these are its Iceberg columns. */
    private static Result run(
            Contract contract,
            Contract implicit,
            List<ChangeEvent> changes,
            Map<String, TruncatePolicy> truncatePolicies,
            Map<String, String> orderingColumns)
            throws Exception {
        return run(
                contract,
                implicit,
                changes,
                truncatePolicies,
                orderingColumns,
                io.tidemark.source.ColumnDefaults.NONE);
    }

    private static Result run(
            Contract contract,
            Contract implicit,
            List<ChangeEvent> changes,
            Map<String, TruncatePolicy> truncatePolicies,
            Map<String, String> orderingColumns,
            io.tidemark.source.ColumnDefaults.Lookup columnDefaults)
            throws Exception {
        ContractGate gate =
                new ContractGate(
                        RunContext.start("p", "run-1"),
                        contract == null ? Map.of() : Map.of(TABLE, contract),
                        implicit == null ? Map.of() : Map.of(TABLE, implicit),
                        new io.tidemark.reconcile.KeyChangeSplitter(
                                Map.of(TABLE, List.of("id")),
                                io.tidemark.source.LiveTables.NONE,
                                3,
                                128),
                        truncatePolicies,
                        orderingColumns,
                        io.tidemark.source.LiveTables.NONE,
                        columnDefaults);
        try (OneInputStreamOperatorTestHarness<ChangeEvent, ChangeEvent> harness =
                new OneInputStreamOperatorTestHarness<>(new ContractGateOperator(gate))) {
            harness.open();
            for (ChangeEvent change : changes) {
                harness.processElement(new StreamRecord<>(change));
            }
            harness.prepareSnapshotPreBarrier(7L);
            List<ChangeEvent> passed = new ArrayList<>();
            for (Object out : harness.getOutput()) {
                if (out instanceof StreamRecord<?> record) {
                    passed.add((ChangeEvent) record.getValue());
                }
            }
            List<RowData> quarantined = new ArrayList<>();
            for (StreamRecord<RowData> record :
                    harness.getSideOutput(ContractGate.QUARANTINE) == null
                            ? List.<StreamRecord<RowData>>of()
                            : harness.getSideOutput(ContractGate.QUARANTINE)) {
                quarantined.add(record.getValue());
            }
            GateTally tally =
                    (GateTally)
                            CommitMessageSerializer.deserialize(
                                    harness.getSideOutput(ContractGate.TALLY).poll().getValue());
            return new Result(passed, quarantined, tally);
        }
    }

    private record Result(List<ChangeEvent> passed, List<RowData> quarantined, GateTally tally) {}

    @Test
    void aDeleteOfAnEventTimeTableKeepsItsOrderingColumnAndOneWithoutItIsQuarantined()
            throws Exception {
        Map<String, Object> old = new LinkedHashMap<>();
        old.put("id", 1L);
        old.put("qty", 7);
        old.put("name", "old");
        ChangeEvent delete =
                new ChangeEvent(
                        TABLE,
                        Operation.DELETE,
                        List.of(1L),
                        old,
                        null,
                        new SourcePosition(200, 200, 9),
                        2_000L);
        // REPLICA IDENTITY DEFAULT: the delete carries the key only
        ChangeEvent keyOnly =
                new ChangeEvent(
                        TABLE,
                        Operation.DELETE,
                        List.of(2L),
                        Map.of("id", 2L),
                        null,
                        new SourcePosition(201, 201, 10),
                        2_001L);

        for (Contract contract : java.util.Arrays.asList(contract(EvolutionPolicy.FAIL), null)) {
            Result result = run(contract, List.of(delete, keyOnly), Map.of(), Map.of(TABLE, "qty"));

            assertThat(result.passed())
                    .singleElement()
                    .satisfies(
                            d -> {
                                assertThat(d.before())
                                        .containsEntry("id", 1L)
                                        .containsEntry("qty", 7);
                            });
            assertThat(result.quarantined()).hasSize(1);
            assertThat(result.quarantined().get(0).getString(3).toString())
                    .isEqualTo("MISSING_COLUMN");
            assertThat(result.quarantined().get(0).getString(4).toString())
                    .contains("qty", "REPLICA IDENTITY FULL");
            assertThat(result.tally().tables().get(TABLE)).isEqualTo(new GateCounts(2, 1, 1, 1));
        }
    }

    @Test
    void aTableWithoutAContractFollowsItsSchemaEvolutionInsteadOfFailingTheWriter()
            throws Exception {
        List<ChangeEvent> drift =
                List.of(
                        insert(1, Map.of()),
                        // a column added in the source, then widened
                        insert(2, Map.of("color", "red")),
                        insert(3, Map.of("color", "blue", "qty", 5_000_000_000L)),
                        // a new numeric column: its precision and scale do not follow from values
                        insert(4, Map.of("price", new BigDecimal("1.50"))),
                        // a text value where the Iceberg column is an integer
                        insert(5, Map.of("qty", "many")));

        Result evolve = run(null, contract(EvolutionPolicy.EVOLVE), drift, Map.of(), Map.of());
        assertThat(evolve.passed()).extracting(c -> c.key().get(0)).containsExactly(1L, 2L, 3L);
        assertThat(evolve.passed().get(2).after())
                .containsEntry("color", "blue")
                .containsEntry("qty", 5_000_000_000L);
        assertThat(evolve.quarantined())
                .extracting(row -> row.getString(3).toString())
                .containsExactly("UNKNOWN_COLUMN", "WRONG_TYPE");
        assertThat(evolve.tally().tables().get(TABLE)).isEqualTo(new GateCounts(5, 3, 2, 3));

        Result quarantine =
                run(null, contract(EvolutionPolicy.QUARANTINE), drift, Map.of(), Map.of());
        assertThat(quarantine.passed()).hasSize(1);
        assertThat(quarantine.quarantined()).hasSize(4);
        assertThat(quarantine.quarantined().get(0).getString(1).toString()).isEqualTo("none");

        assertThatThrownBy(
                        () -> run(null, contract(EvolutionPolicy.FAIL), drift, Map.of(), Map.of()))
                .isInstanceOf(SuppressRestartsException.class)
                .rootCause()
                .hasMessageContaining("does not fit its Iceberg table")
                .hasMessageContaining("color")
                .hasMessageContaining("schema-evolution: evolve");
    }

    @Test
    void aTruncateIsForwardedOncePerReconcilerOrQuarantinedOrFailsByItsPolicy() throws Exception {
        ChangeEvent truncate =
                new ChangeEvent(
                        TABLE,
                        Operation.TRUNCATE,
                        List.of(),
                        null,
                        null,
                        new SourcePosition(300, 300, 11),
                        3_000L);

        Result applied = run(null, List.of(truncate), Map.of(), Map.of());
        assertThat(applied.passed()).hasSize(1);
        assertThat(applied.tally().tables().get(TABLE)).isEqualTo(new GateCounts(1, 1, 0, 3));

        Result held =
                run(null, List.of(truncate), Map.of(TABLE, TruncatePolicy.QUARANTINE), Map.of());
        assertThat(held.passed()).isEmpty();
        assertThat(held.quarantined())
                .singleElement()
                .satisfies(row -> assertThat(row.getString(3).toString()).isEqualTo("TRUNCATE"));

        assertThatThrownBy(
                        () ->
                                run(
                                        null,
                                        List.of(truncate),
                                        Map.of(TABLE, TruncatePolicy.FAIL),
                                        Map.of()))
                .rootCause()
                .hasMessageContaining("truncated in the source")
                .hasMessageContaining("truncate: apply");
    }

    @Test
    void aTruncateDuringTheSnapshotIsAppliedWhereTheTableCanBeReadAgainAndQuarantinedElsewhere()
            throws Exception {
        ChangeEvent truncate =
                ChangeEvent.truncate(
                        "source", TABLE, new SourcePosition(300, 300, 11), 3_000L, "LSN 0/12C");
        io.tidemark.source.ColumnDefaults.Lookup rereadable =
                new io.tidemark.source.ColumnDefaults.Lookup() {
                    @Override
                    public java.util.Optional<String> defaultOf(
                            String source, String table, String column) {
                        return java.util.Optional.empty();
                    }

                    @Override
                    public boolean rereadable(String table) {
                        return table.equals(TABLE);
                    }
                };

        Result applied = run(null, null, List.of(truncate), Map.of(), Map.of(), rereadable);
        assertThat(applied.passed())
                .singleElement()
                .satisfies(t -> assertThat(t.truncateDuringSnapshot()).isEqualTo("LSN 0/12C"));
        assertThat(applied.quarantined()).isEmpty();

        Result held = run(null, List.of(truncate), Map.of(), Map.of());
        assertThat(held.passed()).isEmpty();
        assertThat(held.quarantined())
                .singleElement()
                .satisfies(
                        row -> {
                            assertThat(row.getString(3).toString()).isEqualTo("TRUNCATE");
                        });
        assertThat(held.tally().tables().get(TABLE).quarantined()).isEqualTo(1);
    }

    @Test
    void evolvePassesANewColumnWhoseTypeFollowsFromItsValueAndAWiderValue() throws Exception {
        Result result =
                run(
                        contract(EvolutionPolicy.EVOLVE),
                        List.of(
                                insert(1, Map.of("color", "red")),
                                insert(2, Map.of("qty", 5_000_000_000L)),
                                insert(3, nullColumn("color"))));

        assertThat(result.quarantined()).isEmpty();
        assertThat(result.passed()).hasSize(3);
        assertThat(result.passed().get(0).after()).containsEntry("color", "red");
        assertThat(result.passed().get(1).after()).containsEntry("qty", 5_000_000_000L);
        assertThat(result.passed().get(2).after()).containsEntry("color", null);
    }

    @Test
    void evolveQuarantinesANewColumnWhoseTypeDoesNotFollowFromItsValue() throws Exception {
        Result result =
                run(
                        contract(EvolutionPolicy.EVOLVE),
                        List.of(insert(1, Map.of("price", new BigDecimal("1.50")))));

        assertThat(result.passed()).isEmpty();
        assertThat(result.quarantined()).hasSize(1);
        assertThat(result.quarantined().get(0).getString(3).toString()).isEqualTo("UNKNOWN_COLUMN");
    }

    @Test
    void quarantinePolicyQuarantinesWhatEvolveWouldPass() throws Exception {
        Result result =
                run(
                        contract(EvolutionPolicy.QUARANTINE),
                        List.of(
                                insert(1, Map.of("color", "red")),
                                insert(2, Map.of("qty", 5_000_000_000L))));

        assertThat(result.passed()).isEmpty();
        assertThat(result.quarantined())
                .extracting(row -> row.getString(3).toString())
                .containsExactly("UNKNOWN_COLUMN", "WRONG_TYPE");
    }

    @Test
    void malformedChangesAreQuarantinedWithTheirReasonAndPayload() throws Exception {
        ChangeEvent ghost =
                ChangeEvent.malformed(
                        "source",
                        "public.ghost",
                        "UNKNOWN_TABLE",
                        "change for table 'public.ghost', which is not in the pipeline's tables",
                        "Struct{op=c}",
                        new SourcePosition(5, 6, 7),
                        2_000L);
        ChangeEvent corrupt =
                ChangeEvent.malformed(
                        "source",
                        TABLE,
                        "CORRUPT_ENVELOPE",
                        "unknown operation 'x'",
                        "Struct{op=x}",
                        new SourcePosition(8, 9, 10),
                        2_000L);

        Result result = run(contract(EvolutionPolicy.QUARANTINE), List.of(ghost, corrupt));

        assertThat(result.passed()).isEmpty();
        assertThat(result.quarantined()).hasSize(2);
        RowData first = result.quarantined().get(0);
        assertThat(first.getString(0).toString()).isEqualTo("public.ghost");
        assertThat(first.getString(1).toString()).isEqualTo("none");
        assertThat(first.getString(3).toString()).isEqualTo("UNKNOWN_TABLE");
        assertThat(first.getString(13).toString()).isEqualTo("Struct{op=c}");
        RowData second = result.quarantined().get(1);
        assertThat(second.getString(1).toString()).isEqualTo("public.items v1");
        assertThat(second.getString(3).toString()).isEqualTo("CORRUPT_ENVELOPE");
        assertThat(result.tally().tables())
                .containsEntry("public.ghost", new GateCounts(1, 0, 1, 0))
                .containsEntry(TABLE, new GateCounts(1, 0, 1, 0));
    }

    @Test
    void tallyCountsEveryChangeInOnceAndWhatTheReconcilerReceives() throws Exception {
        ChangeEvent keyChange =
                new ChangeEvent(
                        TABLE,
                        Operation.UPDATE,
                        List.of(20L),
                        Map.of("id", 2L),
                        Map.of("id", 20L, "qty", 1, "name", "moved"),
                        new SourcePosition(300, 300, 3),
                        1_000L);
        Result result =
                run(
                        contract(EvolutionPolicy.QUARANTINE),
                        List.of(insert(1, Map.of()), insert(2, Map.of("color", "x")), keyChange));

        // the key change becomes a delete of key 2 and an upsert of key 20 for the reconciler
        assertThat(result.tally().tables())
                .containsExactly(Map.entry(TABLE, new GateCounts(3, 2, 1, 3)));
        assertThat(result.tally().checkpointId()).isEqualTo(7L);
    }

    @Test
    void tablesWithoutAContractPassAndAreCounted() throws Exception {
        Result result = run(null, List.of(insert(1, Map.of("anything", "goes"))));

        assertThat(result.passed()).hasSize(1);
        assertThat(result.tally().tables()).containsEntry(TABLE, new GateCounts(1, 1, 0, 1));
    }

    @Test
    void qualityCheckWindowsSurviveARestart() throws Exception {
        // no rows written for 2 checkpoints while changes arrive: one checkpoint before the
        // restart, one after it
        Contract contract =
                new Contract(
                        TABLE,
                        1,
                        contract(EvolutionPolicy.QUARANTINE).columns(),
                        List.of("id"),
                        Contract.COMMIT_ORDER,
                        List.<Constraint>of(),
                        Duration.ofHours(1),
                        EvolutionPolicy.QUARANTINE,
                        List.of(
                                new QualityCheck(
                                        QualityCheck.Kind.NO_ROWS_WRITTEN,
                                        null,
                                        0,
                                        2,
                                        QualityCheck.Mode.FAIL)));
        ChangeEvent bad = insert(1, Map.of("color", "red"));
        OperatorSubtaskState state;
        try (OneInputStreamOperatorTestHarness<ChangeEvent, ChangeEvent> before =
                harness(contract)) {
            before.open();
            before.processElement(new StreamRecord<>(bad));
            before.prepareSnapshotPreBarrier(1L);
            state = before.snapshot(1L, 1L);
        }
        try (OneInputStreamOperatorTestHarness<ChangeEvent, ChangeEvent> after =
                harness(contract)) {
            after.initializeState(state);
            after.open();
            after.processElement(new StreamRecord<>(bad));
            assertThatThrownBy(() -> after.prepareSnapshotPreBarrier(2L))
                    .isInstanceOf(SuppressRestartsException.class)
                    .cause()
                    .hasMessageContaining(
                            "data-quality check no-rows-written of table public.items (contract public.items v1)"
                                    + " failed at checkpoint 2: observed 0 over the last 2 checkpoint(s)");
        }
    }

    private static OneInputStreamOperatorTestHarness<ChangeEvent, ChangeEvent> harness(
            Contract contract) throws Exception {
        return new OneInputStreamOperatorTestHarness<>(
                new ContractGateOperator(
                        new ContractGate(
                                RunContext.start("p", "run-1"),
                                Map.of(TABLE, contract),
                                Map.of(TABLE, List.of("id")))));
    }

    private static Map<String, Object> nullColumn(String name) {
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put(name, null);
        return extra;
    }
}
