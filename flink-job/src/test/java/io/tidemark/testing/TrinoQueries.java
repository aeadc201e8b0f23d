package io.tidemark.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.deploy.TrinoServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Reading the pipeline's tables through Trino's JDBC driver, as the tests that start Trino do. */
public final class TrinoQueries {

    private TrinoQueries() {}

    /**
     * A connection to {@code trino} once it scans {@code table} ({@link TrinoServer#awaitQuery}:
     * queries that scan fail with "No nodes available" until the coordinator knows its own worker
     * serves the catalog).
     */
    public static Connection connectWhenScanning(TrinoServer trino, String table)
            throws SQLException, InterruptedException {
        trino.awaitQuery(
                "SELECT count(*) FROM " + TrinoServer.CATALOG + "." + table, Duration.ofMinutes(2));
        Properties user = new Properties();
        user.setProperty("user", "tidemark");
        return DriverManager.getConnection(trino.jdbcUrl(), user);
    }

    /** The shop workload's rows in Trino's {@code namespace} equal the source's. */
    public static void assertShopTablesEqual(Connection trino, Connection source, String namespace)
            throws SQLException {
        assertThat(query(trino, "SELECT id, email FROM " + namespace + ".customers"))
                .containsExactlyInAnyOrderElementsOf(
                        query(source, "SELECT id, email FROM public.customers"));
        assertThat(query(trino, "SELECT id, status, quantity FROM " + namespace + ".orders"))
                .containsExactlyInAnyOrderElementsOf(
                        query(source, "SELECT id, status, quantity FROM public.orders"));
    }

    /** Every row of {@code sql}, each column as text. */
    public static List<List<String>> query(Connection connection, String sql) throws SQLException {
        List<List<String>> rows = new ArrayList<>();
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>(columns);
                for (int i = 1; i <= columns; i++) {
                    row.add(String.valueOf(rs.getObject(i)));
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
