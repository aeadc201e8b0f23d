package io.tidemark.catalog.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Differing keys as fingerprints: each once, found by search, and a limit that drops them all. */
class KeyFingerprintsTest {

    @Test
    void eachFingerprintOnceSortedAndFound() {
        KeyFingerprints keys = KeyFingerprints.of(List.of(42L, -1L, 42L, 0L, Long.MIN_VALUE));
        assertThat(keys.size()).isEqualTo(4);
        assertThat(keys.stream().toArray()).containsExactly(Long.MIN_VALUE, -1L, 0L, 42L);
        assertThat(keys.contains(-1L)).isTrue();
        assertThat(keys.contains(1L)).isFalse();
        assertThat(KeyFingerprints.NONE.isEmpty()).isTrue();
        assertThat(keys).isEqualTo(KeyFingerprints.of(0L, 42L, -1L, Long.MIN_VALUE));
    }

    @Test
    void theBuilderHoldsUpToItsLimitOfDistinctKeysWhateverTheRepeats() {
        Random random = new Random(7);
        long[] distinct = random.longs(300_000).toArray();
        KeyFingerprints.Builder builder = new KeyFingerprints.Builder(300_000);
        // a key can differ in several ways: repeats do not count against the limit
        for (int round = 0; round < 3; round++) {
            for (long key : distinct) {
                builder.add(key);
            }
        }
        KeyFingerprints keys = builder.build();
        assertThat(keys.size()).isEqualTo(LongStream.of(distinct).distinct().count());
        assertThat(LongStream.of(distinct).allMatch(keys::contains)).isTrue();
        assertThat(keys.contains(random.nextLong())).isFalse();

        KeyFingerprints.Builder small = new KeyFingerprints.Builder(299_999);
        for (long key : distinct) {
            small.add(key);
        }
        assertThat(small.overflowed()).isTrue();
        assertThat(small.build()).isEqualTo(KeyFingerprints.NONE);

        KeyFingerprints.Builder exact = new KeyFingerprints.Builder(1_000);
        for (int i = 0; i < 1_000; i++) {
            exact.add(i);
        }
        assertThat(exact.overflowed()).isFalse();
        exact.add(1_000);
        assertThat(exact.overflowed()).isTrue();
    }
}
