package io.tidemark.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import io.tidemark.protocol.CommitMessage.Counts;
import io.tidemark.protocol.CommitMessage.FilesWritten;
import io.tidemark.protocol.CommitMessage.GateCounts;
import io.tidemark.protocol.CommitMessage.Tally;
import io.tidemark.protocol.CommitMessageSerializer;
import io.tidemark.runtime.RunContext;
import io.tidemark.schema.SchemaApplier;
import io.tidemark.schema.SchemaChange;
import io.tidemark.sink.RowDataConverter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commit protocol, step by step, with the real writer and committer operators on harnesses
 * against real Iceberg tables (a Hadoop catalog in a temporary directory). After every step: the
 * table's rows equal the expected ones, each checkpoint is committed at most once, and every
 * Tidemark snapshot carries every provenance key.
 */
class CommitProtocolTest {

    /** The checkpoint each harness snapshot was taken at, handed back on restore. */
    private static final Map<OperatorSubtaskState, Long> CHECKPOINT_IDS =
            java.util.Collections.synchronizedMap(new IdentityHashMap<>());

    private static final Schema SCHEMA =
            new Schema(
                    List.of(
                            Types.NestedField.required(1, "id", Types.LongType.get()),
                            Types.NestedField.optional(2, "v", Types.StringType.get())),
                    Set.of(1));

    @TempDir Path warehouse;

    private HadoopCatalog catalog;
    private CatalogLoader loader;

    /** Whether pipelines made from now on evolve their target (schema-evolution: evolve). */
    private boolean evolve;

    /** Whether pipelines made from now on may append snapshot rows as new keys. */
    private boolean snapshotRowsAreNewKeys;

    /** Whether pipelines made from now on snapshot every table when they start without state. */
    private boolean snapshotsOnFreshStart;

    private final List<Pipeline> open = new ArrayList<>();

    @BeforeEach
    void createTables() {
        Map<String, String> properties = Map.of("warehouse", warehouse.toUri().toString());
        catalog = new HadoopCatalog();
        catalog.setConf(new Configuration());
        catalog.initialize("test", properties);
        catalog.createNamespace(Namespace.of("db"));
        for (String name : List.of("t", "u")) {
            catalog.createTable(
                    TableIdentifier.of("db", name),
                    SCHEMA,
                    PartitionSpec.unpartitioned(),
                    Map.of(TableProperties.FORMAT_VERSION, "2"));
        }
        loader = CatalogLoader.hadoop("test", new Configuration(), properties);
    }

    @AfterEach
    void closeHarnesses() throws Exception {
        for (Pipeline pipeline : open) {
            pipeline.close();
        }
        catalog.close();
    }

    @Test
    void snapshotThenNotifyCommitsOneSnapshotPerCheckpoint() throws Exception {
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        p.upsert(1, "a").upsert(2, "b");
        p.checkpoint(1);
        assertThat(rows("t")).isEmpty();
        p.notifyComplete(1);
        assertTable("t", Map.of(1L, "a", 2L, "b"), 1);

        p.upsert(1, "a2").delete(2).upsert(3, "c");
        p.checkpoint(2);
        p.notifyComplete(2);
        assertTable("t", Map.of(1L, "a2", 3L, "c"), 2);

        Map<String, String> last = table("t").currentSnapshot().summary();
        assertThat(last)
                .containsEntry(Provenance.CHECKPOINT_ID, "2")
                .containsEntry(Provenance.RUN_ID, "run-1")
                .hasEntrySatisfying(Provenance.LINEAGE, l -> assertThat(l).startsWith("run-1."))
                .containsEntry(Provenance.ROWS_IN, "4")
                .containsEntry(Provenance.ROWS_UPSERTED, "2")
                .containsEntry(Provenance.ROWS_DELETED, "1")
                .containsEntry(Provenance.ROWS_STALE, "1")
                .containsEntry(Provenance.VALID_THROUGH, "1970-01-01T00:00:05Z")
                .containsEntry(
                        Provenance.SOURCE_POSITIONS,
                        "{\"source\":{\"commit_lsn\":\"0/5\",\"change_lsn\":\"0/5\",\"tx_id\":5}}");
    }

    @Test
    void aSchemaEvolvedWithinACheckpointIsCommittedAsPartsInOrderAndOnce() throws Exception {
        evolve = true;
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        // key 1 is written with the old schema, then updated with a column the source added:
        // the update's equality delete must apply to the first row, so it lands in a later snapshot
        p.upsert(1, "a").upsert(2, "b");
        // the schema stage applies what the writer asks for (here before the writer asks: the
        // writer re-reads the schema, finds the column and switches within the checkpoint)
        SchemaChange color =
                new SchemaChange(
                        "db.t", "public.t", SchemaChange.Kind.ADD, "color", Types.StringType.get());
        assertThat(SchemaApplier.apply(table("t"), color)).isTrue();
        assertThat(SchemaApplier.apply(table("t"), color)).as("applied once").isFalse();
        p.upsert(1, "a2", "color", "red").upsert(3, "c", "color", null);
        assertThat(p.schemaChangesAsked()).containsExactly(color.encode());
        OperatorSubtaskState state = p.checkpoint(1);
        p.close();

        assertThat(table("t").schema().findField("color").type()).isEqualTo(Types.StringType.get());
        Pipeline restored = pipeline("p", "run-1", "public.t", state);
        assertTable("t", Map.of(1L, "a2", 2L, "b", 3L, "c"), 2);
        assertThat(column("t", "color")).containsOnly(Map.entry(1L, "red"));
        List<Snapshot> snapshots = new ArrayList<>();
        table("t").snapshots().forEach(snapshots::add);
        assertThat(snapshots.get(0).summary())
                .doesNotContainKey(Provenance.CHECKPOINT_PART)
                .containsEntry(Provenance.ROWS_IN, "0")
                .containsEntry(Provenance.ROWS_UPSERTED, "2");
        assertThat(snapshots.get(1).summary())
                .containsEntry(Provenance.CHECKPOINT_PART, "1")
                .containsEntry(Provenance.ROWS_IN, "5")
                .containsEntry(Provenance.ROWS_UPSERTED, "2");
        restored.close();

        // restored once more from the same checkpoint: both parts are found committed
        pipeline("p", "run-1", "public.t", state).close();
        assertTable("t", Map.of(1L, "a2", 2L, "b", 3L, "c"), 2);
    }

    @Test
    void snapshotRowsIntoAnEmptyTableAreAppendedWithoutDeletesAndLaterChangesStillApply()
            throws Exception {
        snapshotRowsAreNewKeys = true;
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        // changes of appended keys in the same checkpoint: their deletes must reach the appended
        // rows, so the appended rows are committed first, as their own snapshot
        p.read(1, "a").read(2, "b").read(3, "c").upsert(2, "b2").delete(3);
        p.checkpoint(1);
        p.notifyComplete(1);
        assertTable("t", Map.of(1L, "a", 2L, "b2"), 2);
        List<Snapshot> snapshots = snapshots("t");
        assertThat(deleteFiles(snapshots.get(0))).isZero();
        assertThat(snapshots.get(0).summary())
                .doesNotContainKey(Provenance.CHECKPOINT_PART)
                .containsEntry(Provenance.ROWS_UPSERTED, "3");
        assertThat(deleteFiles(snapshots.get(1))).isPositive();
        assertThat(snapshots.get(1).summary())
                .containsEntry(Provenance.CHECKPOINT_PART, "1")
                .containsEntry(Provenance.ROWS_IN, "6");

        // a checkpoint of snapshot rows only: one snapshot, data files only
        p.read(4, "d").read(5, "e");
        p.checkpoint(2);
        p.notifyComplete(2);
        assertTable("t", Map.of(1L, "a", 2L, "b2", 4L, "d", 5L, "e"), 3);
        assertThat(deleteFiles(table("t").currentSnapshot())).isZero();
    }

    @Test
    void snapshotRowsAreUpsertedAfterARestoreAndIntoATableThatHoldsRows() throws Exception {
        snapshotRowsAreNewKeys = true;
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        p.read(1, "a").read(2, "b");
        OperatorSubtaskState state = p.checkpoint(1);
        p.close();

        // restored from checkpoint 1 before its commit: the writer opens on an empty table, the
        // committer commits checkpoint 1 on restore, and the source reads the chunk the checkpoint
        // cut again in full: rows 1 and 2 must be replaced, not added again
        assertThat(table("t").currentSnapshot()).isNull();
        Pipeline restored = pipeline("p", "run-1", "public.t", state);
        restored.read(1, "a").read(2, "b").read(3, "c");
        restored.checkpoint(2);
        restored.notifyComplete(2);
        assertTable("t", Map.of(1L, "a", 2L, "b", 3L, "c"), 2);
        assertThat(deleteFiles(table("t").currentSnapshot())).isPositive();
        restored.close();

        // a fresh start (no state) into a table that holds rows: its snapshot rows may be there
        Pipeline again = pipeline("p", "run-2", "public.t", null);
        again.read(1, "a1").read(4, "d");
        again.checkpoint(1);
        again.notifyComplete(1);
        assertThat(rows("t")).isEqualTo(Map.of(1L, "a1", 2L, "b", 3L, "c", 4L, "d"));
    }

    @Test
    void aFreshStartThatSnapshotsReplacesEachTableAtItsFirstCommitOnceAcrossARestore()
            throws Exception {
        Pipeline first = pipeline("p", "run-1", "public.t", null);
        first.upsert(1, "a").upsert(2, "b").upsert(3, "c");
        first.checkpoint(1);
        first.notifyComplete(1);
        first.close();

        // a start without state that snapshots the table again; key 2 was deleted in the source
        // meanwhile, so the snapshot reads 1 and 3 only. The job dies after checkpoint 1
        // completed, before its commit: nothing changed yet
        snapshotsOnFreshStart = true;
        Pipeline fresh = pipeline("p", "run-2", "public.t", null);
        fresh.read(1, "a1");
        OperatorSubtaskState state = fresh.checkpoint(1);
        fresh.close();
        assertThat(rows("t")).isEqualTo(Map.of(1L, "a", 2L, "b", 3L, "c"));

        // restored, it commits checkpoint 1 as the lineage's first commit: the old rows go
        Pipeline restored = pipeline("p", "run-2", "public.t", state);
        assertThat(rows("t")).isEqualTo(Map.of(1L, "a1"));
        restored.read(3, "c");
        restored.checkpoint(2);
        restored.notifyComplete(2);
        // and only the first: checkpoint 2 adds to what the lineage committed
        assertThat(rows("t")).isEqualTo(Map.of(1L, "a1", 3L, "c"));
        assertThat(snapshots("t"))
                .filteredOn(s -> s.summary().containsKey(Provenance.REPLACED_FILES))
                .singleElement()
                .satisfies(
                        s ->
                                assertThat(s.summary())
                                        .containsEntry(Provenance.REPLACED_FILES, "1")
                                        .containsEntry(Provenance.CHECKPOINT_ID, "1"));
    }

    private List<Snapshot> snapshots(String name) {
        List<Snapshot> snapshots = new ArrayList<>();
        table(name).snapshots().forEach(snapshots::add);
        return snapshots;
    }

    private int deleteFiles(Snapshot snapshot) {
        int count = 0;
        for (DeleteFile ignored : snapshot.addedDeleteFiles(table("t").io())) {
            count++;
        }
        return count;
    }

    @Test
    void aCheckpointThatDoesNotAddUpIsRefusedNamingEveryDifference() {
        Map<String, GateCounts> gated = new TreeMap<>();
        gated.put("public.a", new GateCounts(10, 8, 2, 9));
        gated.put("public.b", new GateCounts(5, 4, 0, 4));
        Map<String, Counts> reconciled =
                Map.of("public.a", new Counts(8, 0, 0), "public.b", new Counts(4, 0, 0));

        assertThatThrownBy(
                        () ->
                                CheckpointAudit.checkNothingLost(
                                        12L, gated, reconciled, Map.of("public.a", 1L)))
                .isInstanceOf(SuppressRestartsException.class)
                .cause()
                .hasMessage(
                        "checkpoint 12 does not add up, not committing it: "
                                + "public.a: the contract gate forwarded 9 change(s), the reconcilers received 8; "
                                + "public.b: 5 change(s) into the contract gate but 4 passed + 0 quarantined; "
                                + "the contract gate quarantined 2 change(s), the quarantine writers wrote 1");
        // and what adds up passes
        CheckpointAudit.checkNothingLost(
                12L,
                Map.of("public.a", new GateCounts(10, 8, 2, 9)),
                Map.of("public.a", new Counts(9, 0, 0)),
                Map.of("public.a", 2L));
    }

    @Test
    void snapshotWithoutNotifyIsCommittedOnRestore() throws Exception {
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        p.upsert(1, "a").upsert(2, "b");
        OperatorSubtaskState state = p.checkpoint(1);
        p.close();
        assertThat(rows("t")).isEmpty();

        Pipeline restored = pipeline("p", "run-2", "public.t", state);
        assertTable("t", Map.of(1L, "a", 2L, "b"), 1);
        assertThat(table("t").currentSnapshot().summary())
                .containsEntry(Provenance.RUN_ID, "run-2")
                .hasEntrySatisfying(Provenance.LINEAGE, l -> assertThat(l).startsWith("run-1."));

        restored.upsert(3, "c");
        restored.checkpoint(2);
        restored.notifyComplete(2);
        assertTable("t", Map.of(1L, "a", 2L, "b", 3L, "c"), 2);
    }

    @Test
    void restoreUnderNewJobIdDoesNotCommitAgain() throws Exception {
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        p.upsert(1, "a");
        p.checkpoint(1);
        p.notifyComplete(1);
        p.upsert(1, "b").upsert(2, "x");
        // checkpoint 2 completes and is committed, then the job dies before checkpoint 3
        OperatorSubtaskState state = p.checkpoint(2);
        p.notifyComplete(2);
        p.close();
        assertTable("t", Map.of(1L, "b", 2L, "x"), 2);

        // a new job (new job id, new run id) restores checkpoint 2, whose state still lists it
        Pipeline restored = pipeline("p", "run-2", "public.t", state);
        assertTable("t", Map.of(1L, "b", 2L, "x"), 2);
        restored.delete(2);
        restored.checkpoint(3);
        restored.notifyComplete(3);
        assertTable("t", Map.of(1L, "b"), 3);
    }

    @Test
    void notificationsInReverseOrderCommitInCheckpointOrder() throws Exception {
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        p.upsert(1, "a");
        p.checkpoint(1);
        p.upsert(1, "b").upsert(2, "c");
        p.checkpoint(2);
        p.notifyComplete(2);
        assertTable("t", Map.of(1L, "b", 2L, "c"), 2);
        p.notifyComplete(1);
        assertTable("t", Map.of(1L, "b", 2L, "c"), 2);
        assertThat(checkpointsInOrder("t")).containsExactly(1L, 2L);
    }

    @Test
    void severalPendingCheckpointsRestoreInOrderOnce() throws Exception {
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        p.upsert(1, "a");
        p.checkpoint(1);
        p.upsert(1, "b");
        p.checkpoint(2);
        p.upsert(2, "c");
        OperatorSubtaskState state = p.checkpoint(3);
        p.notifyComplete(1);
        p.close();
        assertTable("t", Map.of(1L, "a"), 1);

        pipeline("p", "run-2", "public.t", state);
        assertTable("t", Map.of(1L, "b", 2L, "c"), 3);
        assertThat(checkpointsInOrder("t")).containsExactly(1L, 2L, 3L);
    }

    @Test
    void twoPipelinesWriteDifferentTablesOfOneCatalog() throws Exception {
        Pipeline a = pipeline("pipeline-a", "run-a", "public.t", null);
        Pipeline b = pipeline("pipeline-b", "run-b", "public.u", null);
        a.upsert(1, "a1");
        b.upsert(1, "b1").upsert(2, "b2");
        a.checkpoint(1);
        OperatorSubtaskState bState = b.checkpoint(1);
        a.notifyComplete(1);
        b.close();
        assertTable("t", Map.of(1L, "a1"), 1);
        assertThat(rows("u")).isEmpty();

        Pipeline b2 = pipeline("pipeline-b", "run-b2", "public.u", bState);
        assertTable("u", Map.of(1L, "b1", 2L, "b2"), 1);
        a.upsert(2, "a2");
        b2.delete(1);
        a.checkpoint(2);
        b2.checkpoint(2);
        b2.notifyComplete(2);
        a.notifyComplete(2);
        assertTable("t", Map.of(1L, "a1", 2L, "a2"), 2);
        assertTable("u", Map.of(2L, "b2"), 2);
        for (Snapshot snapshot : table("u").snapshots()) {
            assertThat(snapshot.summary()).containsEntry(Provenance.PIPELINE_ID, "pipeline-b");
        }
    }

    @Test
    void startWithoutStateIsANewLineageEvenWithTheSameRunId() throws Exception {
        Pipeline first = pipeline("p", "run-1", "public.t", null);
        first.upsert(1, "a");
        first.checkpoint(1);
        first.notifyComplete(1);
        first.upsert(1, "b");
        first.checkpoint(2);
        first.notifyComplete(2);
        first.close();

        // same pipeline and run id, no state (checkpoint ids start again): must still commit
        Pipeline again = pipeline("p", "run-1", "public.t", null);
        again.upsert(1, "c").upsert(2, "d");
        again.checkpoint(1);
        again.notifyComplete(1);
        assertTable("t", Map.of(1L, "c", 2L, "d"), 3);
    }

    @Test
    void restoreFromAnOlderCheckpointThanTheLastCommitForksTheLineage() throws Exception {
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        p.upsert(1, "a");
        OperatorSubtaskState savepoint = p.checkpoint(1);
        p.notifyComplete(1);
        p.upsert(1, "b").upsert(2, "x");
        p.checkpoint(2);
        p.notifyComplete(2);
        p.upsert(3, "y");
        p.checkpoint(3);
        p.notifyComplete(3);
        p.close();
        String lineage = table("t").currentSnapshot().summary().get(Provenance.LINEAGE);

        // a rollback: started from checkpoint 1; its next checkpoint is 2 again, and the source
        // reads again from there
        Pipeline back = pipeline("p", "run-back", "public.t", savepoint);
        assertTable("t", Map.of(1L, "b", 2L, "x", 3L, "y"), 3);
        back.upsert(1, "b").upsert(2, "x").upsert(4, "z");
        back.checkpoint(2);
        back.notifyComplete(2);
        // under the old lineage checkpoint 2 counts as committed: key 4 would be lost
        assertTable("t", Map.of(1L, "b", 2L, "x", 3L, "y", 4L, "z"), 4);
        assertThat(table("t").currentSnapshot().summary())
                .containsEntry(Provenance.CHECKPOINT_ID, "2")
                .hasEntrySatisfying(
                        Provenance.LINEAGE,
                        l -> assertThat(l).startsWith("run-back.").isNotEqualTo(lineage));
    }

    /**
     * Another engine commits on top of the pipeline's commits (a compaction, a maintenance job) and
     * the snapshots holding them expire: the history no longer says what was committed, the table's
     * committed-through property does, so a restore does not commit its checkpoint again (its
     * temporary manifests are gone: before, that failed at every restart).
     */
    @Test
    void aRestoreFindsItsCommitsAfterTheSnapshotsHoldingThemExpired() throws Exception {
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        p.upsert(1, "a");
        p.checkpoint(1);
        p.notifyComplete(1);
        p.upsert(2, "b");
        OperatorSubtaskState state = p.checkpoint(2);
        p.notifyComplete(2);
        p.close();
        Table t = table("t");
        t.newAppend().commit();
        t.expireSnapshots().expireOlderThan(System.currentTimeMillis() + 1).retainLast(1).commit();
        assertThat(Provenance.lastCommits(table("t"), 10)).as("no Tidemark commit left").isEmpty();

        Pipeline restored = pipeline("p", "run-2", "public.t", state);
        restored.upsert(3, "c");
        restored.checkpoint(3);
        restored.notifyComplete(3);

        assertThat(rows("t")).isEqualTo(Map.of(1L, "a", 2L, "b", 3L, "c"));
        assertThat(Provenance.lastCommits(table("t"), 10))
                .singleElement()
                .satisfies(c -> assertThat(c.get(Provenance.CHECKPOINT_ID)).isEqualTo("3"));
        assertThat(table("t").properties().get(Provenance.committedThroughKey("p")))
                .endsWith(" 3 0");
    }

    /**
     * Two jobs started from one checkpoint (or savepoint): the first to commit goes on; the second
     * finds the table committed by another job of its pipeline and stops without committing its
     * checkpoint of the same id again.
     */
    @Test
    void aSecondJobRestoredFromTheSameCheckpointStopsInsteadOfCommitting() throws Exception {
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        p.upsert(1, "a");
        OperatorSubtaskState state = p.checkpoint(1);
        p.notifyComplete(1);
        p.close();
        Pipeline first = pipeline("p", "run-2", "public.t", state);
        Pipeline second = pipeline("p", "run-3", "public.t", state);

        first.upsert(2, "b");
        first.checkpoint(2);
        first.notifyComplete(2);
        second.upsert(2, "b").upsert(3, "x");
        second.checkpoint(2);

        assertThatThrownBy(() -> second.notifyComplete(2))
                .hasStackTraceContaining("committed to by another job of pipeline p")
                .hasStackTraceContaining("without committing checkpoint 2");
        assertTable("t", Map.of(1L, "a", 2L, "b"), 2);
        first.upsert(4, "d");
        first.checkpoint(3);
        first.notifyComplete(3);
        assertTable("t", Map.of(1L, "a", 2L, "b", 4L, "d"), 3);
    }

    @Test
    void emptyCheckpointsCreateNoSnapshots() throws Exception {
        Pipeline p = pipeline("p", "run-1", "public.t", null);
        for (long checkpoint = 1; checkpoint <= 5; checkpoint++) {
            p.checkpoint(checkpoint);
            p.notifyComplete(checkpoint);
        }
        assertThat(table("t").currentSnapshot()).isNull();
        p.upsert(1, "a");
        p.checkpoint(6);
        p.notifyComplete(6);
        for (long checkpoint = 7; checkpoint <= 9; checkpoint++) {
            p.checkpoint(checkpoint);
            p.notifyComplete(checkpoint);
        }
        assertTable("t", Map.of(1L, "a"), 1);
        assertThat(checkpointsInOrder("t")).containsExactly(6L);
    }

    @Test
    void failureInsideCommitIsRetriedOnRestoreOnce() throws Exception {
        FailOnce failOnce = new FailOnce();
        Pipeline p = pipeline("p", "run-1", "public.t", null, failOnce);
        p.upsert(1, "a");
        OperatorSubtaskState state = p.checkpoint(1);
        assertThatThrownBy(() -> p.notifyComplete(1)).hasMessageContaining("injected");
        p.close();
        assertThat(rows("t")).isEmpty();

        pipeline("p", "run-1", "public.t", state, failOnce);
        assertTable("t", Map.of(1L, "a"), 1);
    }

    @Test
    void concurrentCommitByAnotherWriterIsRetriedNotOverwritten() throws Exception {
        Pipeline other = pipeline("other-writer", "run-o", "public.t", null);
        other.upsert(100, "theirs");
        other.checkpoint(1);
        // another writer commits after our commit has read the table's metadata: ours must
        // lose the first attempt, retry on fresh metadata and keep the other snapshot
        RaceOnce.action =
                () -> {
                    try {
                        other.notifyComplete(1);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                };
        Pipeline p = pipeline("p", "run-1", "public.t", null, new RaceOnce());
        p.upsert(1, "ours");
        p.checkpoint(1);
        p.notifyComplete(1);

        assertTable("t", Map.of(1L, "ours", 100L, "theirs"), 2);
        Snapshot ours = table("t").currentSnapshot();
        assertThat(ours.summary()).containsEntry(Provenance.PIPELINE_ID, "p");
        assertThat(table("t").snapshot(ours.parentId()).summary())
                .containsEntry(Provenance.PIPELINE_ID, "other-writer");
    }

    /** Runs {@link #action} once, inside the first commit, before it is applied. */
    static final class RaceOnce implements CommitListener {
        private static final long serialVersionUID = 1L;
        static volatile Runnable action;

        @Override
        public void beforeCommit(String table, long checkpointId) {
            Runnable run = action;
            action = null;
            if (run != null) {
                run.run();
            }
        }
    }

    @Test
    void messagesRoundTripThroughTheirSerializer() {
        Tally tally =
                new Tally(
                        7,
                        1,
                        1234,
                        Map.of("public.t", new Counts(3, 1, 2)),
                        Map.of("pg", new SourcePosition(10, 11, 12)));
        assertThat(CommitMessageSerializer.deserialize(CommitMessageSerializer.serialize(tally)))
                .isEqualTo(tally);
        byte[] bytes = CommitMessageSerializer.serialize(tally);
        bytes[0] = 99;
        assertThatThrownBy(() -> CommitMessageSerializer.deserialize(bytes))
                .hasMessageContaining("version 99");

        FilesWritten truncated =
                new FilesWritten(
                        7, "db.t", 65_536, FilesWritten.NO_FILES, new byte[0], 0, 0, "pg/lsn=5");
        FilesWritten read =
                (FilesWritten)
                        CommitMessageSerializer.deserialize(
                                CommitMessageSerializer.serialize(truncated));
        assertThat(read.part()).isEqualTo(65_536);
        assertThat(read.truncatedAt()).isEqualTo("pg/lsn=5");
        assertThat(read.manifestsVersion()).isEqualTo(FilesWritten.NO_FILES);
    }

    @Test
    void aTallyCarriesItsResnapshotsAndOneOfVersionThreeReadsWithoutAny() {
        Tally tally =
                new Tally(
                        7,
                        1,
                        1234,
                        Map.of("public.t", new Counts(3, 1, 2)),
                        Map.of("pg", new SourcePosition(10, 11, 12)),
                        Map.of("public.t", 1796219549935L));
        assertThat(CommitMessageSerializer.deserialize(CommitMessageSerializer.serialize(tally)))
                .isEqualTo(tally);

        Tally without =
                new Tally(
                        7,
                        1,
                        1234,
                        Map.of("public.t", new Counts(3, 1, 2)),
                        Map.of("pg", new SourcePosition(10, 11, 12)));
        byte[] current = CommitMessageSerializer.serialize(without);
        // version 3 ended after the positions: no re-snapshot count
        byte[] version3 = java.util.Arrays.copyOf(current, current.length - 4);
        version3[0] = 3;
        Tally read = (Tally) CommitMessageSerializer.deserialize(version3);
        assertThat(read).isEqualTo(without);
        assertThat(read.resnapshots()).isEmpty();
    }

    @Test
    void filesWrittenOfVersionTwoReadWithoutATruncate() {
        FilesWritten files = new FilesWritten(7, "db.t", 1, 3, new byte[] {1, 2, 3}, 10, 4);
        byte[] current = CommitMessageSerializer.serialize(files);
        // version 2 ended after the deleted rows: no truncate flag
        byte[] version2 = java.util.Arrays.copyOf(current, current.length - 1);
        version2[0] = 2;

        FilesWritten read = (FilesWritten) CommitMessageSerializer.deserialize(version2);

        assertThat(read.part()).isEqualTo(1);
        assertThat(read.manifests()).containsExactly(1, 2, 3);
        assertThat(read.rowsUpserted()).isEqualTo(10);
        assertThat(read.rowsDeleted()).isEqualTo(4);
        assertThat(read.truncatedAt()).isNull();
    }

    // ---------------------------------------------------------------------------------------

    /** Fails the first commit it sees. */
    static final class FailOnce implements CommitListener {
        private static final long serialVersionUID = 1L;
        private boolean failed;

        @Override
        public void beforeCommit(String table, long checkpointId) {
            if (!failed) {
                failed = true;
                throw new IllegalStateException("injected failure inside the commit");
            }
        }
    }

    private Pipeline pipeline(
            String pipelineId, String runId, String sourceTable, OperatorSubtaskState restore)
            throws Exception {
        return pipeline(pipelineId, runId, sourceTable, restore, CommitListener.NONE);
    }

    private Pipeline pipeline(
            String pipelineId,
            String runId,
            String sourceTable,
            OperatorSubtaskState restore,
            CommitListener listener)
            throws Exception {
        Pipeline pipeline =
                new Pipeline(
                        new RunContext(runId, pipelineId, "test-version"),
                        sourceTable,
                        restore,
                        listener);
        open.add(pipeline);
        return pipeline;
    }

    /** One writer subtask, one reconciler tally and the committer, as the job wires them. */
    private final class Pipeline {
        private final String sourceTable;
        private final OneInputStreamOperatorTestHarness<ChangeEvent, byte[]> writer;
        private final OneInputStreamOperatorTestHarness<byte[], Void> committer;
        private long lsn;
        private long in;
        private long stale;
        private boolean closed;

        Pipeline(
                RunContext run,
                String sourceTable,
                OperatorSubtaskState restore,
                CommitListener listener)
                throws Exception {
            this.sourceTable = sourceTable;
            String target = "db." + sourceTable.substring(sourceTable.indexOf('.') + 1);
            writer =
                    new OneInputStreamOperatorTestHarness<>(
                            new ChangeWriter(
                                    run,
                                    loader,
                                    List.of(
                                            new ChangeWriter.Route(
                                                    sourceTable,
                                                    target,
                                                    new RowDataConverter(
                                                            sourceTable, SCHEMA, List.of("id")),
                                                    evolve,
                                                    snapshotRowsAreNewKeys))));
            if (restore != null) {
                // the writer keeps no state, but it knows the job was restored
                writer.setRestoredCheckpointId(CHECKPOINT_IDS.get(restore));
                writer.initializeState(OperatorSubtaskState.builder().build());
            }
            writer.open();
            committer =
                    new OneInputStreamOperatorTestHarness<>(
                            new TidemarkCommitter(
                                    run,
                                    loader,
                                    List.of(new CommitTarget(target, sourceTable, false)),
                                    "v1",
                                    1,
                                    listener,
                                    io.tidemark.source.LiveTables.NONE,
                                    snapshotsOnFreshStart));
            if (restore != null) {
                // as Flink does: the restored checkpoint's id reaches the operator
                committer.setRestoredCheckpointId(CHECKPOINT_IDS.get(restore));
                committer.initializeState(restore);
            }
            committer.open();
        }

        /** What the writer sent the schema stage. */
        List<String> schemaChangesAsked() {
            java.util.Queue<org.apache.flink.streaming.runtime.streamrecord.StreamRecord<String>>
                    asked = writer.getSideOutput(ChangeWriter.SCHEMA_CHANGES);
            return asked == null
                    ? List.of()
                    : asked.stream()
                            .map(
                                    org.apache.flink.streaming.runtime.streamrecord.StreamRecord
                                            ::getValue)
                            .toList();
        }

        /** A snapshot row. */
        Pipeline read(long id, String value) throws Exception {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", id);
            row.put("v", value);
            return change(Operation.READ, id, null, row);
        }

        Pipeline upsert(long id, String value) throws Exception {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", id);
            row.put("v", value);
            return change(Operation.UPDATE, id, null, row);
        }

        Pipeline upsert(long id, String value, String column, Object columnValue) throws Exception {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", id);
            row.put("v", value);
            row.put(column, columnValue);
            return change(Operation.UPDATE, id, null, row);
        }

        Pipeline delete(long id) throws Exception {
            return change(Operation.DELETE, id, Map.of("id", id), null);
        }

        private Pipeline change(
                Operation op, long id, Map<String, Object> before, Map<String, Object> after)
                throws Exception {
            lsn++;
            in++;
            writer.processElement(
                    new StreamRecord<>(
                            new ChangeEvent(
                                    sourceTable,
                                    op,
                                    List.of(id),
                                    before,
                                    after,
                                    new SourcePosition(lsn, lsn, lsn),
                                    lsn * 1000)));
            return this;
        }

        /** The barrier of {@code checkpointId} passes the writer; the committer snapshots. */
        OperatorSubtaskState checkpoint(long checkpointId) throws Exception {
            writer.prepareSnapshotPreBarrier(checkpointId);
            for (byte[] message : writer.extractOutputValues()) {
                committer.processElement(new StreamRecord<>(message));
            }
            writer.getOutput().clear();
            // as a reconciler would report: the changes written plus one stale one dropped
            Map<String, Counts> counts = new HashMap<>();
            if (in > 0) {
                stale++;
                counts.put(sourceTable, new Counts(in + 1, 1, 0));
            }
            committer.processElement(
                    new StreamRecord<>(
                            CommitMessageSerializer.serialize(
                                    new Tally(
                                            checkpointId,
                                            0,
                                            lsn * 1000,
                                            counts,
                                            lsn == 0
                                                    ? Map.of()
                                                    : Map.of(
                                                            ChangeEvent.DEFAULT_SOURCE,
                                                            new SourcePosition(lsn, lsn, lsn))))));
            in = 0;
            committer.prepareSnapshotPreBarrier(checkpointId);
            OperatorSubtaskState state = committer.snapshot(checkpointId, checkpointId);
            CHECKPOINT_IDS.put(state, checkpointId);
            return state;
        }

        void notifyComplete(long checkpointId) throws Exception {
            committer.notifyOfCompletedCheckpoint(checkpointId);
        }

        void close() throws Exception {
            if (!closed) {
                closed = true;
                writer.close();
                committer.close();
            }
        }
    }

    private Table table(String name) {
        return catalog.loadTable(TableIdentifier.of("db", name));
    }

    private Map<Long, String> rows(String name) throws Exception {
        Map<Long, String> rows = new HashMap<>();
        Table table = table(name);
        if (table.currentSnapshot() == null) {
            return rows;
        }
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                String previous =
                        rows.put((Long) record.getField("id"), (String) record.getField("v"));
                assertThat(previous).as("duplicate key %s", record.getField("id")).isNull();
            }
        }
        return rows;
    }

    private Map<Long, Object> column(String name, String column) throws Exception {
        Map<Long, Object> values = new HashMap<>();
        try (CloseableIterable<Record> records = IcebergGenerics.read(table(name)).build()) {
            for (Record record : records) {
                if (record.getField(column) != null) {
                    values.put((Long) record.getField("id"), record.getField(column));
                }
            }
        }
        return values;
    }

    private List<Long> checkpointsInOrder(String name) {
        List<Long> checkpoints = new ArrayList<>();
        for (Snapshot snapshot : table(name).snapshots()) {
            checkpoints.add(Long.parseLong(snapshot.summary().get(Provenance.CHECKPOINT_ID)));
        }
        return checkpoints;
    }

    /** Rows exact, {@code snapshots} Tidemark snapshots, each checkpoint once, every key. */
    private void assertTable(String name, Map<Long, String> expected, int snapshots)
            throws Exception {
        assertThat(rows(name)).isEqualTo(expected);
        Set<String> commits = new HashSet<>();
        int count = 0;
        for (Snapshot snapshot : table(name).snapshots()) {
            count++;
            Map<String, String> summary = snapshot.summary();
            assertThat(summary).containsKeys(Provenance.KEYS.toArray(new String[0]));
            assertThat(
                            commits.add(
                                    summary.get(Provenance.PIPELINE_ID)
                                            + "/"
                                            + summary.get(Provenance.LINEAGE)
                                            + "/"
                                            + summary.get(Provenance.CHECKPOINT_ID)
                                            + "/"
                                            + summary.get(Provenance.CHECKPOINT_PART)))
                    .as("checkpoint %s committed twice", summary.get(Provenance.CHECKPOINT_ID))
                    .isTrue();
        }
        assertThat(count).as("snapshots of %s", name).isEqualTo(snapshots);
    }
}
