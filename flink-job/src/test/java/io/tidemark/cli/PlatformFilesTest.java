package io.tidemark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The platform files under {@code deploy/} cannot run here (no Docker, no Kubernetes). What can be
 * checked is: they parse; the job arguments in them are accepted by the command line; the pipeline
 * files in them pass the same validation {@code run} applies; every {@code ${env:NAME}} they use is
 * set by the container; the jar paths agree; Trino's catalog name is the pipeline's.
 */
class PlatformFilesTest {

    private static final Path DEPLOY = Path.of("..", "deploy");
    private static final Pattern ENV_REF = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");

    @Test
    @SuppressWarnings("unchecked")
    void flinkDeploymentRunsTheJobWithAValidPipeline() throws Exception {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object doc :
                new Yaml()
                        .loadAll(
                                Files.readString(
                                        DEPLOY.resolve("kubernetes/flinkdeployment.yaml")))) {
            docs.add((Map<String, Object>) doc);
        }
        assertThat(docs).hasSize(2);
        Map<String, Object> configMap = docs.get(0);
        Map<String, Object> deployment = docs.get(1);
        assertThat(deployment.get("kind")).isEqualTo("FlinkDeployment");

        String pipeline =
                (String) ((Map<String, Object>) configMap.get("data")).get("pipeline.yaml");
        PipelineConfig config = parse(pipeline, "ConfigMap tidemark-pipeline");
        assertThat(config.stateBackend()).isEqualTo("rocksdb");

        Map<String, Object> spec = (Map<String, Object>) deployment.get("spec");
        Map<String, Object> job = (Map<String, Object>) spec.get("job");
        assertThat(job.get("entryClass")).isEqualTo(Tidemark.class.getName());
        assertThat(job.get("upgradeMode")).isEqualTo("savepoint");
        assertThat(job.get("allowNonRestoredState")).isEqualTo(false);
        assertThat(job.get("jarURI")).isEqualTo("local://" + jarInImage());
        List<String> args = (List<String>) job.get("args");
        assertAccepted(args);
        assertThat(args).contains("/opt/tidemark/pipeline.yaml");

        Map<String, Object> container =
                ((List<Map<String, Object>>)
                                ((Map<String, Object>)
                                                ((Map<String, Object>) spec.get("podTemplate"))
                                                        .get("spec"))
                                        .get("containers"))
                        .get(0);
        Set<String> env = new HashSet<>();
        for (Map<String, Object> var : (List<Map<String, Object>>) container.get("env")) {
            env.add((String) var.get("name"));
        }
        assertThat(env).containsAll(envReferences(pipeline));
        Map<String, Object> flink = (Map<String, Object>) spec.get("flinkConfiguration");
        assertThat(flink)
                .containsEntry("high-availability.type", "kubernetes")
                .containsKey("metrics.reporter.prom.factory.class")
                .containsEntry("state.backend.type", "rocksdb");
    }

    @Test
    @SuppressWarnings("unchecked")
    void composeStackSubmitsTheJobWithAValidPipeline() throws Exception {
        Map<String, Object> compose =
                new Yaml().load(Files.readString(DEPLOY.resolve("compose/docker-compose.yml")));
        Map<String, Object> services = (Map<String, Object>) compose.get("services");
        assertThat(services)
                .containsKeys("postgres", "minio", "jobmanager", "taskmanager", "trino");
        Map<String, Object> tidemark = (Map<String, Object>) services.get("tidemark");
        List<String> command = (List<String>) tidemark.get("command");
        int jar = command.indexOf(jarInImage());
        assertThat(jar).as("the job jar in %s", command).isPositive();
        assertAccepted(command.subList(jar + 1, command.size()));

        String pipeline = Files.readString(DEPLOY.resolve("compose/pipeline.yaml"));
        PipelineConfig config = parse(pipeline, "compose/pipeline.yaml");
        assertThat((Map<String, Object>) tidemark.get("environment"))
                .containsKeys(envReferences(pipeline).toArray(new String[0]));

        Properties trino = new Properties();
        trino.load(Files.newBufferedReader(DEPLOY.resolve("compose/trino-iceberg.properties")));
        assertThat(trino.getProperty("iceberg.jdbc-catalog.catalog-name"))
                .isEqualTo(config.catalogName());
        assertThat(trino.getProperty("iceberg.jdbc-catalog.connection-url"))
                .isEqualTo(config.catalogProperties().get("uri"));
    }

    /** Where the Dockerfile puts the job jar, checked against what the build produces. */
    private static String jarInImage() throws Exception {
        Matcher copy =
                Pattern.compile(
                                "(?m)^COPY flink-job/target/tidemark-flink-job-(\\S+)-job\\.jar (\\S+)$")
                        .matcher(Files.readString(DEPLOY.resolve("docker/Dockerfile")));
        assertThat(copy.find()).as("COPY of the job jar in the Dockerfile").isTrue();
        assertThat(copy.group(1))
                .isEqualTo(io.tidemark.runtime.RunContext.buildVersion().split("\\+")[0]);
        return copy.group(2);
    }

    private static void assertAccepted(List<String> args) {
        // parsing only: no job starts; a wrong option or value throws ParameterException
        Tidemark.commandLine().parseArgs(args.toArray(new String[0]));
    }

    private static PipelineConfig parse(String pipeline, String name) {
        return new PipelineConfigLoader(variable -> "from-" + variable).parse(pipeline, name);
    }

    private static Set<String> envReferences(String text) {
        Set<String> names = new HashSet<>();
        Matcher matcher = ENV_REF.matcher(text);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        assertThat(names).isNotEmpty();
        return names;
    }
}
