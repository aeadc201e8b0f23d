package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.junit.jupiter.api.Test;

class TidemarkJobConfigurationTest {

    private static PipelineConfig config(String stateBackend) {
        return new PipelineConfigLoader()
                .parse(
                        """
                        pipeline: {id: p, parallelism: 2, max-parallelism: 64}
                        checkpoint: {interval: 3s, state-backend: %s, dir: 'file:///cp'}
                        source: {type: postgres, hostname: h, database: d, username: u}
                        catalog: {type: jdbc, properties: {uri: 'jdbc:postgresql://c/i'}}
                        tables: [{source: public.t}]"""
                                .formatted(stateBackend),
                        "p.yaml");
    }

    @Test
    void pipelineFileDecidesTheFlinkSettings() {
        Configuration conf = TidemarkJob.flinkConfiguration(config("hashmap"));

        assertThat(conf.get(PipelineOptions.AUTO_GENERATE_UIDS)).isFalse();
        assertThat(conf.get(PipelineOptions.MAX_PARALLELISM)).isEqualTo(64);
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTING_INTERVAL))
                .isEqualTo(Duration.ofSeconds(3));
        // each pipeline's state in a directory of its own (RetainedState)
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo("file:///cp/p");
        assertThat(conf.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");
        assertThat(conf.contains(TidemarkJob.ROCKSDB_TIMER_SERVICE)).isFalse();
        assertThat(conf.contains(TidemarkJob.ROCKSDB_BLOOM_FILTER)).isFalse();
    }

    /**
     * A cluster (or a {@code -D} flag of {@code flink run}) that turns unaligned checkpoints on by
     * default: the job's own setting is merged over it, as Flink's context environment does, and
     * keeps barriers aligned.
     */
    @Test
    void checkpointsStayAlignedWhenTheClusterDefaultIsUnaligned() {
        Configuration cluster = new Configuration();
        cluster.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        Configuration merged = new Configuration();
        merged.addAll(cluster);
        merged.addAll(TidemarkJob.flinkConfiguration(config("hashmap")));

        assertThat(merged.get(CheckpointingOptions.ENABLE_UNALIGNED)).isFalse();
        assertThat(
                        org.apache.flink.streaming.api.environment.StreamExecutionEnvironment
                                .getExecutionEnvironment(merged)
                                .getCheckpointConfig()
                                .isUnalignedCheckpointsEnabled())
                .isFalse();
    }

    @Test
    void rocksdbKeepsTimersOnTheHeapAndFiltersItsFiles() {
        Configuration conf = TidemarkJob.flinkConfiguration(config("rocksdb"));
        assertThat(conf.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
        assertThat(conf.get(TidemarkJob.ROCKSDB_TIMER_SERVICE)).isEqualTo("HEAP");
        assertThat(conf.get(TidemarkJob.ROCKSDB_BLOOM_FILTER)).isTrue();
    }
}
