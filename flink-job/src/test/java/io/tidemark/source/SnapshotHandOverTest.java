package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The hand-over splits the log at a chunk's high watermark: every change goes one way, once. */
class SnapshotHandOverTest {

    private static final long HIGH_WATERMARK = 0x1_6B37_4D48L;

    /** Flink CDC's log phase emits a change whose position is strictly after the watermark. */
    private static boolean emittedByLogPhase(long changeLsn, long highWatermark) {
        return SnapshotHandOver.logPhasePosition(changeLsn) > highWatermark;
    }

    @Test
    void everyChangeIsFoldedOrEmittedExactlyOnce() {
        for (long lsn = HIGH_WATERMARK - 64; lsn <= HIGH_WATERMARK + 64; lsn++) {
            boolean folded = SnapshotHandOver.foldedIntoChunk(lsn, HIGH_WATERMARK);
            boolean emitted = emittedByLogPhase(lsn, HIGH_WATERMARK);
            assertThat(folded ^ emitted).as("change at %s", lsn).isTrue();
        }
    }

    @Test
    void aChangeAtTheWatermarkBelongsToTheLogPhase() {
        // the change Flink CDC's own hand-over delivered by neither path
        assertThat(SnapshotHandOver.foldedIntoChunk(HIGH_WATERMARK, HIGH_WATERMARK)).isFalse();
        assertThat(emittedByLogPhase(HIGH_WATERMARK, HIGH_WATERMARK)).isTrue();
        assertThat(SnapshotHandOver.foldedIntoChunk(HIGH_WATERMARK - 8, HIGH_WATERMARK)).isTrue();
        assertThat(emittedByLogPhase(HIGH_WATERMARK - 8, HIGH_WATERMARK)).isFalse();
    }
}
