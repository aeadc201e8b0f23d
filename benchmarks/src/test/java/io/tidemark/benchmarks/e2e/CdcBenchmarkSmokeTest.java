package io.tidemark.benchmarks.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark's smoke preset in the build: every side (Tidemark with heap state and with RocksDB
 * state, the Flink SQL baseline) ran against a real PostgreSQL, was stopped with a savepoint and
 * resumed after a backlog of changes, and their tables were diffed against it (Tidemark's equal);
 * the source's limits were measured; the report and charts were written. Speed is never asserted
 * here.
 */
class CdcBenchmarkSmokeTest {

    @TempDir Path results;

    @Test
    void bothSidesRunAndAreDiffedAgainstTheSource() throws Exception {
        BenchSettings settings =
                BenchSettings.smoke(Path.of("target", "bench-smoke").toAbsolutePath(), results);
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        CdcBenchmark.Result result;
        try (PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8)) {
            result = CdcBenchmark.run(settings, out);
        }

        assertThat(result.runs())
                .extracting(RunFigures::side)
                .containsExactlyInAnyOrder("tidemark", "flink-sql", "tidemark-rocksdb");
        for (RunFigures run : result.runs()) {
            assertThat(run.snapshotDiff().sourceRows()).as(run.side()).isEqualTo(settings.rows());
            assertThat(run.finalDiff().sourceRows()).as(run.side()).isPositive();
            assertThat(run.snapshotRowsPerSecond()).as(run.side()).isPositive();
            assertThat(run.streamRowsPerSecond()).as(run.side()).isPositive();
            assertThat(run.timeline()).as(run.side()).isNotEmpty();
            // the backlog: stopped with a savepoint, changes written, resumed, caught up
            assertThat(run.backlogChanges()).as(run.side()).isEqualTo(settings.backlog());
            assertThat(run.backlogChangesPerSecond()).as(run.side()).isPositive();
            assertThat(run.backlogTimeline()).as(run.side()).isNotEmpty();
            if (run.side().startsWith("tidemark")) {
                assertThat(run.finalDiff().isClean()).as(run.finalDiff().summary()).isTrue();
            }
        }
        // the multi-source variant: both sides ran and were diffed against the expected merge;
        // Tidemark merges by the declared rule, so its table equals it
        assertThat(result.shardRuns())
                .extracting(ShardFigures::side)
                .containsExactlyInAnyOrder("tidemark", "flink-sql");
        for (ShardFigures run : result.shardRuns()) {
            assertThat(run.diff().sourceRows()).as(run.side()).isEqualTo(run.expectedRows());
            assertThat(run.expectedRows()).as(run.side()).isPositive();
            if (run.side().equals("tidemark")) {
                assertThat(run.diff().isClean()).as(run.diff().summary()).isTrue();
            }
        }
        assertThat(result.copyRates()).hasSize(1).allSatisfy(r -> assertThat(r).isPositive());
        assertThat(result.rawDecodingRates())
                .hasSize(1)
                .allSatisfy(r -> assertThat(r).isPositive());
        String report = Files.readString(result.report());
        assertThat(report)
                .contains("| snapshot rows/s |")
                .contains("| tidemark | 1 |")
                .contains("| flink-sql | 1 |")
                .contains("| tidemark-rocksdb | 1 |")
                .contains("| figure | tidemark-rocksdb | tidemark (heap) | rocksdb / heap |")
                .contains("Source limits: COPY export")
                .contains("| backlog changes/s (300 written while stopped with a savepoint;")
                .contains("## Multi-source variant")
                .contains("| equal to the expected merge after the last change, s (NaN: never) |");
        try (var files = Files.list(results)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".png")))
                    .hasSize(3);
        }
        assertThat(printed.toString(StandardCharsets.UTF_8))
                .contains("snapshot of 2,000 rows committed");
    }
}
