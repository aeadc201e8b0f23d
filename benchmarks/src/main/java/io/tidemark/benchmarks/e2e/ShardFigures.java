package io.tidemark.benchmarks.e2e;

import io.tidemark.catalog.verify.DiffReport;

/**
 * What one run of one side measured on the multi-source variant.
 *
 * @param snapshotSeconds from job submission until the side read both shards' logs (their snapshots
 *     were read)
 * @param snapshotRowsPerSecond rows of both shards / snapshot seconds
 * @param streamSeconds from the first change until the table showed both shards' markers
 * @param catchUpSeconds from the last write until the table showed both markers
 * @param consistentSeconds from the last write until the table equalled the expected merge; NaN if
 *     it did not within the settle time after the markers
 * @param diff the table against the expected merge, last diffed
 */
record ShardFigures(
        String side,
        int repetition,
        double snapshotSeconds,
        double snapshotRowsPerSecond,
        double streamSeconds,
        double streamChangesPerSecond,
        double catchUpSeconds,
        double consistentSeconds,
        double cpuSecondsPerMillionRows,
        double peakHeapMb,
        long dataFiles,
        long deleteFiles,
        long equalityDeleteRecords,
        double readSeconds,
        long expectedRows,
        DiffReport diff)
        implements CostFigures {}
