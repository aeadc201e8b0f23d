package io.tidemark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.config.PipelineOptions;
import io.tidemark.deploy.FlinkCluster;
import io.tidemark.job.PlatformSettings;
import java.io.StringReader;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
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

    /** The fields of a FlinkDeployment's spec, as the operator's v1beta1 API defines them. */
    private static final List<String> FLINK_DEPLOYMENT_SPEC =
            List.of(
                    "image",
                    "imagePullPolicy",
                    "serviceAccount",
                    "flinkVersion",
                    "ingress",
                    "podTemplate",
                    "jobManager",
                    "taskManager",
                    "job",
                    "restartNonce",
                    "flinkConfiguration",
                    "logConfiguration",
                    "mode");

    /** The fields of its {@code job}. */
    private static final List<String> FLINK_DEPLOYMENT_JOB =
            List.of(
                    "jarURI",
                    "parallelism",
                    "entryClass",
                    "args",
                    "state",
                    "savepointTriggerNonce",
                    "initialSavepointPath",
                    "checkpointTriggerNonce",
                    "upgradeMode",
                    "allowNonRestoredState",
                    "savepointRedeployNonce",
                    "autoscalerResetNonce");

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

        Map<String, Object> spec = (Map<String, Object>) deployment.get("spec");
        Map<String, Object> job = (Map<String, Object>) spec.get("job");
        // every field is one the operator's FlinkDeployment (flink.apache.org/v1beta1) defines:
        // a misspelled one is dropped by the API server without a word
        assertThat(deployment.get("apiVersion")).isEqualTo("flink.apache.org/v1beta1");
        assertThat(spec.keySet()).isSubsetOf(FLINK_DEPLOYMENT_SPEC);
        assertThat(job.keySet()).isSubsetOf(FLINK_DEPLOYMENT_JOB);
        for (String component : List.of("jobManager", "taskManager")) {
            Map<String, Object> resources = (Map<String, Object>) spec.get(component);
            assertThat(resources.keySet())
                    .as(component)
                    .isSubsetOf("resource", "replicas", "podTemplate");
            assertThat(((Map<String, Object>) resources.get("resource")).keySet())
                    .as(component + ".resource")
                    .isSubsetOf("cpu", "memory", "ephemeralStorage");
        }
        assertThat(List.of("running", "suspended")).contains((String) job.get("state"));
        assertThat(List.of("stateless", "savepoint", "last-state"))
                .contains((String) job.get("upgradeMode"));
        // the file leaves parallelism, interval and backend to the FlinkDeployment
        Map<String, String> platform = new HashMap<>();
        ((Map<String, Object>) spec.get("flinkConfiguration"))
                .forEach((key, value) -> platform.put(key, String.valueOf(value)));
        platform.put("parallelism.default", String.valueOf(job.get("parallelism")));
        PipelineConfig resolved = PlatformSettings.resolve(config, Configuration.fromMap(platform));
        assertThat(resolved.parallelism()).isEqualTo(2);
        assertThat(resolved.stateBackend()).isEqualTo("rocksdb");
        assertThat(resolved.checkpointInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(resolved.origin(PipelineOptions.PARALLELISM))
                .isEqualTo("platform: parallelism.default");
        // the operator's logging: the pattern the standalone cluster's secrets test proves
        Properties logging = new Properties();
        logging.load(
                new StringReader(
                        (String)
                                ((Map<String, Object>) spec.get("logConfiguration"))
                                        .get("log4j-console.properties")));
        assertMasking(logging, "FlinkDeployment logConfiguration");
        Properties shipped = new Properties();
        try (java.io.InputStream in =
                FlinkCluster.class.getResourceAsStream(FlinkCluster.LOG_CONFIGURATION)) {
            shipped.load(in);
        }
        assertThat(logging).as("the FlinkDeployment's logging").isEqualTo(shipped);
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

    /**
     * What the compose stack needs to work as written and be safe to start: no password with a
     * default, ports on the loopback, pinned images, the source, catalog and bucket created before
     * the job is submitted, and the submission waiting for a cluster with a TaskManager.
     */
    @Test
    @SuppressWarnings("unchecked")
    void composeStackIsSafeAndStartsInOrder() throws Exception {
        Map<String, Object> compose =
                new Yaml().load(Files.readString(DEPLOY.resolve("compose/docker-compose.yml")));
        Map<String, Object> services = (Map<String, Object>) compose.get("services");
        for (Map.Entry<String, Object> entry : services.entrySet()) {
            Map<String, Object> service = (Map<String, Object>) entry.getValue();
            String image = (String) service.get("image");
            assertThat(image)
                    .as("image of %s", entry.getKey())
                    .contains(":")
                    .doesNotEndWith(":latest");
            for (Object port : (List<Object>) service.getOrDefault("ports", List.of())) {
                assertThat(String.valueOf(port))
                        .as("published port of %s", entry.getKey())
                        .startsWith("127.0.0.1:");
            }
            Map<String, Object> env =
                    (Map<String, Object>) service.getOrDefault("environment", Map.of());
            env.forEach(
                    (name, value) -> {
                        if (name.matches("(?i).*(PASSWORD|SECRET).*")) {
                            assertThat(String.valueOf(value))
                                    .as("%s of %s", name, entry.getKey())
                                    .matches("\\$\\{[A-Z_]+:\\?[^}]+}");
                        }
                    });
            Object dependsOn = service.get("depends_on");
            if (dependsOn instanceof Map<?, ?> conditions) {
                conditions.forEach(
                        (name, condition) -> {
                            if ("service_healthy"
                                    .equals(((Map<String, Object>) condition).get("condition"))) {
                                assertThat((Map<String, Object>) services.get(name))
                                        .as("%s waits for %s to be healthy", entry.getKey(), name)
                                        .containsKey("healthcheck");
                            }
                        });
            }
        }
        Map<String, Object> submit =
                (Map<String, Object>)
                        ((Map<String, Object>) services.get("tidemark")).get("depends_on");
        assertThat(submit).containsKeys("jobmanager", "postgres", "minio-init");
        assertThat(
                        (String)
                                ((List<Object>)
                                                ((Map<String, Object>)
                                                                ((Map<String, Object>)
                                                                                services.get(
                                                                                        "jobmanager"))
                                                                        .get("healthcheck"))
                                                        .get("test"))
                                        .get(1))
                .as("the JobManager is healthy once a TaskManager registered")
                .contains("taskmanagers");

        // the databases, tables and bucket the pipeline names exist before it starts
        PipelineConfig config =
                parse(
                        Files.readString(DEPLOY.resolve("compose/pipeline.yaml")),
                        "compose/pipeline.yaml");
        String init = Files.readString(DEPLOY.resolve("compose/init.sql"));
        assertThat(init)
                .contains("CREATE DATABASE " + config.source().database() + ";")
                .contains(
                        "CREATE DATABASE "
                                + config.catalogProperties().get("uri").replaceAll(".*/", "")
                                + ";");
        for (PipelineConfig.TableConfig table : config.tables()) {
            assertThat(init).contains("CREATE TABLE " + table.source() + " (");
        }
        String bucket = URI.create(config.catalogProperties().get("warehouse")).getHost();
        assertThat(
                        (List<Object>)
                                ((Map<String, Object>) services.get("minio-init"))
                                        .get("entrypoint"))
                .anySatisfy(
                        arg ->
                                assertThat(String.valueOf(arg))
                                        .contains("mc mb --ignore-existing stack/" + bucket));
        // Trino's catalog reads its secrets from the environment
        Properties trino = new Properties();
        trino.load(Files.newBufferedReader(DEPLOY.resolve("compose/trino-iceberg.properties")));
        for (String key : trino.stringPropertyNames()) {
            if (key.matches(".*(password|secret|access-key).*")) {
                assertThat(trino.getProperty(key)).as(key).startsWith("${ENV:");
            }
        }
        // the stack's cluster leaves parallelism, interval and backend to the cluster
        assertThat(config.fromFile(PipelineOptions.STATE_BACKEND)).isFalse();
        assertThat(config.fromFile(PipelineOptions.PARALLELISM)).isFalse();
    }

    /**
     * The job jar carries the FileIO the examples name, with what it needs to start: S3FileIO and
     * the AWS SDK (an S3 client is built from the compose pipeline's catalog properties).
     */
    @Test
    void theFileIoTheExamplesNameLoadsFromTheJobsClasspath() throws Exception {
        PipelineConfig config =
                parse(
                        Files.readString(DEPLOY.resolve("compose/pipeline.yaml")),
                        "compose/pipeline.yaml");
        String ioImpl = config.catalogProperties().get("io-impl");
        assertThat(ioImpl).isEqualTo("org.apache.iceberg.aws.s3.S3FileIO");
        Map<String, String> properties = new HashMap<>(config.catalogProperties());
        properties.put("client.region", "us-east-1");
        properties.put("s3.access-key-id", "key");
        properties.put("s3.secret-access-key", "secret");
        try (org.apache.iceberg.io.FileIO io =
                org.apache.iceberg.CatalogUtil.loadFileIO(ioImpl, properties, null)) {
            // no request is made: the client is built and a path resolved
            assertThat(io.newInputFile("s3://warehouse/shop/customers/metadata/v1.json").location())
                    .isEqualTo("s3://warehouse/shop/customers/metadata/v1.json");
            assertThat(((org.apache.iceberg.aws.s3.S3FileIO) io).client()).isNotNull();
        }
    }

    /** The Docker image's logging masks passwords with the pattern the secrets test proves. */
    @Test
    void theImageLogsWithTheMaskingPattern() throws Exception {
        Properties logging = new Properties();
        Path shipped =
                DEPLOY.resolve(
                        "src/main/resources/io/tidemark/deploy/" + FlinkCluster.LOG_CONFIGURATION);
        logging.load(Files.newBufferedReader(shipped));
        assertMasking(logging, shipped.toString());
        String dockerfile = Files.readString(DEPLOY.resolve("docker/Dockerfile"));
        assertThat(dockerfile)
                .contains(
                        "COPY deploy/src/main/resources/io/tidemark/deploy/log4j-console.properties"
                                + " /opt/flink/conf/log4j-console.properties")
                .contains("/opt/flink/plugins/s3-fs-hadoop/");
        // the S3 plugin the image enables is the image's own Flink version
        Matcher from = Pattern.compile("(?m)^FROM flink:(\\S+?)-").matcher(dockerfile);
        assertThat(from.find()).isTrue();
        assertThat(dockerfile).contains("flink-s3-fs-hadoop-" + from.group(1) + ".jar");
    }

    private static void assertMasking(Properties logging, String where) {
        List<String> patterns = new ArrayList<>();
        for (String key : logging.stringPropertyNames()) {
            if (key.endsWith(".layout.pattern")) {
                patterns.add(logging.getProperty(key));
            }
        }
        assertThat(patterns)
                .as(where)
                .isNotEmpty()
                .allSatisfy(pattern -> assertThat(pattern).isEqualTo(FlinkCluster.LOG_PATTERN));
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
