package io.tidemark.source.resnapshot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The re-snapshot split and its coordinator's state keep their bytes across releases: version 3
 * names a repair's keys file, version 2 (written before) reads as a split without one, version 1
 * (written before repairs named keys) as a split without keys.
 */
class ResnapshotSplitTest {

    @Test
    void aSplitWithKeysRoundTrips() throws IOException {
        ResnapshotSplit split =
                new ResnapshotSplit(
                        17, "public.items", "shop.items", List.of(), List.of(-1L, 0L, 42L), null);
        ResnapshotSplit.Serializer serializer = ResnapshotSplit.Serializer.INSTANCE;
        assertThat(serializer.deserialize(serializer.getVersion(), serializer.serialize(split)))
                .isEqualTo(split);
        assertThat(split.scope()).isEqualTo(" (3 keys)");
        // a file of keys stays a path: the reader loads it, checkpoints do not carry the keys
        ResnapshotSplit file =
                new ResnapshotSplit(
                        18, "public.items", "shop.items", List.of(), List.of(), "s3://w/k.txt");
        assertThat(serializer.deserialize(serializer.getVersion(), serializer.serialize(file)))
                .isEqualTo(file);
        assertThat(file.scope()).isEqualTo(" (the keys in s3://w/k.txt)");
    }

    @Test
    void aVersionTwoSplitReadsWithoutAKeysFile() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writeVersionOne(out);
            out.writeInt(2);
            out.writeLong(-1L);
            out.writeLong(42L);
        }
        assertThat(ResnapshotSplit.Serializer.INSTANCE.deserialize(2, bytes.toByteArray()))
                .isEqualTo(
                        new ResnapshotSplit(
                                17,
                                "public.items",
                                "shop.items",
                                List.of(3, 9),
                                List.of(-1L, 42L),
                                ""));
    }

    @Test
    void aVersionOneSplitReadsWithoutKeys() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writeVersionOne(out);
        }
        ResnapshotSplit split =
                ResnapshotSplit.Serializer.INSTANCE.deserialize(1, bytes.toByteArray());
        assertThat(split)
                .isEqualTo(
                        new ResnapshotSplit(
                                17, "public.items", "shop.items", List.of(3, 9), List.of(), ""));
        assertThat(split.scope()).isEqualTo(" (keys in 2 buckets)");
    }

    @Test
    void aVersionOneCoordinatorStateReadsItsPendingSplits() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(1);
            out.writeUTF("shop.items");
            out.writeLong(17);
            out.writeInt(1);
            writeVersionOne(out);
            out.writeInt(1);
            out.writeUTF("shop.items");
            out.writeUTF("16 done");
        }
        ResnapshotEnumeratorState state =
                ResnapshotEnumeratorState.Serializer.INSTANCE.deserialize(1, bytes.toByteArray());
        assertThat(state.accepted()).isEqualTo(Map.of("shop.items", 17L));
        assertThat(state.pending())
                .containsExactly(
                        new ResnapshotSplit(
                                17, "public.items", "shop.items", List.of(3, 9), List.of(), ""));
        assertThat(state.outcomes()).hasSize(1);

        assertRoundTrips(state);
    }

    @Test
    void aCoordinatorStateWithAKeysFileRoundTrips() throws IOException {
        ResnapshotEnumeratorState state =
                new ResnapshotEnumeratorState(
                        Map.of("shop.items", 18L),
                        List.of(
                                new ResnapshotSplit(
                                        18,
                                        "public.items",
                                        "shop.items",
                                        List.of(),
                                        List.of(),
                                        "file:/w/k.txt")),
                        List.of(new ResnapshotEnumeratorState.Outcome("shop.items", "17 done")));
        assertRoundTrips(state);
    }

    /** Writes {@code state} in the current version and reads it back: every field equal. */
    private static void assertRoundTrips(ResnapshotEnumeratorState state) throws IOException {
        ResnapshotEnumeratorState.Serializer serializer =
                ResnapshotEnumeratorState.Serializer.INSTANCE;
        ResnapshotEnumeratorState again =
                serializer.deserialize(serializer.getVersion(), serializer.serialize(state));
        assertThat(again.pending()).isEqualTo(state.pending());
        assertThat(again.accepted()).isEqualTo(state.accepted());
        assertThat(again.outcomes()).isEqualTo(state.outcomes());
    }

    /** A split in version 1: request, source table, target, buckets. */
    private static void writeVersionOne(DataOutputStream out) throws IOException {
        out.writeLong(17);
        out.writeUTF("public.items");
        out.writeUTF("shop.items");
        out.writeInt(2);
        out.writeInt(3);
        out.writeInt(9);
    }
}
