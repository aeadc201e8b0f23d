package io.tidemark.job;

import io.tidemark.config.ConfigKey;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineOptions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.StateBackendOptions;

/**
 * The Flink settings a pipeline file may leave to the platform ({@link
 * PipelineConfig#FLINK_SETTINGS}: parallelism, max parallelism, checkpoint interval and timeout,
 * state backend). Where the file names one, its value holds; where it is silent, the platform's:
 * the configuration the job is built in (a {@code flink run -p} or {@code -D}, the cluster's {@code
 * config.yaml}, a FlinkDeployment's {@code flinkConfiguration} or {@code job.parallelism}); where
 * neither names it, Tidemark's default. The job is then built with the resolved values, which the
 * operators need (the key splitter spreads a truncate over the reconcilers by the parallelism, the
 * committer counts the writers). Settings the commit protocol depends on (exactly-once, aligned
 * barriers, checkpoints retained on cancel, explicit uids) are always set, whatever the platform
 * says.
 */
public final class PlatformSettings {

    private PlatformSettings() {}

    /**
     * {@code config} with its unnamed Flink settings taken from {@code platform} where it has them.
     */
    public static PipelineConfig resolve(PipelineConfig config, ReadableConfig platform) {
        Map<String, String> origins = new HashMap<>(config.origins());
        int parallelism =
                pick(
                        config,
                        PipelineOptions.PARALLELISM,
                        platform,
                        CoreOptions.DEFAULT_PARALLELISM,
                        config.parallelism(),
                        origins);
        int maxParallelism =
                pick(
                        config,
                        PipelineOptions.MAX_PARALLELISM,
                        platform,
                        org.apache.flink.configuration.PipelineOptions.MAX_PARALLELISM,
                        config.maxParallelism(),
                        origins);
        Duration interval =
                pick(
                        config,
                        PipelineOptions.CHECKPOINT_INTERVAL,
                        platform,
                        CheckpointingOptions.CHECKPOINTING_INTERVAL,
                        config.checkpointInterval(),
                        origins);
        Duration timeout =
                pick(
                        config,
                        PipelineOptions.CHECKPOINT_TIMEOUT,
                        platform,
                        CheckpointingOptions.CHECKPOINTING_TIMEOUT,
                        config.checkpointTimeout(),
                        origins);
        String backend =
                pick(
                        config,
                        PipelineOptions.STATE_BACKEND,
                        platform,
                        StateBackendOptions.STATE_BACKEND,
                        config.stateBackend(),
                        origins);
        return config.withFlinkSettings(
                parallelism, maxParallelism, interval, timeout, backend, origins);
    }

    private static <T> T pick(
            PipelineConfig config,
            ConfigKey key,
            ReadableConfig platform,
            ConfigOption<T> option,
            T own,
            Map<String, String> origins) {
        if (config.fromFile(key)) {
            return own;
        }
        Optional<T> given = platform.getOptional(option);
        if (given.isEmpty() || !usable(given.get())) {
            return own;
        }
        origins.put(key.name(), "platform: " + option.key());
        return given.get();
    }

    /** Flink's "not set" values: -1 for a max parallelism, 0 for a disabled interval. */
    private static boolean usable(Object value) {
        if (value instanceof Integer number) {
            return number > 0;
        }
        if (value instanceof Duration duration) {
            return !duration.isZero() && !duration.isNegative();
        }
        return !(value instanceof String text) || !text.isBlank();
    }
}
