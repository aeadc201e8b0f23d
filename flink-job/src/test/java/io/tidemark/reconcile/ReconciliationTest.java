package io.tidemark.reconcile;

import static io.tidemark.reconcile.Changes.delete;
import static io.tidemark.reconcile.Changes.insert;
import static io.tidemark.reconcile.Changes.read;
import static io.tidemark.reconcile.Changes.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.LatePolicy;
import io.tidemark.decode.BinlogPosition;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import io.tidemark.reconcile.Reconciliation.Decision;
import io.tidemark.reconcile.Reconciliation.Verdict;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One test per row of the decision table in {@link Reconciliation}'s Javadoc. */
class ReconciliationTest {

    private static final long LATENESS = 1_000;
    private static final long RETENTION = 60_000;
    private static final OrderingRule RULE = OrderingRule.commitOrder();

    private static Decision decide(
            KeyState state, ChangeEvent change, long watermark, LatePolicy policy) {
        return Reconciliation.decide(
                state,
                change,
                RULE.sequence(change),
                RULE.eventTimeMillis(change),
                watermark,
                LATENESS,
                RETENTION,
                policy);
    }

    private static Decision decide(KeyState state, ChangeEvent change) {
        return decide(state, change, Long.MIN_VALUE, LatePolicy.APPLY_IF_NEWER);
    }

    @Test
    void noStateApplies() {
        Decision d = decide(null, insert(1, "a", 10, 5_000));
        assertThat(d.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(d.late()).isFalse();
        assertThat(d.next()).isEqualTo(new KeyState(new Sequence(0, 10, 10), false, 5_000, 65_000));
    }

    @Test
    void newerChangeApplies() {
        KeyState state = decide(null, insert(1, "a", 10, 5_000)).next();
        Decision d = decide(state, update(1, "b", 11, 6_000));
        assertThat(d.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(d.next().applied()).isEqualTo(new Sequence(0, 11, 11));
        assertThat(d.next().cleanupAt()).isEqualTo(66_000);
    }

    @Test
    void olderChangeIsStale() {
        KeyState state = decide(null, update(1, "b", 11, 6_000)).next();
        Decision d = decide(state, insert(1, "a", 10, 5_000));
        assertThat(d.verdict()).isEqualTo(Verdict.STALE);
        assertThat(d.next()).isSameAs(state);
    }

    @Test
    void aBinlogPositionAgainstGtidStateFailsInsteadOfBeingDroppedAsStale() {
        // state written while the source ordered by GTID, then a change placed by binlog position
        // (the server's gtid_mode turned off between a savepoint and its restore)
        long gtid = io.tidemark.decode.GtidPosition.GTID_ORDER | 41;
        KeyState state = decide(null, update(1, "b", gtid, 6_000)).next();
        ChangeEvent byPosition = update(1, "c", (7L << 32) | 900, 7_000);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> decide(state, byPosition))
                .hasMessageContaining("table 'public.t' key [1]")
                .hasMessageContaining("placed by binlog position meets state placed by GTID")
                .hasMessageContaining("turn gtid_mode back on, or start the pipeline afresh");
        // the other way round is an order: GTID positions follow every binlog position
        KeyState old = decide(null, update(1, "b", (7L << 32) | 900, 6_000)).next();
        assertThat(decide(old, update(1, "c", gtid, 7_000)).verdict()).isEqualTo(Verdict.APPLY);
        // snapshot rows stay stale against any log state, as before
        assertThat(decide(state, read(1, "a", 0)).verdict()).isEqualTo(Verdict.STALE);
        // and a replayed GTID change against GTID state is a plain duplicate
        assertThat(decide(state, update(1, "b", gtid, 6_000)).verdict()).isEqualTo(Verdict.STALE);
    }

    @Test
    void replayedDuplicateIsStale() {
        KeyState state = decide(null, update(1, "b", 11, 6_000)).next();
        assertThat(decide(state, update(1, "b", 11, 6_000)).verdict()).isEqualTo(Verdict.STALE);
    }

    @Test
    void deleteLeavesATombstone() {
        KeyState state = decide(null, insert(1, "a", 10, 5_000)).next();
        Decision d = decide(state, delete(1, 12, 7_000));
        assertThat(d.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(d.next().tombstone()).isTrue();
    }

    @Test
    void olderUpdateAfterDeleteCannotResurrect() {
        KeyState tombstone = decide(null, delete(1, 12, 7_000)).next();
        assertThat(decide(tombstone, update(1, "ghost", 11, 6_000)).verdict())
                .isEqualTo(Verdict.STALE);
    }

    @Test
    void newerInsertAfterDeleteRecreates() {
        KeyState tombstone = decide(null, delete(1, 12, 7_000)).next();
        Decision d = decide(tombstone, insert(1, "again", 13, 8_000));
        assertThat(d.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(d.next().tombstone()).isFalse();
    }

    @Test
    void snapshotRowNeverOverwritesALogChange() {
        KeyState state = decide(null, update(1, "from the log", 11, 6_000)).next();
        assertThat(decide(state, read(1, "from the snapshot", 9_000)).verdict())
                .isEqualTo(Verdict.STALE);
    }

    @Test
    void snapshotRowIsNeverLateAndCountsRetentionFromTheWatermark() {
        Decision d = decide(null, read(1, "a", 1), 50_000, LatePolicy.FAIL);
        assertThat(d.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(d.late()).isFalse();
        assertThat(d.next().eventTime()).isEqualTo(50_000);
        assertThat(d.next().cleanupAt()).isEqualTo(110_000);
    }

    @Test
    void lateChangeUnderApplyIfNewerIsAppliedWhenNewer() {
        KeyState state = decide(null, insert(1, "a", 10, 5_000)).next();
        Decision d = decide(state, update(1, "b", 11, 6_000), 20_000, LatePolicy.APPLY_IF_NEWER);
        assertThat(d.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(d.late()).isTrue();
    }

    @Test
    void lateChangeUnderApplyIfNewerIsStaleWhenOlder() {
        KeyState state = decide(null, update(1, "b", 11, 6_000)).next();
        Decision d = decide(state, insert(1, "a", 10, 5_000), 20_000, LatePolicy.APPLY_IF_NEWER);
        assertThat(d.verdict()).isEqualTo(Verdict.STALE);
        assertThat(d.late()).isTrue();
    }

    @Test
    void lateChangeUnderQuarantineLeavesStateAlone() {
        KeyState state = decide(null, insert(1, "a", 10, 5_000)).next();
        Decision d = decide(state, update(1, "b", 11, 6_000), 20_000, LatePolicy.QUARANTINE);
        assertThat(d.verdict()).isEqualTo(Verdict.QUARANTINE_LATE);
        assertThat(d.next()).isSameAs(state);
    }

    @Test
    void lateChangeUnderFailFails() {
        assertThat(decide(null, update(1, "b", 11, 6_000), 20_000, LatePolicy.FAIL).verdict())
                .isEqualTo(Verdict.FAIL_LATE);
    }

    @Test
    void withinAllowedLatenessIsNotLate() {
        // watermark 7,000 - lateness 1,000 = 6,000: an event at 6,000 is on time
        Decision d = decide(null, update(1, "b", 11, 6_000), 7_000, LatePolicy.FAIL);
        assertThat(d.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(d.late()).isFalse();
    }

    @Test
    void retentionCountsFromTheNewestEventTime() {
        KeyState state = decide(null, update(1, "b", 11, 9_000)).next();
        // newer by position but with an older commit timestamp (clock step back): keep the newest
        Decision d = decide(state, update(1, "c", 12, 8_000));
        assertThat(d.next().eventTime()).isEqualTo(9_000);
        assertThat(d.next().cleanupAt()).isEqualTo(69_000);
    }

    /** A log change of a transaction whose previous commit is {@code commit}, at {@code lsn}. */
    private static ChangeEvent logChange(
            Operation op, long id, String value, long commit, long lsn) {
        return new ChangeEvent(
                Changes.TABLE,
                op,
                List.of(id),
                null,
                op == Operation.DELETE ? null : Changes.row(id, value, 5_000),
                new SourcePosition(commit, lsn, 1),
                5_000);
    }

    /** A re-snapshot's row holding every change of its key through {@code lsn}. */
    private static ChangeEvent reread(long id, String value, long lsn) {
        return reread(id, value, SourcePosition.resnapshot(lsn, 42));
    }

    /** A re-snapshot's row placed at {@code place}. */
    private static ChangeEvent reread(long id, String value, SourcePosition place) {
        return new ChangeEvent(
                Changes.TABLE,
                Operation.UPDATE,
                List.of(id),
                null,
                Changes.row(id, value, 6_000),
                place,
                6_000);
    }

    /** A re-snapshot's delete of key {@code id}, placed at {@code lsn}. */
    private static ChangeEvent rereadDelete(long id, long lsn) {
        return new ChangeEvent(
                Changes.TABLE,
                Operation.DELETE,
                List.of(id),
                Map.of("id", id),
                null,
                SourcePosition.resnapshot(lsn, 42),
                6_000);
    }

    /** The first snapshot's row of key {@code id}. */
    private static ChangeEvent snapshotRow(long id) {
        return new ChangeEvent(
                Changes.TABLE,
                Operation.READ,
                List.of(id),
                null,
                Changes.row(id, "first snapshot", 0),
                SourcePosition.NONE,
                0);
    }

    @Test
    void aReReadRowAndItsKeysLogChangesAreOrderedByChangeLsn() {
        // a transaction open across the re-read's high watermark 100 (re-read holds through 99):
        // its previous commit (50) is below, its change at 120 is not in the re-read
        ChangeEvent after = logChange(Operation.UPDATE, 1, "after", 50, 120);
        ChangeEvent folded = logChange(Operation.UPDATE, 1, "folded", 50, 80);
        ChangeEvent row = reread(1, "folded", 99);

        // the log change after the watermark arrives first: the re-read row is older
        KeyState live = decide(null, after).next();
        assertThat(decide(live, row).verdict()).isEqualTo(Verdict.STALE);

        // the re-read row first: a change it holds is stale, one after it applies, though its
        // commit coordinate (50) is below every position the re-read could be given
        KeyState reRead = decide(null, row).next();
        assertThat(decide(reRead, folded).verdict()).isEqualTo(Verdict.STALE);
        Decision next = decide(reRead, after);
        assertThat(next.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(decide(next.next(), row).verdict()).isEqualTo(Verdict.STALE);

        // a change exactly at the watermark is not in the re-read: it applies
        assertThat(decide(reRead, logChange(Operation.UPDATE, 1, "at", 60, 100)).verdict())
                .isEqualTo(Verdict.APPLY);
        // a newer re-read replaces an older one, not the reverse
        KeyState newer = decide(reRead, reread(1, "again", 150)).next();
        assertThat(newer).isNotNull();
        assertThat(decide(newer, row).verdict()).isEqualTo(Verdict.STALE);
        // a snapshot row of the first read never overwrites a re-read
        assertThat(decide(reRead, snapshotRow(1)).verdict()).isEqualTo(Verdict.STALE);
    }

    @Test
    void aReReadDeleteOfAKeyReinsertedLaterLosesToTheInsert() {
        ChangeEvent delete = rereadDelete(7, 99);
        ChangeEvent reinsert = logChange(Operation.INSERT, 7, "back", 10, 130);
        KeyState inserted = decide(null, reinsert).next();
        assertThat(decide(inserted, delete).verdict()).isEqualTo(Verdict.STALE);
        KeyState deleted = decide(null, delete).next();
        assertThat(deleted.tombstone()).isTrue();
        assertThat(decide(deleted, reinsert).verdict()).isEqualTo(Verdict.APPLY);
        assertThat(decide(deleted, logChange(Operation.UPDATE, 7, "old", 10, 40)).verdict())
                .isEqualTo(Verdict.STALE);
    }

    @Test
    void aKeyLimitedReReadPlacesItsRowsAboveItsDeletesAndBelowEveryChangeFromItsStart() {
        // a repair of named keys starting at WAL position 100 (LW): rows at LW - 1, deletes of the
        // named keys at LW - 2; every change below LW committed before its chunks were read
        ChangeEvent row = reread(1, "read", 99);
        ChangeEvent delete = rereadDelete(1, 98);
        // the key's delete and its row, in either order: the row stands
        assertThat(decide(decide(null, delete).next(), row).verdict()).isEqualTo(Verdict.APPLY);
        assertThat(decide(decide(null, row).next(), delete).verdict()).isEqualTo(Verdict.STALE);
        // a change below LW is in the chunk: stale after the row, replaced by it before
        ChangeEvent held = logChange(Operation.UPDATE, 1, "held", 60, 97);
        KeyState reRead = decide(null, row).next();
        assertThat(decide(reRead, held).verdict()).isEqualTo(Verdict.STALE);
        assertThat(decide(decide(null, held).next(), row).verdict()).isEqualTo(Verdict.APPLY);
        // a change from LW on, which the chunk may hold too, applies after the row (its whole
        // row again), and a row arriving after it is stale
        ChangeEvent later = logChange(Operation.UPDATE, 1, "later", 60, 100);
        assertThat(decide(reRead, later).verdict()).isEqualTo(Verdict.APPLY);
        assertThat(decide(decide(null, later).next(), row).verdict()).isEqualTo(Verdict.STALE);
    }

    /** A binlog change: row {@code row} of the rows event at {@code position} of {@code file}. */
    private static ChangeEvent binlogChange(
            long id, String value, String file, long position, int row) {
        return new ChangeEvent(
                Changes.TABLE,
                Operation.UPDATE,
                List.of(id),
                null,
                Changes.row(id, value, 5_000),
                BinlogPosition.of(file, position, row),
                5_000);
    }

    /** A binlog re-snapshot's row holding every change of its key through {@code place}. */
    private static ChangeEvent binlogReread(long id, String value, long place) {
        return reread(id, value, SourcePosition.resnapshotOfBinlog(place, 42));
    }

    @Test
    void aBinlogReReadRowAndItsKeysChangesAreOrderedByBinlogPlaceNotByRow() {
        // the chunk's high watermark is position 1,000 of file 3: the re-read holds every rows
        // event that starts before it
        long held = BinlogPosition.place("mysql-bin.000003", 1_000) - 1;
        ChangeEvent row = binlogReread(1, "read", held);
        ChangeEvent before = binlogChange(1, "before", "mysql-bin.000003", 400, 7);
        ChangeEvent after = binlogChange(1, "after", "mysql-bin.000003", 1_000, 0);
        ChangeEvent nextFile = binlogChange(1, "rotated", "mysql-bin.000004", 4, 0);

        KeyState reRead = decide(null, row).next();
        // a row index (7) above the re-read's place within the file's low bits does not matter
        assertThat(decide(reRead, before).verdict()).isEqualTo(Verdict.STALE);
        assertThat(decide(reRead, after).verdict()).isEqualTo(Verdict.APPLY);
        assertThat(decide(reRead, nextFile).verdict()).isEqualTo(Verdict.APPLY);
        // the log first: a change the re-read holds is replaced by it, a newer one is not
        assertThat(decide(decide(null, before).next(), row).verdict()).isEqualTo(Verdict.APPLY);
        assertThat(decide(decide(null, after).next(), row).verdict()).isEqualTo(Verdict.STALE);
        assertThat(decide(decide(null, nextFile).next(), row).verdict()).isEqualTo(Verdict.STALE);
        // a later re-read replaces an earlier one, and a first-snapshot row never replaces one
        KeyState again = decide(reRead, binlogReread(1, "again", held + 500)).next();
        assertThat(decide(again, row).verdict()).isEqualTo(Verdict.STALE);
        assertThat(decide(reRead, snapshotRow(1)).verdict()).isEqualTo(Verdict.STALE);
        // against a truncate: before it when its place is below the truncate's event
        Sequence sequence = OrderingRule.commitOrder().sequence(row);
        assertThat(sequence.isBefore(BinlogPosition.place("mysql-bin.000003", 1_200), 0)).isTrue();
        assertThat(sequence.isBefore(BinlogPosition.place("mysql-bin.000003", 900), 0)).isFalse();
    }

    /**
     * A GTID-placed change: row {@code row} of event {@code event} of transaction {@code ordinal}.
     */
    private static ChangeEvent gtidChange(
            long id, String value, long ordinal, long event, int row) {
        return new ChangeEvent(
                Changes.TABLE,
                Operation.UPDATE,
                List.of(id),
                null,
                Changes.row(id, value, 5_000),
                new SourcePosition(
                        io.tidemark.decode.GtidPosition.GTID_ORDER | ordinal,
                        (event << 32) | row,
                        SourcePosition.UNKNOWN),
                5_000);
    }

    @Test
    void aGtidReReadHoldsEveryTransactionOfItsOrdinalAndBelow() {
        // the chunk's high watermark: the executed GTID set holds 41 transactions
        ChangeEvent row = reread(1, "read", SourcePosition.resnapshotOfGtid(41, 2, 42));
        ChangeEvent held = gtidChange(1, "held", 41, 9, 1_000);
        ChangeEvent next = gtidChange(1, "next", 42, 0, 0);
        KeyState reRead = decide(null, row).next();
        // the last transaction it holds, whatever its event and row, is stale after it
        assertThat(decide(reRead, held).verdict()).isEqualTo(Verdict.STALE);
        assertThat(decide(reRead, next).verdict()).isEqualTo(Verdict.APPLY);
        // the log first: what it holds is replaced by it, a later transaction is not
        assertThat(decide(decide(null, held).next(), row).verdict()).isEqualTo(Verdict.APPLY);
        assertThat(decide(decide(null, next).next(), row).verdict()).isEqualTo(Verdict.STALE);
        // a re-read limited to keys: its deletes below its rows at one ordinal, in either order
        ChangeEvent delete =
                new ChangeEvent(
                        Changes.TABLE,
                        Operation.DELETE,
                        List.of(1L),
                        Map.of("id", 1L),
                        null,
                        SourcePosition.resnapshotOfGtid(41, 1, 42),
                        6_000);
        assertThat(decide(decide(null, delete).next(), row).verdict()).isEqualTo(Verdict.APPLY);
        assertThat(decide(reRead, delete).verdict()).isEqualTo(Verdict.STALE);
        assertThat(decide(decide(null, delete).next(), next).verdict()).isEqualTo(Verdict.APPLY);
        // a later re-read replaces it; first-snapshot rows and binlog-position state are older
        KeyState again =
                decide(reRead, reread(1, "again", SourcePosition.resnapshotOfGtid(50, 2, 43)))
                        .next();
        assertThat(decide(again, row).verdict()).isEqualTo(Verdict.STALE);
        assertThat(decide(reRead, snapshotRow(1)).verdict()).isEqualTo(Verdict.STALE);
        KeyState byPosition =
                decide(null, binlogChange(1, "old", "mysql-bin.000003", 400, 0)).next();
        assertThat(decide(byPosition, row).verdict()).isEqualTo(Verdict.APPLY);
        // a binlog-position change meeting it fails as against any GTID state, never dropped
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> decide(reRead, binlogChange(1, "c", "mysql-bin.000009", 4, 0)))
                .hasMessageContaining("placed by binlog position meets state placed by GTID");
        // against a truncate placed by GTID: before it when it holds only earlier transactions
        Sequence sequence = OrderingRule.commitOrder().sequence(row);
        long gtid = io.tidemark.decode.GtidPosition.GTID_ORDER;
        assertThat(sequence.isBefore(gtid | 42, 0)).isTrue();
        assertThat(sequence.isBefore(gtid | 41, 5)).isFalse();
    }

    /** {@link Reconciliation#decide} under an event-time rule on {@code updated_at}. */
    private static Decision decideByEventTime(KeyState state, ChangeEvent change, long watermark) {
        OrderingRule rule = OrderingRule.eventTime("updated_at");
        return Reconciliation.decide(
                state,
                change,
                rule.sequence(change, state),
                rule.eventTimeMillis(change, state),
                watermark,
                LATENESS,
                RETENTION,
                LatePolicy.QUARANTINE);
    }

    @Test
    void underEventTimeAReReadIsNeverLateAndItsDeleteTakesTheRemovedVersionsEventTime() {
        // the key's version: updated_at 5,000, written by the log at LSN 50
        KeyState state =
                decideByEventTime(null, logChange(Operation.UPDATE, 1, "v1", 40, 50), 0).next();
        long watermark = 1_000_000; // far past 5,000: a log change at 5,000 would be late
        // the re-read's row (the source's row now: the same version) replaces it: not late
        Decision row = decideByEventTime(state, reread(1, "v1", 99), watermark);
        assertThat(row.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(row.late()).isFalse();
        assertThat(
                        decideByEventTime(
                                        state,
                                        logChange(Operation.UPDATE, 1, "old", 40, 60),
                                        watermark)
                                .verdict())
                .isEqualTo(Verdict.QUARANTINE_LATE);
        // its delete of a key the source no longer holds: no row, no event time of its own; at
        // the version's event time the re-read's position decides
        ChangeEvent delete = rereadDelete(1, 98);
        Decision deleted = decideByEventTime(state, delete, watermark);
        assertThat(deleted.verdict()).isEqualTo(Verdict.APPLY);
        assertThat(deleted.next().tombstone()).isTrue();
        assertThat(deleted.next().applied().eventTime()).isEqualTo(state.applied().eventTime());
        // a version written after the re-read started is not deleted
        KeyState later =
                decideByEventTime(null, logChange(Operation.UPDATE, 1, "v2", 110, 120), 0).next();
        assertThat(decideByEventTime(later, delete, watermark).verdict()).isEqualTo(Verdict.STALE);
        // a key without state (a row put in the target by hand): deleted
        assertThat(decideByEventTime(null, delete, watermark).verdict()).isEqualTo(Verdict.APPLY);
        // and a later change of the key, by its event time, applies after the delete
        assertThat(
                        decideByEventTime(
                                        deleted.next(),
                                        logChange(Operation.UPDATE, 1, "v3", 130, 140),
                                        0)
                                .verdict())
                .isEqualTo(Verdict.APPLY);
    }

    /** A change of key 1 from {@code source} with {@code updated_at} {@code eventTime}. */
    private static ChangeEvent from(
            String source, Operation operation, long eventTime, SourcePosition place) {
        Map<String, Object> row = Changes.row(1, source, eventTime);
        return new ChangeEvent(
                source,
                Changes.TABLE,
                operation,
                List.of(1L),
                operation == Operation.DELETE ? Map.of("id", 1L) : null,
                operation == Operation.DELETE ? null : row,
                place,
                eventTime);
    }

    /** {@link Reconciliation#decide} for a table merged from sources {@code a} and {@code b}. */
    private static Decision decideMerged(KeyState state, ChangeEvent change) {
        OrderingRule rule = OrderingRule.eventTime("updated_at").withSources(List.of("a", "b"));
        return Reconciliation.decide(
                state,
                change,
                rule.sequence(change, state),
                rule.eventTimeMillis(change, state),
                0,
                LATENESS,
                RETENTION,
                LatePolicy.APPLY_IF_NEWER);
    }

    @Test
    void inAMergedTableAReReadDeleteRemovesOnlyAVersionOfItsOwnSource() {
        // the key's version came from source a (rank 0) at 5,000; b re-reads and does not hold it
        KeyState fromA =
                decideMerged(
                                null,
                                from("a", Operation.UPDATE, 5_000, new SourcePosition(40, 50, 1)))
                        .next();
        ChangeEvent deleteOfB =
                from("b", Operation.DELETE, 6_000, SourcePosition.resnapshot(98, 42));
        assertThat(decideMerged(fromA, deleteOfB).verdict())
                .as("b's re-read must not delete the row a holds")
                .isEqualTo(Verdict.STALE);
        // a's own re-read delete removes it (a no longer holds the key)
        ChangeEvent deleteOfA =
                from("a", Operation.DELETE, 6_000, SourcePosition.resnapshot(98, 42));
        KeyState deleted = decideMerged(fromA, deleteOfA).next();
        assertThat(deleted.tombstone()).isTrue();
        // then b's re-read delete is stale against a's tombstone, and b's re-read row of an older
        // version too; a newer one applies
        assertThat(decideMerged(deleted, deleteOfB).verdict()).isEqualTo(Verdict.STALE);
        assertThat(
                        decideMerged(
                                        deleted,
                                        from(
                                                "b",
                                                Operation.UPDATE,
                                                4_000,
                                                SourcePosition.resnapshot(99, 42)))
                                .verdict())
                .isEqualTo(Verdict.STALE);
        assertThat(
                        decideMerged(
                                        deleted,
                                        from(
                                                "b",
                                                Operation.UPDATE,
                                                7_000,
                                                SourcePosition.resnapshot(99, 42)))
                                .verdict())
                .isEqualTo(Verdict.APPLY);
        // without state (a row put in the target by hand, or state past its retention) the first
        // re-read delete applies, the other source's is stale against it, and any re-read row of
        // the key (at its event time) applies after both
        KeyState ghost = decideMerged(null, deleteOfB).next();
        assertThat(ghost.tombstone()).isTrue();
        assertThat(decideMerged(ghost, deleteOfA).verdict()).isEqualTo(Verdict.STALE);
        assertThat(
                        decideMerged(
                                        ghost,
                                        from(
                                                "a",
                                                Operation.UPDATE,
                                                1_000,
                                                SourcePosition.resnapshot(99, 42)))
                                .verdict())
                .isEqualTo(Verdict.APPLY);
    }
}
