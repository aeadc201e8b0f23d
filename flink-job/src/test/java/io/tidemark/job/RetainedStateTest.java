package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.RestoreMode;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where a pipeline's checkpoints and savepoints are, and which one a start resumes from: the newest
 * whose metadata loads, whatever Flink job wrote it; one being written (no metadata yet) or torn
 * (metadata that does not load) is passed over.
 */
class RetainedStateTest {

    @TempDir Path dir;

    private static PipelineConfig config(String checkpointBlock) {
        return new PipelineConfigLoader()
                .parse(
                        """
                        pipeline: {id: shop-eu}
                        %s
                        source: {type: postgres, hostname: h, database: d, username: u}
                        catalog: {type: jdbc, properties: {uri: 'jdbc:postgresql://c/i'}}
                        tables: [{source: public.t}]"""
                                .formatted(checkpointBlock),
                        "p.yaml");
    }

    @Test
    void eachPipelineHasDirectoriesOfItsOwn() {
        Configuration cluster = new Configuration();
        cluster.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "s3://b/checkpoints");
        cluster.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, "s3://b/savepoints/");

        // the pipeline file's own directories come first
        assertThat(
                        RetainedState.locate(
                                config(
                                        "checkpoint: {dir: 'file:///cp', savepoint-dir: 'file:///sp'}"),
                                cluster,
                                "file:///local"))
                .isEqualTo(new RetainedState.Locations("file:///cp/shop-eu", "file:///sp/shop-eu"));
        // then the cluster's
        assertThat(RetainedState.locate(config("checkpoint: {interval: 5s}"), cluster, null))
                .isEqualTo(
                        new RetainedState.Locations(
                                "s3://b/checkpoints/shop-eu", "s3://b/savepoints/shop-eu"));
        // in-process without either: beside the pipeline file
        assertThat(
                        RetainedState.locate(
                                config("checkpoint: {interval: 5s}"),
                                new Configuration(),
                                "file:///work/tidemark-state"))
                .isEqualTo(
                        new RetainedState.Locations(
                                "file:///work/tidemark-state/checkpoints/shop-eu",
                                "file:///work/tidemark-state/savepoints/shop-eu"));
        // submitted without any: nothing to resume from
        assertThat(
                        RetainedState.locate(
                                config("checkpoint: {interval: 5s}"), new Configuration(), null))
                .isEqualTo(new RetainedState.Locations(null, null));
    }

    @Test
    void newestReadableCheckpointOrSavepointWins() throws Exception {
        Path checkpoints = dir.resolve("checkpoints");
        Path savepoints = dir.resolve("savepoints");
        RetainedState.Locations locations =
                new RetainedState.Locations(
                        checkpoints.toUri().toString(), savepoints.toUri().toString());
        assertThat(RetainedState.newest(locations)).isEmpty();

        checkpoint(checkpoints.resolve("aaaa/chk-3"), 3, 100);
        checkpoint(checkpoints.resolve("bbbb/chk-5"), 5, 200);
        // a checkpoint being written when the process died: no metadata yet
        Files.createDirectories(checkpoints.resolve("bbbb/chk-6"));
        // a torn one: metadata that does not load
        Path torn = Files.createDirectories(checkpoints.resolve("bbbb/chk-7"));
        Files.write(torn.resolve("_metadata"), new byte[] {1, 2, 3});
        Files.setLastModifiedTime(torn.resolve("_metadata"), time(300));
        // Flink's other directories of a job are not checkpoints
        Files.createDirectories(checkpoints.resolve("bbbb/shared"));

        RetainedState.Found found = RetainedState.newest(locations).orElseThrow();
        assertThat(found.kind()).isEqualTo(RetainedState.Kind.CHECKPOINT);
        assertThat(found.checkpointId()).isEqualTo(5);
        assertThat(found.pointer()).endsWith("bbbb/chk-5");
        // the restored job owns a retained checkpoint and deletes it once it has a newer one
        assertThat(found.restoreMode()).isEqualTo(RestoreMode.CLAIM);

        checkpoint(savepoints.resolve("savepoint-bbbb00-0123456789ab"), 9, 400);
        found = RetainedState.newest(locations).orElseThrow();
        assertThat(found.kind()).isEqualTo(RetainedState.Kind.SAVEPOINT);
        assertThat(found.checkpointId()).isEqualTo(9);
        assertThat(found.restoreMode()).isEqualTo(RestoreMode.NO_CLAIM);
        assertThat(found.describe()).startsWith("savepoint of checkpoint 9 (taken ");
    }

    private static void checkpoint(Path directory, long id, long secondsAfterEpoch)
            throws IOException {
        Files.createDirectories(directory);
        Path metadata = directory.resolve("_metadata");
        try (OutputStream out = Files.newOutputStream(metadata)) {
            Checkpoints.storeCheckpointMetadata(
                    new CheckpointMetadata(id, List.of(), List.of()), out);
        }
        Files.setLastModifiedTime(metadata, time(secondsAfterEpoch));
    }

    private static FileTime time(long secondsAfterEpoch) {
        return FileTime.from(Instant.ofEpochSecond(1_800_000_000L + secondsAfterEpoch));
    }
}
