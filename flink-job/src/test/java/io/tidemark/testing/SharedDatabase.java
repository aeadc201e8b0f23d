package io.tidemark.testing;

import io.tidemark.testbed.EmbeddedDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One embedded PostgreSQL per test class, with the given databases created, and a work directory
 * for checkpoints and the warehouse; removed after the class. Register it as a static field with
 * {@code @RegisterExtension}.
 */
public final class SharedDatabase implements BeforeAllCallback, AfterAllCallback {

    private final List<String> databases;
    private Path dir;
    private EmbeddedDatabase database;

    public SharedDatabase(String... databases) {
        this.databases = List.of(databases);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("tidemark-it-");
        database = EmbeddedDatabase.start(dir.resolve("postgres"));
        for (String name : databases) {
            database.createDatabase(name);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (database != null) {
            database.close();
        }
        if (dir != null) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            } catch (IOException e) {
                // a leftover temporary directory is not a test failure
            }
        }
    }

    public EmbeddedDatabase get() {
        return database;
    }

    /** The class's work directory (checkpoints, warehouse). */
    public Path dir() {
        return dir;
    }
}
