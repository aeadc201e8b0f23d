package io.tidemark.demo;

import io.tidemark.job.LocalRest;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What {@code demo} runs: where, for how long, how fast.
 *
 * @param workDir wiped and recreated at every start (a demo always starts fresh)
 * @param duration how long the workload writes changes
 * @param rate changes per second the workload writes
 * @param webUiPort first port tried for the Flink web UI (the next free one is used)
 * @param webUiBindAddress the address the web UI binds (jar upload stays off)
 * @param settleTimeout how long to wait, after the workload, for the tables to equal the source
 * @param trinoHome an unpacked Trino 476 to start over the demo's tables after the report (the demo
 *     then runs until interrupted), or null for none
 */
public record DemoSettings(
        Path workDir,
        Duration duration,
        int rate,
        int customers,
        int orders,
        int parallelism,
        Duration checkpointInterval,
        int webUiPort,
        String webUiBindAddress,
        Duration settleTimeout,
        Duration progressInterval,
        long seed,
        Path trinoHome,
        String source) {

    /** The source of {@code demo --source mysql}: an embedded MariaDB read through its binlog. */
    public static final String MYSQL = "mysql";

    /** Whether the demo's source is MariaDB (else PostgreSQL). */
    public boolean mysql() {
        return MYSQL.equals(source);
    }

    public static DemoSettings defaults(Path workDir) {
        return new DemoSettings(
                workDir,
                Duration.ofSeconds(60),
                50,
                2_000,
                5_000,
                2,
                Duration.ofSeconds(5),
                8081,
                LocalRest.DEFAULT_BIND_ADDRESS,
                Duration.ofSeconds(120),
                Duration.ofSeconds(5),
                42L,
                null,
                "postgres");
    }
}
