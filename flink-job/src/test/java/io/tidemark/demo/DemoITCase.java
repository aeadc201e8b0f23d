package io.tidemark.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.verify.DiffReport;
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

    @Test
    void shortDemoEndsWithAZeroDifferenceReport() throws Exception {
        DemoSettings settings =
                new DemoSettings(
                        dir.resolve("demo"),
                        Duration.ofSeconds(6),
                        40,
                        500,
                        1_000,
                        2,
                        Duration.ofSeconds(1),
                        18_081,
                        Duration.ofSeconds(90),
                        Duration.ofSeconds(2),
                        11L,
                        null,
                        "postgres");
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        DemoRunner.DemoResult result;
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            result = new DemoRunner(settings, out).run();
        }
        String printed = output.toString(StandardCharsets.UTF_8);

        assertThat(result.reports()).hasSize(2);
        for (DiffReport report : result.reports()) {
            assertThat(report.isClean()).as(report.summary()).isTrue();
            assertThat(report.sourceRows()).isPositive();
        }
        assertThat(printed)
                .contains("Flink web UI: http://localhost:")
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
        DemoSettings settings =
                new DemoSettings(
                        dir.resolve("demo-mysql"),
                        Duration.ofSeconds(6),
                        40,
                        500,
                        1_000,
                        2,
                        Duration.ofSeconds(1),
                        18_091,
                        Duration.ofSeconds(90),
                        Duration.ofSeconds(2),
                        12L,
                        null,
                        DemoSettings.MYSQL);
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        DemoRunner.DemoResult result;
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            result = new DemoRunner(settings, out).run();
        }
        String printed = output.toString(StandardCharsets.UTF_8);

        assertThat(result.reports()).hasSize(2);
        for (DiffReport report : result.reports()) {
            assertThat(report.isClean()).as(report.summary()).isTrue();
            assertThat(report.sourceRows()).isPositive();
        }
        assertThat(printed)
                .contains("Embedded MariaDB on 127.0.0.1:")
                .contains(
                        "RESULT: every table equals its source (0 missing, 0 extra, 0 duplicate, 0 stale)")
                .doesNotContain("MISMATCH");
        assertThat(Files.readString(settings.workDir().resolve("pipeline.yaml")))
                .contains("type: mysql")
                .contains("source: shop.*");
        assertThat(result.clean()).isTrue();
    }
}
