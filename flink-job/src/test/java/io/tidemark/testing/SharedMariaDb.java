package io.tidemark.testing;

import io.tidemark.testbed.EmbeddedMariaDb;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One embedded MariaDB per test class, with the given databases created, in a directory of the
 * class's {@link SharedDatabase} (register it after that one). Register it as a static field with
 * {@code @RegisterExtension}.
 */
public final class SharedMariaDb implements BeforeAllCallback, AfterAllCallback {

    private final SharedDatabase home;
    private final String[] databases;
    private EmbeddedMariaDb server;

    public SharedMariaDb(SharedDatabase home, String... databases) {
        this.home = home;
        this.databases = databases;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = EmbeddedMariaDb.start(home.dir().resolve("mariadb"));
        for (String database : databases) {
            server.createDatabase(database);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    public EmbeddedMariaDb get() {
        return server;
    }
}
