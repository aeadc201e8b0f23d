package io.tidemark.benchmarks.e2e;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What one end-to-end benchmark run does: the snapshot size, the stream of changes, how often each
 * side runs, and the settings both sides share (parallelism, checkpoint interval, snapshot split
 * size).
 *
 * @param rows rows in the table before the pipelines start (the snapshot)
 * @param changes changes applied once a side's snapshot is consistent, as fast as the source takes
 *     them (the burst)
 * @param backlog changes written while a side is stopped with a savepoint, after the burst (the
 *     backlog it catches up on when resumed; 0: none)
 * @param repetitions runs of each side; figures are medians with min and max
 */
public record BenchSettings(
        String preset,
        int rows,
        int changes,
        int backlog,
        int repetitions,
        int parallelism,
        Duration checkpointInterval,
        int splitSize,
        Path workDir,
        Path resultsDir,
        long seed,
        Duration timeout) {

    /** Rows in each shard of the multi-source variant (both hold the same keys): a tenth. */
    public int shardRows() {
        return Math.max(100, rows / 10);
    }

    /** Changes over both shards in the multi-source variant: half the stream. */
    public int shardChanges() {
        return Math.max(100, changes / 2);
    }

    /** Whether an untimed small run of each side goes first (not for the smoke preset). */
    public boolean warmUp() {
        return !preset.equals("smoke");
    }

    /**
     * The default sizes: 1,000,000 rows, 200,000 changes, a backlog of 500,000, 3
     * repetitions.
     */
    public static BenchSettings defaults(Path workDir, Path resultsDir) {
        return new BenchSettings(
                "default",
                1_000_000,
                200_000,
                500_000,
                3,
                2,
                Duration.ofSeconds(2),
                50_000,
                workDir,
                resultsDir,
                42L,
                Duration.ofMinutes(20));
    }

    /** A few minutes: 100,000 rows, 20,000 changes, a backlog of 50,000, 3 repetitions. */
    public static BenchSettings quick(Path workDir, Path resultsDir) {
        return new BenchSettings(
                "quick",
                100_000,
                20_000,
                50_000,
                3,
                2,
                Duration.ofSeconds(2),
                20_000,
                workDir,
                resultsDir,
                42L,
                Duration.ofMinutes(10));
    }

    /** Seconds: proves both sides run and are measured (the build's smoke test). */
    public static BenchSettings smoke(Path workDir, Path resultsDir) {
        return new BenchSettings(
                "smoke",
                2_000,
                500,
                300,
                1,
                1,
                Duration.ofSeconds(1),
                1_000,
                workDir,
                resultsDir,
                42L,
                Duration.ofMinutes(3));
    }

    public static BenchSettings preset(String name, Path workDir, Path resultsDir) {
        switch (name) {
            case "default":
                return defaults(workDir, resultsDir);
            case "quick":
                return quick(workDir, resultsDir);
            case "smoke":
                return smoke(workDir, resultsDir);
            default:
                throw new IllegalArgumentException(
                        "unknown preset '" + name + "': default, quick or smoke");
        }
    }

    public BenchSettings withSizes(
            Integer rows, Integer changes, Integer backlog, Integer repetitions) {
        return new BenchSettings(
                preset,
                rows == null ? this.rows : rows,
                changes == null ? this.changes : changes,
                backlog == null ? this.backlog : backlog,
                repetitions == null ? this.repetitions : repetitions,
                parallelism,
                checkpointInterval,
                splitSize,
                workDir,
                resultsDir,
                seed,
                timeout);
    }

    /** These settings with {@code chunkSize} rows per snapshot chunk (both sides), unless null. */
    public BenchSettings withSplitSize(Integer chunkSize) {
        return new BenchSettings(
                preset,
                rows,
                changes,
                backlog,
                repetitions,
                parallelism,
                checkpointInterval,
                chunkSize == null ? splitSize : chunkSize,
                workDir,
                resultsDir,
                seed,
                timeout);
    }
}
