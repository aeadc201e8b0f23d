package io.tidemark.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.job.LocalRest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, in short mode: seconds of workload, then a zero-difference report.
 */
class DemoITCase {

    @TempDir Path dir;

    /** A finished demo and what it printed. */
    private record Run(DemoRunner.DemoResult result, String printed) {}

    /** Runs the demo; both tables must end equal to their source. */
    private static Run run(DemoSettings settings) throws Exception {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        DemoRunner.DemoResult result;
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            result = new DemoRunner(settings, out).run();
        }
        assertThat(result.reports()).hasSize(2);
        for (DiffReport report : result.reports()) {
            assertThat(report.isClean()).as(report.summary()).isTrue();
            assertThat(report.sourceRows()).isPositive();
        }
        return new Run(result, output.toString(StandardCharsets.UTF_8));
    }

    /** A short demo: 6 s of 40 changes/s over 500 customers and 1,000 orders, 1 s checkpoints. */
    private DemoSettings settings(String workDir, int webUiPort, long seed, String source) {
        return new DemoSettings(
                dir.resolve(workDir),
                Duration.ofSeconds(6),
                40,
                500,
                1_000,
                2,
                Duration.ofSeconds(1),
                webUiPort,
                LocalRest.DEFAULT_BIND_ADDRESS,
                Duration.ofSeconds(90),
                Duration.ofSeconds(2),
                seed,
                null,
                source);
    }

    @Test
    void shortDemoEndsWithAZeroDifferenceReport() throws Exception {
        DemoSettings settings = settings("demo", 18_081, 11L, "postgres");
        Run run = run(settings);
        DemoRunner.DemoResult result = run.result();
        String printed = run.printed();
        assertThat(printed)
                .contains("Flink web UI: http://127.0.0.1:")
                .contains("workload ")
                .contains(
                        "RESULT: every table equals its source (0 missing, 0 extra, 0 duplicate, 0 stale)")
                .contains("Provenance of the last commit of each table")
                .containsPattern("checkpoint \\d+ of pipeline shop-demo, run " + result.runId())
                .contains("valid through ")
                .contains("Trino catalog file:")
                .contains(
                        "Quarantine: shop.orders__quarantine holds 25 change(s)"
                                + " {NOT_ALLOWED_VALUE=20, TOO_LONG=5}; 25 bad orders were injected")
                .contains("Schema drift: added column gift_wrap (boolean) to public.orders")
                .contains(
                        "Schema drift: shop.orders gained column gift_wrap (boolean) without a restart")
                .doesNotContain("MISMATCH");
        assertThat(result.evolved()).isTrue();
        assertThat(result.clean()).isTrue();
        Path trino = settings.workDir().resolve("trino/catalog/iceberg.properties");
        assertThat(Files.readString(trino))
                .contains("connector.name=iceberg")
                .contains("iceberg.catalog.type=jdbc")
                .contains("iceberg.jdbc-catalog.catalog-name=" + DemoRunner.CATALOG_NAME);
        assertThat(Files.readString(settings.workDir().resolve("pipeline.yaml")))
                .contains("id: shop-demo");
    }

    @Test
    void mySqlDemoCapturesTheWholeDatabaseThroughTheBinlog() throws Exception {
        DemoSettings settings = settings("demo-mysql", 18_091, 12L, DemoSettings.MYSQL);
        Run run = run(settings);
        DemoRunner.DemoResult result = run.result();
        String printed = run.printed();
        assertThat(printed)
                .contains("Embedded MariaDB on 127.0.0.1:")
                .contains(
                        "RESULT: every table equals its source (0 missing, 0 extra, 0 duplicate, 0 stale)")
                .contains(
                        "Quarantine: shop.orders__quarantine holds 25 change(s)"
                                + " {NOT_ALLOWED_VALUE=20, TOO_LONG=5}; 25 bad orders were injected")
                .contains("Schema drift: added column gift_wrap (boolean, which MySQL keeps as")
                // Debezium types the added column from the DDL text (boolean), not as tinyint(1)
                .contains(
                        "Schema drift: shop.orders gained column gift_wrap (boolean) without a restart")
                .doesNotContain("MISMATCH");
        assertThat(Files.readString(settings.workDir().resolve("pipeline.yaml")))
                .contains("type: mysql")
                .contains("source: shop.*")
                .contains("source: shop.orders");
        assertThat(result.evolved()).isTrue();
        assertThat(result.clean()).isTrue();
    }
}
