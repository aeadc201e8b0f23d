package io.tidemark.reconcile;

import static io.tidemark.reconcile.Changes.delete;
import static io.tidemark.reconcile.Changes.insert;
import static io.tidemark.reconcile.Changes.read;
import static io.tidemark.reconcile.Changes.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.reconcile.Reconciliation.Decision;
import io.tidemark.reconcile.Reconciliation.Verdict;
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
}
