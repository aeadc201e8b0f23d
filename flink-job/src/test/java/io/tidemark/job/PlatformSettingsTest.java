package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.config.ConfigException;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.config.PipelineOptions;
import io.tidemark.testing.CliOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the pipeline file is silent, the platform's Flink settings hold (a {@code flink run -p},
 * the cluster's configuration); where it names one, the file's; where neither does, Tidemark's.
 */
class PlatformSettingsTest {

    private static PipelineConfig pipeline(String pipelineBlock, String checkpointBlock) {
        return pipeline(
                pipelineBlock,
                checkpointBlock,
                "{type: postgres, hostname: h, database: d, username: u}");
    }

    private static PipelineConfig pipeline(
            String pipelineBlock, String checkpointBlock, String source) {
        return new PipelineConfigLoader()
                .parse(
                        """
                        pipeline: %s
                        checkpoint: %s
                        source: %s
                        catalog: {type: jdbc, properties: {uri: 'jdbc:postgresql://c/i'}}
                        tables: [{source: public.t}]"""
                                .formatted(pipelineBlock, checkpointBlock, source),
                        "p.yaml");
    }

    /** What {@code flink run -p 4} and a cluster's config.yaml give the job's environment. */
    private static Configuration platform() {
        Configuration platform = new Configuration();
        platform.set(CoreOptions.DEFAULT_PARALLELISM, 4);
        platform.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(30));
        platform.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        return platform;
    }

    @Test
    void thePlatformDecidesWhatTheFileLeavesOut() {
        PipelineConfig resolved =
                PlatformSettings.resolve(pipeline("{id: p}", "{dir: 'file:///cp'}"), platform());

        assertThat(resolved.parallelism()).isEqualTo(4);
        assertThat(resolved.checkpointInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(resolved.stateBackend()).isEqualTo("rocksdb");
        // neither says: Tidemark's
        assertThat(resolved.checkpointTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(resolved.maxParallelism()).isEqualTo(128);
        assertThat(resolved.origin(PipelineOptions.PARALLELISM))
                .isEqualTo("platform: parallelism.default");
        assertThat(resolved.origin(PipelineOptions.CHECKPOINT_TIMEOUT)).isEqualTo("default");
        assertThat(resolved.describe())
                .contains("  parallelism: 4  # platform: parallelism.default\n")
                .contains("  interval: PT30S  # platform: execution.checkpointing.interval\n")
                .contains("  state-backend: rocksdb  # platform: state.backend.type\n")
                .contains("  timeout: PT10M  # default\n");
        // and the job is built with them
        Configuration job = TidemarkJob.flinkConfiguration(resolved);
        assertThat(job.get(CoreOptions.DEFAULT_PARALLELISM)).isEqualTo(4);
        assertThat(job.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
    }

    @Test
    void theFileWinsWhereItSpeaks() {
        PipelineConfig resolved =
                PlatformSettings.resolve(
                        pipeline(
                                "{id: p, parallelism: 2}",
                                "{interval: 5s, state-backend: hashmap, dir: 'file:///cp'}"),
                        platform());

        assertThat(resolved.parallelism()).isEqualTo(2);
        assertThat(resolved.checkpointInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(resolved.stateBackend()).isEqualTo("hashmap");
        assertThat(resolved.origin(PipelineOptions.PARALLELISM)).isEqualTo("pipeline file");
        assertThat(resolved.describe()).contains("  parallelism: 2\n");
    }

    @Test
    void withoutAPlatformTheDefaultsHold() {
        PipelineConfig resolved =
                PlatformSettings.resolve(
                        pipeline("{id: p}", "{dir: 'file:///cp'}"), new Configuration());

        assertThat(resolved.parallelism()).isEqualTo(1);
        assertThat(resolved.checkpointInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(resolved.stateBackend()).isEqualTo("hashmap");
        assertThat(resolved.describe()).contains("  parallelism: 1  # default\n");
    }

    /**
     * In-process, {@code run} has no platform: a local environment's parallelism (the number of
     * cores) is not a setting anyone made.
     */
    @Test
    void anInProcessRunTakesTheDefaultsWhereTheFileIsSilent(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("p.yaml");
        Files.writeString(
                file,
                """
                        pipeline: {id: p}
                        checkpoint: {dir: 'file:///cp'}
                        source: {type: postgres, hostname: h, database: d, username: u}
                        catalog: {type: jdbc, properties: {uri: 'jdbc:postgresql://c/i'}}
                        tables: [{source: public.t}]""");
        CliOutput printed = CliOutput.run("run", "--config", file.toString(), "--print-config");
        assertThat(printed.exitCode()).isZero();
        assertThat(printed.out())
                .contains("  parallelism: 1  # default\n")
                .contains("  state-backend: hashmap  # default\n");
    }

    @Test
    void aMySqlSourcesDerivedServerIdsFollowThePlatformsParallelism() {
        String mysql = "{type: mysql, hostname: h, database: d, username: u}";
        PipelineConfig file = pipeline("{id: p}", "{dir: 'file:///cp'}", mysql);
        String derived = file.source().serverId();
        assertThat(derived).doesNotContain("-");

        PipelineConfig resolved = PlatformSettings.resolve(file, platform());
        long first = Long.parseLong(derived);
        assertThat(resolved.source().serverId()).isEqualTo(first + "-" + (first + 3));

        // a server id the file names must hold one id per reader
        PipelineConfig named =
                pipeline(
                        "{id: p}",
                        "{dir: 'file:///cp'}",
                        "{type: mysql, hostname: h, database: d, username: u, server-id: '5400'}");
        assertThatThrownBy(() -> PlatformSettings.resolve(named, platform()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("'source.server-id': 1 id(s) for pipeline.parallelism 4")
                .hasMessageContaining("'5400-5403'");
    }

    @Test
    void aPlatformMaxParallelismBelowTheParallelismIsRefusedNamingBoth() {
        Configuration platform = platform();
        platform.set(org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM, 2);

        assertThatThrownBy(
                        () ->
                                PlatformSettings.resolve(
                                        pipeline("{id: p}", "{dir: 'file:///cp'}"), platform))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(
                        "max parallelism 2 (platform: pipeline.max-parallelism) is below the "
                                + "parallelism 4 (platform: parallelism.default)");
    }
}
