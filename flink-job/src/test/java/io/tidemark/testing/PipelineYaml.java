package io.tidemark.testing;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.EmbeddedMariaDb;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The one builder of test pipeline files that differ from test to test (the fixed ones are
 * resources: {@link TestPipelines#fromResource}): a pipeline file as the YAML tree it is, written
 * out by SnakeYAML, so no test joins lines of YAML. It starts from a source on an embedded server,
 * with the catalog in the {@code iceberg_catalog} database of an embedded PostgreSQL and the
 * checkpoints and warehouse under a directory; {@link #set} changes any key by its dotted path and
 * {@link #table} adds a {@code tables} entry.
 */
public final class PipelineYaml {

    private final Map<String, Object> root = new LinkedHashMap<>();
    private final List<Map<String, Object>> tables = new ArrayList<>();
    private final String id;

    private PipelineYaml(String id) {
        this.id = id;
    }

    private PipelineYaml(String id, EmbeddedDatabase catalog, Path dir) {
        this(id);
        set("pipeline.id", id);
        set("checkpoint.interval", "1s");
        set("checkpoint.dir", dir.resolve("checkpoints-" + id).toUri().toString());
        set("catalog.type", "jdbc");
        set("catalog.properties.uri", catalog.jdbcUrl("iceberg_catalog"));
        set("catalog.properties.jdbc\\.user", "postgres");
        set("catalog.properties.jdbc\\.schema-version", "V1");
        set("catalog.properties.warehouse", dir.resolve("warehouse").toUri().toString());
    }

    /**
     * Database {@code database} of {@code postgres} (user {@code postgres}, slot named after {@code
     * id}), the catalog on the same server.
     */
    public static PipelineYaml postgres(
            EmbeddedDatabase postgres, String database, Path dir, String id) {
        return postgres(postgres, postgres, database, dir, id);
    }

    /** As above, with the catalog on another server, {@code catalog}. */
    public static PipelineYaml postgres(
            EmbeddedDatabase postgres,
            EmbeddedDatabase catalog,
            String database,
            Path dir,
            String id) {
        return new PipelineYaml(id, catalog, dir)
                .set("source.type", "postgres")
                .set("source.hostname", "127.0.0.1")
                .set("source.port", postgres.port())
                .set("source.database", database)
                .set("source.username", "postgres")
                .set("source.slot.name", id.replace('-', '_'));
    }

    /**
     * The test pipeline file {@code src/test/resources/pipelines/<file>}, its marks filled in as
     * {@link TestPipelines#fromResource} fills them, as a tree to change ({@code set("maintenance",
     * null)} drops a section).
     */
    @SuppressWarnings("unchecked")
    public static PipelineYaml fromResource(
            String file, EmbeddedDatabase database, Path dir, String id) throws IOException {
        Map<String, Object> document =
                new Yaml()
                        .load(
                                TestPipelines.filled(
                                        TestPipelines.resource(file), database, dir, id));
        PipelineYaml yaml = new PipelineYaml(id);
        Object tables = document.remove("tables");
        yaml.root.putAll(document);
        if (tables != null) {
            yaml.tables.addAll((List<Map<String, Object>>) tables);
        }
        return yaml;
    }

    /** Database {@code database} of {@code mariadb} as Tidemark's CDC user. */
    public static PipelineYaml mariaDb(
            EmbeddedMariaDb mariadb,
            String database,
            EmbeddedDatabase catalog,
            Path dir,
            String id) {
        return mysql(
                mariadb.port(),
                EmbeddedMariaDb.CDC_USER,
                EmbeddedMariaDb.CDC_PASSWORD,
                database,
                catalog,
                dir,
                id);
    }

    /** Database {@code database} of any MySQL-family server on 127.0.0.1:{@code port}. */
    public static PipelineYaml mysql(
            int port,
            String user,
            String password,
            String database,
            EmbeddedDatabase catalog,
            Path dir,
            String id) {
        return new PipelineYaml(id, catalog, dir)
                .set("source.type", "mysql")
                .set("source.hostname", "127.0.0.1")
                .set("source.port", port)
                .set("source.database", database)
                .set("source.username", user)
                .set("source.password", password);
    }

    /**
     * Sets the key at {@code path} (dot-separated; {@code \.} is a dot inside a key, as in {@code
     * jdbc\.user}) to {@code value}, or removes it when {@code value} is null.
     */
    @SuppressWarnings("unchecked")
    public PipelineYaml set(String path, Object value) {
        String[] keys = path.split("(?<!\\\\)\\.");
        Map<String, Object> node = root;
        for (int i = 0; i < keys.length - 1; i++) {
            node =
                    (Map<String, Object>)
                            node.computeIfAbsent(
                                    keys[i].replace("\\.", "."), k -> new LinkedHashMap<>());
        }
        String last = keys[keys.length - 1].replace("\\.", ".");
        if (value == null) {
            node.remove(last);
        } else {
            node.put(last, value);
        }
        return this;
    }

    /** The value at {@code path} (as {@link #set} names it), or null. */
    @SuppressWarnings("unchecked")
    public Object get(String path) {
        Object node = root;
        for (String key : path.split("(?<!\\\\)\\.")) {
            if (!(node instanceof Map)) {
                return null;
            }
            node = ((Map<String, Object>) node).get(key.replace("\\.", "."));
        }
        return node;
    }

    /**
     * Moves the {@code source} section into a {@code sources} list as the source {@code id} (a
     * pipeline of several sources, or a source's id changed).
     */
    @SuppressWarnings("unchecked")
    public PipelineYaml asSources(String id) {
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("id", id);
        source.putAll((Map<String, Object>) root.remove("source"));
        root.put("sources", new ArrayList<>(List.of(source)));
        return this;
    }

    /** Sets {@code key} of the {@code tables} entry whose target is {@code target}. */
    public PipelineYaml tableKey(String target, String key, Object value) {
        tables.stream()
                .filter(t -> target.equals(t.get("target")))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no table entry to " + target))
                .put(key, value);
        return this;
    }

    /**
     * Adds a {@code tables} entry from {@code source} to {@code target} with {@code more} keys and
     * values in pairs ({@code "contract", 1, "late-policy", "quarantine"}).
     */
    public PipelineYaml table(String source, String target, Object... more) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("source", source);
        entry.put("target", target);
        for (int i = 0; i + 1 < more.length; i += 2) {
            entry.put((String) more[i], more[i + 1]);
        }
        tables.add(entry);
        return this;
    }

    /** The pipeline file's text. */
    public String text() {
        Map<String, Object> document = new LinkedHashMap<>(root);
        if (!tables.isEmpty()) {
            document.put("tables", tables);
        }
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndicatorIndent(2);
        options.setIndentWithIndicator(true);
        return new Yaml(options).dump(document);
    }

    /** The pipeline, as {@code run} loads its file. */
    public PipelineConfig config() {
        return new PipelineConfigLoader().parse(text(), id + ".yaml");
    }

    /** Writes the file as {@code <dir>/<id>.yaml} for commands that read one; its path. */
    public Path write(Path dir) throws IOException {
        Path file = dir.resolve(id + ".yaml");
        Files.writeString(file, text());
        return file;
    }
}
