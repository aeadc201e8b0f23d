package io.tidemark.benchmarks.maintenance;

import io.tidemark.deploy.TrinoServer;
import io.tidemark.testbed.EmbeddedDatabase;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Table;

/**
 * Full reads of a side's table and of its fresh copy through Trino 476, as the replica's users read
 * it: a query that reads every column of every row ({@code count(*)} and a {@code checksum} of each
 * column), one of each table in turn, after one of each to warm up. The server is started from the
 * distribution the {@code maintenance-bench} profile unpacks, over the side's JDBC catalog, and
 * stopped after the reads; without the distribution or a JDK 24, the figures are -1.
 */
final class TrinoReads {

    private TrinoReads() {}

    /** The wall times of {@code times} reads of {@code table} and of {@code fresh}, in turn. */
    static List<List<Long>> alternating(
            EmbeddedDatabase database,
            String warehouse,
            Path work,
            Table table,
            Table fresh,
            int times,
            PrintStream out) {
        Path trinoDir = Path.of(System.getProperty("tidemark.trino.home", "target/trino"));
        if (!TrinoServer.isDistribution(trinoDir)) {
            out.println("no Trino distribution at " + trinoDir + ": no Trino figures");
            return List.of(List.of(-1L), List.of(-1L));
        }
        long started = System.nanoTime();
        try (TrinoServer trino =
                        TrinoServer.start(
                                trinoDir,
                                TrinoServer.findJavaHome(),
                                work.resolve("trino"),
                                TrinoServer.icebergJdbcCatalog(
                                        MaintenanceSide.CATALOG_NAME,
                                        database.jdbcUrl(MaintenanceSide.CATALOG_DATABASE),
                                        EmbeddedDatabase.USER,
                                        "",
                                        warehouse),
                                Duration.ofMinutes(3));
                Connection connection =
                        DriverManager.getConnection(trino.jdbcUrl(), "bench", null)) {
            out.printf("Trino started in %d ms%n", (System.nanoTime() - started) / 1_000_000);
            List<Long> tableMillis = new ArrayList<>();
            List<Long> freshMillis = new ArrayList<>();
            for (int i = 0; i <= times; i++) {
                long tableRead = read(connection, table);
                long freshRead = read(connection, fresh);
                if (i > 0) {
                    tableMillis.add(tableRead);
                    freshMillis.add(freshRead);
                }
            }
            return List.of(tableMillis, freshMillis);
        } catch (Exception e) {
            out.println("Trino reads failed: " + e);
            return List.of(List.of(-1L), List.of(-1L));
        }
    }

    private static long read(Connection connection, Table table) throws Exception {
        String[] name = table.name().split("\\.");
        String qualified = name[name.length - 2] + "." + name[name.length - 1];
        long started = System.nanoTime();
        try (Statement statement = connection.createStatement();
                ResultSet result =
                        statement.executeQuery(
                                "SELECT count(*), checksum(id), checksum(qty), checksum(name),"
                                        + " checksum(updated_at) FROM "
                                        + qualified)) {
            result.next();
        }
        return (System.nanoTime() - started) / 1_000_000;
    }
}
