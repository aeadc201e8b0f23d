package io.tidemark.reconcile;

import static io.tidemark.reconcile.Changes.delete;
import static io.tidemark.reconcile.Changes.insert;
import static io.tidemark.reconcile.Changes.read;
import static io.tidemark.reconcile.Changes.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OrderingRuleTest {

    private final OrderingRule commit = OrderingRule.commitOrder();
    private final OrderingRule byUpdatedAt = OrderingRule.eventTime("updated_at");

    @Test
    void commitOrderComparesCommitLsnBeforeChangeLsn() {
        // T2 committed first (commit LSN 400) although its change LSN (200) is above T1's (100)
        ChangeEvent t1 =
                new ChangeEvent(
                        "s.t",
                        Operation.UPDATE,
                        List.of(1L),
                        null,
                        Map.of("id", 1L),
                        new SourcePosition(500, 100, 1),
                        10);
        ChangeEvent t2 =
                new ChangeEvent(
                        "s.t",
                        Operation.UPDATE,
                        List.of(1L),
                        null,
                        Map.of("id", 1L),
                        new SourcePosition(400, 200, 2),
                        10);

        assertThat(commit.sequence(t2)).isLessThan(commit.sequence(t1));
        assertThat(commit.sequence(t1).isNewerThan(commit.sequence(t2))).isTrue();
    }

    @Test
    void commitOrderOrdersChangesWithinATransactionByChangeLsn() {
        ChangeEvent first =
                new ChangeEvent(
                        "s.t",
                        Operation.DELETE,
                        List.of(1L),
                        Map.of("id", 1L),
                        null,
                        new SourcePosition(500, 100, 1),
                        10);
        ChangeEvent second =
                new ChangeEvent(
                        "s.t",
                        Operation.INSERT,
                        List.of(1L),
                        null,
                        Map.of("id", 1L),
                        new SourcePosition(500, 101, 1),
                        10);
        assertThat(commit.sequence(second).isNewerThan(commit.sequence(first))).isTrue();
    }

    @Test
    void snapshotRowsSortBeforeEveryLogChangeAndHaveNoEventTime() {
        ChangeEvent snapshot = read(1, "a", 99_999);
        ChangeEvent earliestLogChange = insert(1, "b", 0, 1);

        assertThat(commit.sequence(snapshot)).isLessThan(commit.sequence(earliestLogChange));
        assertThat(commit.eventTimeMillis(snapshot)).isEqualTo(OrderingRule.NO_EVENT_TIME);
        assertThat(commit.eventTimeMillis(earliestLogChange)).isEqualTo(1L);
    }

    @Test
    void equalPositionsAreDuplicatesNotNewer() {
        assertThat(
                        commit.sequence(update(1, "a", 7, 1))
                                .isNewerThan(commit.sequence(update(1, "a", 7, 1))))
                .isFalse();
    }

    @Test
    void eventTimeRuleOrdersByColumnThenPosition() {
        ChangeEvent later = update(1, "late clock", 1, 2_000); // lower LSN, later updated_at
        ChangeEvent earlier = update(1, "early clock", 9, 1_000);
        assertThat(byUpdatedAt.sequence(later)).isGreaterThan(byUpdatedAt.sequence(earlier));

        ChangeEvent tieLow = update(1, "x", 3, 1_000);
        ChangeEvent tieHigh = update(1, "y", 4, 1_000);
        assertThat(byUpdatedAt.sequence(tieHigh)).isGreaterThan(byUpdatedAt.sequence(tieLow));
        assertThat(byUpdatedAt.eventTimeMillis(later)).isEqualTo(2_000L);
    }

    @Test
    void eventTimeRuleReadsDeletesFromTheBeforeImage() {
        ChangeEvent lastUpdate = update(1, "v", 5, 1_000);
        ChangeEvent delete = delete(1, 6, 1_000); // before image carries updated_at 1000
        ChangeEvent newerUpdate = update(1, "w", 2, 1_001);

        assertThat(byUpdatedAt.sequence(delete)).isGreaterThan(byUpdatedAt.sequence(lastUpdate));
        assertThat(byUpdatedAt.sequence(newerUpdate)).isGreaterThan(byUpdatedAt.sequence(delete));
    }

    @Test
    void eventTimeRuleAcceptsTimestampTypes() {
        OrderingRule rule = OrderingRule.eventTime("at");
        ChangeEvent tz =
                new ChangeEvent(
                        "s.t",
                        Operation.INSERT,
                        List.of(1L),
                        null,
                        Map.of("at", Instant.parse("2024-01-01T00:00:00.000001Z")),
                        SourcePosition.NONE,
                        0);
        ChangeEvent local =
                new ChangeEvent(
                        "s.t",
                        Operation.INSERT,
                        List.of(1L),
                        null,
                        Map.of("at", LocalDateTime.parse("2024-01-01T00:00:00.000002")),
                        SourcePosition.NONE,
                        0);
        assertThat(rule.sequence(local)).isGreaterThan(rule.sequence(tz));
        assertThat(rule.eventTimeMillis(tz))
                .isEqualTo(Instant.parse("2024-01-01T00:00:00Z").toEpochMilli());
    }

    @Test
    void eventTimeRuleNamesAMissingOrUnusableColumn() {
        ChangeEvent noColumn =
                new ChangeEvent(
                        "s.t",
                        Operation.INSERT,
                        List.of(1L),
                        null,
                        Map.of("id", 1L),
                        SourcePosition.NONE,
                        0);
        assertThatThrownBy(() -> byUpdatedAt.sequence(noColumn))
                .hasMessage(
                        "table 's.t': ordering column 'updated_at' is missing or null in a INSERT change; "
                                + "the event-time rule needs it in every row (and REPLICA IDENTITY FULL for deletes)");
        ChangeEvent text =
                new ChangeEvent(
                        "s.t",
                        Operation.INSERT,
                        List.of(1L),
                        null,
                        Map.of("updated_at", "noon"),
                        SourcePosition.NONE,
                        0);
        assertThatThrownBy(() -> byUpdatedAt.sequence(text))
                .hasMessage(
                        "table 's.t': ordering column 'updated_at' is a String; use a timestamp, date or "
                                + "epoch-millisecond column");
    }

    @Test
    void parsesTheDeclaredRule() {
        assertThat(OrderingRule.parse("commit-order")).isSameAs(OrderingRule.commitOrder());
        assertThat(OrderingRule.parse("event-time:updated_at"))
                .isEqualTo(OrderingRule.eventTime("updated_at"));
        assertThatThrownBy(() -> OrderingRule.parse("arrival"))
                .hasMessage("expected 'commit-order' or 'event-time:<column>', got 'arrival'");
    }
}
