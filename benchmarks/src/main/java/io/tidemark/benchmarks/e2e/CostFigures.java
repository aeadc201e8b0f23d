package io.tidemark.benchmarks.e2e;

/** What one run of a side cost and what it left to readers, in both workloads' reports. */
interface CostFigures {

    /** Process CPU seconds per million rows and changes. */
    double cpuSecondsPerMillionRows();

    /** The largest heap use sampled during the run. */
    double peakHeapMb();

    long dataFiles();

    long deleteFiles();

    long equalityDeleteRecords();

    /** Seconds to read the resulting table in full with an Iceberg Java scan. */
    double readSeconds();
}
