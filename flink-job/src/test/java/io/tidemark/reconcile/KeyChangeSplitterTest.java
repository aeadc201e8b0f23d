package io.tidemark.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyChangeSplitterTest {

    private final KeyChangeSplitter splitter = new KeyChangeSplitter(Map.of("s.t", List.of("id")));

    private List<ChangeEvent> split(ChangeEvent change) {
        List<ChangeEvent> out = new ArrayList<>();
        splitter.split(change, out::add);
        return out;
    }

    @Test
    void keyUpdateBecomesDeleteOfOldKeyAndUpsertOfNewKey() {
        SourcePosition at = new SourcePosition(5, 6, 7);
        ChangeEvent update =
                new ChangeEvent(
                        "s.t",
                        Operation.UPDATE,
                        List.of(2L),
                        Map.of("id", 1L, "v", "a"),
                        Map.of("id", 2L, "v", "a"),
                        at,
                        9);

        List<ChangeEvent> out = split(update);

        assertThat(out).hasSize(2);
        assertThat(out.get(0).operation()).isEqualTo(Operation.DELETE);
        assertThat(out.get(0).key()).containsExactly(1L);
        assertThat(out.get(0).before()).containsEntry("id", 1L);
        assertThat(out.get(1).operation()).isEqualTo(Operation.UPDATE);
        assertThat(out.get(1).key()).containsExactly(2L);
        assertThat(out.get(1).before()).isNull();
        assertThat(out).allSatisfy(c -> assertThat(c.position()).isEqualTo(at));
    }

    @Test
    void aBinaryKeyIsEqualByItsBytes() {
        // the before and after images hold different arrays with the same bytes
        ChangeEvent update =
                new ChangeEvent(
                        "s.t",
                        Operation.UPDATE,
                        List.of(new byte[] {1, 2}),
                        Map.of("id", new byte[] {1, 2}, "v", "a"),
                        Map.of("id", new byte[] {1, 2}, "v", "b"),
                        new SourcePosition(5, 6, 7),
                        9);

        assertThat(split(update)).containsExactly(update);
        // the same bytes route to the same reconciler key, on any JVM
        ChangeEvent again = update.with(Operation.DELETE, List.of(new byte[] {1, 2}), null, null);
        assertThat(Reconciler.keyOf(again))
                .isEqualTo(Reconciler.keyOf(update))
                .isEqualTo("s.t\u00000x0102\u0000");
    }

    @Test
    void otherChangesPassUnchanged() {
        ChangeEvent sameKey =
                new ChangeEvent(
                        "s.t",
                        Operation.UPDATE,
                        List.of(1L),
                        Map.of("id", 1L, "v", "a"),
                        Map.of("id", 1L, "v", "b"),
                        SourcePosition.NONE,
                        0);
        ChangeEvent noBefore =
                new ChangeEvent(
                        "s.t",
                        Operation.UPDATE,
                        List.of(1L),
                        null,
                        Map.of("id", 1L),
                        SourcePosition.NONE,
                        0);
        ChangeEvent insert =
                new ChangeEvent(
                        "s.t",
                        Operation.INSERT,
                        List.of(1L),
                        null,
                        Map.of("id", 1L),
                        SourcePosition.NONE,
                        0);
        assertThat(split(sameKey)).containsExactly(sameKey);
        assertThat(split(noBefore)).containsExactly(noBefore);
        assertThat(split(insert)).containsExactly(insert);
    }
}
