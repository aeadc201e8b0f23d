package io.tidemark.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's configuration reference lists every key the loader accepts. */
class ReadmeReferenceTest {

    @Test
    void everyKeyIsDocumented() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        for (ConfigKey key : PipelineOptions.ALL) {
            assertThat(readme)
                    .as("README documents %s", key.name())
                    .contains("| `" + key.name() + "` |");
        }
        for (ConfigKey key : PipelineOptions.TABLE_KEYS) {
            assertThat(readme).contains("| `tables[*]." + key.name() + "` |");
        }
    }
}
