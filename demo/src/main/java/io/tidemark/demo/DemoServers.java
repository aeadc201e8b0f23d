package io.tidemark.demo;

import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testbed.ShopWorkload;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's databases: a PostgreSQL 16 from Maven that holds the Iceberg JDBC catalog (and the
 * source, by default) and, for {@code --source mysql}, a MariaDB 11.4 that is the source. Where the
 * source's tables and the view of admitted orders are.
 */
final class DemoServers implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DemoServers.class);

    /** The binlog client logs every (re)connect through java.util.logging to the console. */
    private static final java.util.logging.Logger BINLOG_CLIENT_LOG =
            java.util.logging.Logger.getLogger("com.github.shyiko.mysql.binlog");

    static final String SOURCE_DATABASE = "shop";
    static final String CATALOG_DATABASE = "iceberg_catalog";

    /** The view over the orders the contract admits, which the report compares shop.orders with. */
    static final String ORDERS_ADMITTED = "orders_admitted";

    private final boolean mysql;
    private EmbeddedDatabase postgres;
    private EmbeddedMariaDb mariadb;

    private DemoServers(boolean mysql) {
        this.mysql = mysql;
    }

    /** Starts the servers under {@code work} and creates their databases, printing each. */
    static DemoServers start(Path work, boolean mysql, PrintStream out) throws Exception {
        DemoServers servers = new DemoServers(mysql);
        try {
            Instant started = Instant.now();
            servers.postgres = EmbeddedDatabase.start(work.resolve("postgres"));
            if (!mysql) {
                servers.postgres.createDatabase(SOURCE_DATABASE);
            }
            servers.postgres.createDatabase(CATALOG_DATABASE);
            out.printf(
                    "Embedded PostgreSQL on 127.0.0.1:%d (databases %s), started in %d ms%n",
                    servers.postgres.port(),
                    mysql ? CATALOG_DATABASE : SOURCE_DATABASE + ", " + CATALOG_DATABASE,
                    Duration.between(started, Instant.now()).toMillis());
            if (mysql) {
                Instant mariadbStarted = Instant.now();
                BINLOG_CLIENT_LOG.setLevel(java.util.logging.Level.WARNING);
                servers.mariadb = EmbeddedMariaDb.start(work.resolve("mariadb"));
                servers.mariadb.createDatabase(SOURCE_DATABASE);
                out.printf(
                        "Embedded MariaDB on 127.0.0.1:%d (database %s, row binlog; the source), started in %d ms%n",
                        servers.mariadb.port(),
                        SOURCE_DATABASE,
                        Duration.between(mariadbStarted, Instant.now()).toMillis());
            }
            return servers;
        } catch (Exception e) {
            servers.close(null, false);
            throw e;
        }
    }

    boolean mysql() {
        return mysql;
    }

    /** A connection to the source database ({@code shop} in PostgreSQL or MariaDB). */
    Connection sourceConnection() throws SQLException {
        return mysql ? mariadb.connect(SOURCE_DATABASE) : postgres.connect(SOURCE_DATABASE);
    }

    /** The shop workload over {@code connection} (to the source). */
    ShopWorkload workload(Connection connection, long seed) {
        return mysql
                ? ShopWorkload.mysql(connection, seed, SOURCE_DATABASE)
                : new ShopWorkload(connection, seed);
    }

    /** The source's orders table: {@code public.orders} (Postgres), {@code shop.orders} (MySQL). */
    String ordersTable() {
        return mysql ? SOURCE_DATABASE + ".orders" : ShopWorkload.ORDERS;
    }

    /** The view of the orders the contract admits, beside the orders table. */
    String admittedView() {
        return (mysql ? SOURCE_DATABASE : "public") + "." + ORDERS_ADMITTED;
    }

    /** The source's port (PostgreSQL or MariaDB). */
    int sourcePort() {
        return mysql ? mariadb.port() : postgres.port();
    }

    /** The JDBC URL of the Iceberg catalog's database. */
    String catalogUrl() {
        return postgres.jdbcUrl(CATALOG_DATABASE);
    }

    @Override
    public void close() {
        close(null, false);
    }

    /**
     * Stops the servers, first dropping the Postgres source's replication slot {@code slot} (when
     * not null). On interrupt the database may already be stopping (its own hook): its slot goes
     * with the work directory, which the next demo wipes.
     */
    void close(String slot, boolean interrupted) {
        if (mariadb != null) {
            try {
                mariadb.close();
            } catch (Exception e) {
                LOG.warn("Stopping the embedded MariaDB failed: {}", e.getMessage());
            }
            mariadb = null;
        }
        if (postgres == null) {
            return;
        }
        if (!mysql && slot != null) {
            try {
                postgres.dropSlot(SOURCE_DATABASE, slot);
            } catch (SQLException e) {
                if (interrupted) {
                    LOG.debug("Replication slot not dropped on interrupt: {}", e.getMessage());
                } else {
                    LOG.warn("Dropping the replication slot failed: {}", e.getMessage());
                }
            }
        }
        try {
            postgres.close();
        } catch (IOException e) {
            LOG.warn("Stopping the embedded database failed: {}", e.getMessage());
        }
        postgres = null;
    }
}
