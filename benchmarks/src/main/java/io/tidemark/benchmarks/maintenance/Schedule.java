package io.tidemark.benchmarks.maintenance;

/**
 * The maintenance side's schedule: compaction and snapshot expiry every {@code compactEvery}
 * commits, the fold of the files committed since every {@code foldEvery} equality-delete files (0:
 * none), at most one run of the table's maintenance every {@code minInterval}.
 */
record Schedule(int compactEvery, int foldEvery, String minInterval) {}
