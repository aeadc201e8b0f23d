package io.tidemark.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.decode.SourcePosition;
import org.junit.jupiter.api.Test;

/**
 * {@link ReplayFloor}: a change at or below what the table holds is held, one after it is not; the
 * first transaction after a start, whose changes carry no commit position, stands at the log's
 * start.
 */
class ReplayFloorTest {

    private static final SourcePosition THROUGH = new SourcePosition(200, 250, 9);

    @Test
    void changesAtOrBelowTheFloorAreHeld() {
        ReplayFloor floor = new ReplayFloor(THROUGH, 100);
        assertThat(floor.holds(new SourcePosition(150, 160, 7))).isTrue();
        assertThat(floor.holds(new SourcePosition(200, 250, 9))).isTrue();
        assertThat(floor.holds(new SourcePosition(200, 251, 9))).isFalse();
        assertThat(floor.holds(new SourcePosition(300, 310, 10))).isFalse();
        // a re-read's change is no place in the log
        assertThat(floor.holds(SourcePosition.resnapshot(10, 1))).isFalse();
    }

    @Test
    void theFirstTransactionAfterAStartStandsAtTheLogsStart() {
        SourcePosition first = new SourcePosition(SourcePosition.UNKNOWN, 120, 8);
        // read again from 100, below what the table holds: the table holds it
        assertThat(new ReplayFloor(THROUGH, 100).holds(first)).isTrue();
        // read from past the floor: it is new
        assertThat(new ReplayFloor(THROUGH, 260).holds(first)).isFalse();
        // where the log starts is not known: applied
        assertThat(new ReplayFloor(THROUGH, SourcePosition.UNKNOWN).holds(first)).isFalse();
    }
}
