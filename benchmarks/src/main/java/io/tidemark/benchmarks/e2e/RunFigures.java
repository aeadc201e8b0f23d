package io.tidemark.benchmarks.e2e;

import io.tidemark.catalog.verify.DiffReport;
import java.util.List;

/**
 * What one run of one side measured.
 *
 * @param snapshotRowsPerSecond snapshot rows / seconds from job submission until the table held
 *     them all (equal to the source: the diff after it is clean)
 * @param streamRowsPerSecond changes / seconds from the first change until the table showed the
 *     last one (the marker)
 * @param catchUpSeconds seconds from the source committing the last change until the table showed
 *     it
 * @param cpuSecondsPerMillionRows process CPU seconds (the JVM running the pipeline) per million
 *     rows and changes, from submission until the marker was seen
 * @param peakHeapMb the largest heap use sampled during the run
 * @param timeline (seconds since submission, rows committed) per snapshot, for the charts
 * @param freshnessTimeline (seconds since the stream began, freshness ms) per snapshot
 * @param backlogChanges changes written while the side was stopped with a savepoint (0: none)
 * @param backlogSeconds seconds from the resume until the table showed the backlog's last change
 * @param backlogTimeline (seconds since the resume, rows committed) per snapshot
 * @param keyReadFiles data and delete files an Iceberg scan plans for one hot key ({@code id = 1})
 * @param keyReadSeconds seconds to read that key's row with an Iceberg Java scan
 */
record RunFigures(
        String side,
        int repetition,
        double snapshotSeconds,
        double snapshotRowsPerSecond,
        double streamSeconds,
        double streamRowsPerSecond,
        double catchUpSeconds,
        double freshnessP50Ms,
        double freshnessP99Ms,
        double cpuSecondsPerMillionRows,
        double peakHeapMb,
        long dataFiles,
        long deleteFiles,
        long equalityDeleteRecords,
        double readSeconds,
        DiffReport snapshotDiff,
        DiffReport finalDiff,
        List<double[]> timeline,
        List<double[]> freshnessTimeline,
        int backlogChanges,
        double backlogSeconds,
        List<double[]> backlogTimeline,
        long keyReadFiles,
        double keyReadSeconds)
        implements CostFigures {

    /** Backlog changes / seconds from the resume until the table showed the last. */
    double backlogChangesPerSecond() {
        return backlogChanges / backlogSeconds;
    }
}
