package io.tidemark.catalog.verify;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Collection;
import java.util.stream.LongStream;

/**
 * Keys named by their fingerprints ({@link CanonicalValues#keyFingerprint}), each once, in 8 bytes
 * a key: what {@code verify} found differing and what {@code verify --repair} asks the pipeline to
 * read again. Sorted, so {@link #contains} is a binary search.
 */
public final class KeyFingerprints implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final KeyFingerprints NONE = new KeyFingerprints(new long[0]);

    private final long[] sorted;

    private KeyFingerprints(long[] sorted) {
        this.sorted = sorted;
    }

    /** The fingerprints in {@code values}, duplicates dropped. */
    public static KeyFingerprints of(Collection<Long> values) {
        return of(values.stream().mapToLong(Long::longValue).toArray());
    }

    /** The fingerprints in {@code values} (not kept; duplicates dropped). */
    public static KeyFingerprints of(long... values) {
        long[] copy = values.clone();
        return new KeyFingerprints(Arrays.copyOf(copy, unique(copy, copy.length)));
    }

    /** Sorts the first {@code count} values in place, moves each once to the front; how many. */
    private static int unique(long[] values, int count) {
        Arrays.sort(values, 0, count);
        int kept = 0;
        for (int i = 0; i < count; i++) {
            if (kept == 0 || values[kept - 1] != values[i]) {
                values[kept++] = values[i];
            }
        }
        return kept;
    }

    public boolean contains(long fingerprint) {
        return Arrays.binarySearch(sorted, fingerprint) >= 0;
    }

    public int size() {
        return sorted.length;
    }

    public boolean isEmpty() {
        return sorted.length == 0;
    }

    /** The fingerprints, in ascending order. */
    public LongStream stream() {
        return Arrays.stream(sorted);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeyFingerprints keys && Arrays.equals(sorted, keys.sorted);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sorted);
    }

    @Override
    public String toString() {
        return sorted.length + " keys";
    }

    /**
     * Collects fingerprints while at most {@code limit} distinct ones come (an open-addressing set
     * of primitives, 11 to 22 bytes a key); after that it holds nothing ({@link #overflowed}).
     */
    public static final class Builder {
        private final int limit;
        private long[] slots = new long[1024];
        private int size;
        private boolean hasZero;
        private boolean overflowed;

        public Builder(int limit) {
            this.limit = limit;
        }

        public void add(long fingerprint) {
            if (overflowed) {
                return;
            }
            if (fingerprint == 0) {
                // 0 marks an empty slot
                if (!hasZero) {
                    hasZero = true;
                    grown();
                }
                return;
            }
            if (insert(slots, fingerprint)) {
                grown();
            }
        }

        /** Puts {@code key} (not 0) in {@code table}; false when it was there. */
        private static boolean insert(long[] table, long key) {
            int mask = table.length - 1;
            int slot = (int) mix(key) & mask;
            while (table[slot] != 0) {
                if (table[slot] == key) {
                    return false;
                }
                slot = (slot + 1) & mask;
            }
            table[slot] = key;
            return true;
        }

        private static long mix(long key) {
            long h = key * 0x9E3779B97F4A7C15L;
            return h ^ (h >>> 32);
        }

        private void grown() {
            if (++size > limit) {
                overflowed = true;
                slots = null;
                return;
            }
            // at most three quarters full: probes stay short
            if (size * 4L > slots.length * 3L) {
                long[] larger = new long[slots.length * 2];
                for (long key : slots) {
                    if (key != 0) {
                        insert(larger, key);
                    }
                }
                slots = larger;
            }
        }

        /** True once more than the limit's distinct fingerprints came. */
        public boolean overflowed() {
            return overflowed;
        }

        /** What came, or {@link #NONE} when it overflowed. */
        public KeyFingerprints build() {
            if (overflowed) {
                return NONE;
            }
            long[] keys = new long[size];
            int next = 0;
            if (hasZero) {
                keys[next++] = 0;
            }
            for (long key : slots) {
                if (key != 0) {
                    keys[next++] = key;
                }
            }
            Arrays.sort(keys);
            return new KeyFingerprints(keys);
        }
    }
}
