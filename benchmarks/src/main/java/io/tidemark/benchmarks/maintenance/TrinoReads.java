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

    /**
     * Per point, the wall times of {@code times} reads of its table at its snapshot and of its
     * fresh copy, in turn: {@code [table's, fresh copy's]}; -1 when Trino could not read.
     */
    static List<List<List<Long>>> alternating(
            EmbeddedDatabase database,
            String warehouse,
            Path work,
            List<ReadPoint> points,
            int times,
            PrintStream out) {
        List<List<List<Long>>> none = new ArrayList<>();
        points.forEach(point -> none.add(List.of(List.of(-1L), List.of(-1L))));
        Path trinoDir = Path.of(System.getProperty("tidemark.trino.home", "target/trino"));
        if (!TrinoServer.isDistribution(trinoDir)) {
            out.println("no Trino distribution at " + trinoDir + ": no Trino figures");
            return none;
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
            trino.awaitQuery(
                    "SELECT count(*) FROM "
                            + TrinoServer.CATALOG
                            + "."
                            + qualified(points.get(0).table()),
                    Duration.ofMinutes(2));
            out.printf("Trino started in %d ms%n", (System.nanoTime() - started) / 1_000_000);
            List<List<List<Long>>> reads = new ArrayList<>();
            for (ReadPoint point : points) {
                List<Long> tableMillis = new ArrayList<>();
                List<Long> freshMillis = new ArrayList<>();
                for (int i = 0; i <= times; i++) {
                    long tableRead = read(connection, point.table(), point.snapshotId());
                    long freshRead = read(connection, point.fresh(), -1);
                    if (i > 0) {
                        tableMillis.add(tableRead);
                        freshMillis.add(freshRead);
                    }
                }
                reads.add(List.of(tableMillis, freshMillis));
            }
            return reads;
        } catch (Exception e) {
            out.println("Trino reads failed: " + e);
            return none;
        }
    }

    /** {@code <namespace>.<table>} of {@code table}. */
    private static String qualified(Table table) {
        String[] name = table.name().split("\\.");
        return name[name.length - 2] + "." + name[name.length - 1];
    }

    /** One full read of {@code table}, at {@code snapshotId} unless it is -1. */
    private static long read(Connection connection, Table table, long snapshotId) throws Exception {
        String qualified = qualified(table);
        String version = snapshotId < 0 ? "" : " FOR VERSION AS OF " + snapshotId;
        long started = System.nanoTime();
        try (Statement statement = connection.createStatement();
                ResultSet result =
                        statement.executeQuery(
                                "SELECT count(*), checksum(id), checksum(qty), checksum(name),"
                                        + " checksum(updated_at) FROM "
                                        + qualified
                                        + version)) {
            result.next();
        }
        return (System.nanoTime() - started) / 1_000_000;
    }
}
