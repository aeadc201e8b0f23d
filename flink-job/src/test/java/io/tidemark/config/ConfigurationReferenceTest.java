package io.tidemark.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The configuration reference ({@code docs/configuration.md}) lists every key the loader accepts.
 */
class ConfigurationReferenceTest {

    @Test
    void everyKeyIsDocumented() throws Exception {
        String reference = Files.readString(Path.of("..", "docs", "configuration.md"));
        for (ConfigKey key : PipelineOptions.ALL) {
            assertThat(reference)
                    .as("docs/configuration.md documents %s", key.name())
                    .contains("| `" + key.name() + "` |");
        }
        for (ConfigKey key : PipelineOptions.TABLE_KEYS) {
            assertThat(reference).contains("| `tables[*]." + key.name() + "` |");
        }
    }

    @Test
    void theReadmesPipelineFileIsOneTheLoaderAccepts() throws Exception {
        Matcher block =
                Pattern.compile("(?s)```yaml\n(.*?)```")
                        .matcher(Files.readString(Path.of("..", "README.md")));
        assertThat(block.find()).as("the README shows a pipeline file").isTrue();
        // its secrets come from files and variables that exist where it runs
        String yaml = block.group(1).replaceAll("\\$\\{(env|file):[^}]+}", "secret");
        PipelineConfig config = new PipelineConfigLoader().parse(yaml, "README.md");
        assertThat(config.tables()).hasSize(2);
        assertThat(config.tables().get(0).layout().partitionBy()).containsExactly("bucket(16, id)");
        assertThat(config.maintenance().enabled()).isTrue();
    }

    @Test
    void everyDocumentedKeyIsOneTheLoaderAccepts() throws Exception {
        Set<String> known = new HashSet<>();
        PipelineOptions.ALL.forEach(key -> known.add(key.name()));
        PipelineOptions.TABLE_KEYS.forEach(key -> known.add("tables[*]." + key.name()));
        // the list that replaces source with several databases: each entry an id and source.*
        known.add("sources[*].id");
        // the deprecated names, in their own table
        known.addAll(ConfigAliases.DEPRECATED.keySet());
        Matcher row =
                Pattern.compile("(?m)^\\| `([^`]+)` \\|")
                        .matcher(Files.readString(Path.of("..", "docs", "configuration.md")));
        List<String> documented = new ArrayList<>();
        while (row.find()) {
            documented.add(row.group(1));
        }
        assertThat(documented).isNotEmpty().allSatisfy(key -> assertThat(known).contains(key));
    }
}
