package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The chunk audit's arithmetic and its reading of a transaction snapshot. */
class ChunkAuditTest {

    /** A snapshot of epoch 1: xmin 1:100, xmax 1:110, 1:103 and 1:107 still running. */
    private static ChunkAudit audit(long counted) {
        long epoch = 1L << 32;
        return new ChunkAudit(
                "public.t:0",
                counted,
                epoch + 100,
                epoch + 110,
                new long[] {epoch + 107, epoch + 103});
    }

    @Test
    void readsTheSnapshotThroughThirtyTwoBitIds() {
        ChunkAudit audit = audit(10);
        assertThat(audit.visible(99)).isTrue();
        assertThat(audit.visible(100)).isTrue();
        assertThat(audit.visible(103)).isFalse();
        assertThat(audit.visible(107)).isFalse();
        assertThat(audit.visible(109)).isTrue();
        assertThat(audit.visible(110)).isFalse();
        assertThat(audit.visible(200)).isFalse();
        // an id of the previous epoch, just before the wrap
        assertThat(audit.visible(0xFFFF_FFF0L)).isTrue();
    }

    @Test
    void changesTheSnapshotSeesButTheChunkLeftToTheLogAreTakenOut() {
        ChunkAudit audit = audit(10);
        audit.leftToLogPhase(101, "c"); // counted, not in the chunk
        audit.leftToLogPhase(102, "d"); // in the chunk, not counted
        audit.leftToLogPhase(104, "u"); // the same row on both sides
        audit.leftToLogPhase(103, "c"); // not visible: in neither
        audit.leftToLogPhase(111, "d"); // not visible: in neither
        assertThat(audit.expectedRows()).isEqualTo(10);
        audit.leftToLogPhase(105, "c");
        assertThat(audit.expectedRows()).isEqualTo(9);
    }

    @Test
    void aChunkThatLostAChangeFailsTheAudit() {
        long differed = ChunkAudit.DIFFERED.get();
        ChunkAudit audit = audit(10);
        assertThat(audit.check(10)).isTrue();
        // a row inserted while the chunk was read, delivered neither with the chunk nor after it
        ChunkAudit lost = audit(11);
        assertThat(lost.check(10)).isFalse();
        assertThat(ChunkAudit.DIFFERED.get()).isEqualTo(differed + 1);
    }
}
