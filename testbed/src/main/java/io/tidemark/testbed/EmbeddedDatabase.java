package io.tidemark.testbed;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * A real PostgreSQL server started from the binaries Maven fetched (no installation, no Docker),
 * configured for logical replication. Used by {@code demo} and by the integration tests.
 *
 * <p>User {@code postgres}, trust authentication, loopback only. Durability is switched off (fsync,
 * synchronous commit, full page writes) because the data is throw-away.
 */
public final class EmbeddedDatabase implements AutoCloseable {

    public static final String USER = "postgres";

    private final EmbeddedPostgres postgres;

    private EmbeddedDatabase(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    /**
     * Starts a fresh server whose files live under {@code directory} (wiped first, and its data
     * directory deleted again when the server stops).
     */
    public static EmbeddedDatabase start(Path directory) throws IOException {
        return start(directory, true);
    }

    /**
     * Starts a server on the data directory {@code directory/data} left by an earlier server (one
     * stopped cleanly by {@link #close}), keeping its databases, replication slots and write-ahead
     * log; a missing data directory is initialised. The data directory is kept when the server
     * stops. It must belong to the same PostgreSQL major version as the binaries.
     */
    public static EmbeddedDatabase reopen(Path directory) throws IOException {
        return start(directory, false);
    }

    /**
     * Starts a fresh server left at PostgreSQL's defaults ({@code wal_level = replica}, ten
     * replication slots), as a server is before anyone set it up for logical replication.
     */
    public static EmbeddedDatabase startWithDefaults(Path directory) throws IOException {
        Files.createDirectories(directory);
        Path work = directory.resolve("work");
        Files.createDirectories(work);
        return new EmbeddedDatabase(
                EmbeddedPostgres.builder()
                        .setOverrideWorkingDirectory(work.toFile())
                        .setDataDirectory(directory.resolve("data"))
                        .setCleanDataDirectory(true)
                        .setPGStartupWait(Duration.ofSeconds(60))
                        .setServerConfig("listen_addresses", "127.0.0.1")
                        .start());
    }

    private static EmbeddedDatabase start(Path directory, boolean clean) throws IOException {
        Files.createDirectories(directory);
        Path data = directory.resolve("data");
        Path work = directory.resolve("work");
        Files.createDirectories(work);
        EmbeddedPostgres postgres =
                EmbeddedPostgres.builder()
                        .setOverrideWorkingDirectory(work.toFile())
                        .setDataDirectory(data)
                        .setCleanDataDirectory(clean)
                        // passed to initdb as --wal-segsize=1: 1 MiB log segments keep a data
                        // directory small enough to be kept as a test fixture
                        .setLocaleConfig("wal-segsize", "1")
                        .setPGStartupWait(Duration.ofSeconds(60))
                        .setServerConfig("listen_addresses", "127.0.0.1")
                        .setServerConfig("wal_level", "logical")
                        .setServerConfig("min_wal_size", "2MB")
                        // finished log segments are removed, not renamed for reuse with old bytes
                        .setServerConfig("wal_recycle", "off")
                        .setServerConfig("max_replication_slots", "32")
                        .setServerConfig("max_wal_senders", "32")
                        .setServerConfig("max_connections", "200")
                        .setServerConfig("fsync", "off")
                        .setServerConfig("synchronous_commit", "off")
                        .setServerConfig("full_page_writes", "off")
                        .start();
        return new EmbeddedDatabase(postgres);
    }

    public int port() {
        return postgres.getPort();
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), USER, "");
    }

    /** Creates {@code name} if it does not exist. */
    public void createDatabase(String name) throws SQLException {
        try (Connection c = connect("postgres");
                Statement s = c.createStatement()) {
            boolean exists;
            try (var rs =
                    s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                // FILE_COPY: a copied template is not written to the log a second time
                s.execute("CREATE DATABASE \"" + name + "\" STRATEGY = FILE_COPY");
            }
        }
    }

    /** Drops a replication slot if present; a slot survives the job that used it. */
    public void dropSlot(String database, String slot) throws SQLException {
        try (Connection c = connect(database);
                Statement s = c.createStatement()) {
            s.execute(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                            + "WHERE slot_name = '"
                            + slot
                            + "' AND NOT active");
        }
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
