package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.tidemark.decode.BinlogPosition;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.decode.DebeziumDecoder;
import io.tidemark.decode.Operation;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testing.TestClusters;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.cdc.connectors.mysql.source.MySqlSource;
import org.apache.flink.cdc.connectors.mysql.table.StartupOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flink CDC's MySQL source on a real MariaDB (started from Maven, no Docker), decoded by Tidemark's
 * decoder: the snapshot arrives as one READ per row, then the binlog's inserts, updates and deletes
 * with their before images, in binlog order, and their positions order them with the commit-order
 * rule across a binlog rotation. A first slice of the MySQL source (the pipeline does not build it
 * from a pipeline file yet).
 */
class BinlogSourceITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @TempDir static Path dir;

    private static EmbeddedMariaDb mariadb;

    @BeforeAll
    static void start() throws Exception {
        mariadb = EmbeddedMariaDb.start(dir.resolve("mariadb"));
        mariadb.createDatabase("shop");
    }

    @AfterAll
    static void stop() throws Exception {
        if (mariadb != null) {
            mariadb.close();
        }
    }

    @Test
    void readsTheSnapshotThenTheBinlogInOrderAcrossARotation() throws Exception {
        try (Connection c = mariadb.connect("shop");
                Statement s = c.createStatement()) {
            s.execute(
                    "CREATE TABLE orders (id BIGINT PRIMARY KEY, note VARCHAR(64),"
                            + " amount DECIMAL(10,2), updated_at DATETIME(6))");
            for (int id = 1; id <= 50; id++) {
                s.execute(
                        "INSERT INTO orders VALUES ("
                                + id
                                + ", 'order "
                                + id
                                + "', 12.34, '2026-11-30 10:15:30.123456')");
            }
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.enableCheckpointing(500);
        MySqlSource<ChangeEvent> source =
                MySqlSource.<ChangeEvent>builder()
                        .hostname("127.0.0.1")
                        .port(mariadb.port())
                        .databaseList("shop")
                        .tableList("shop.orders")
                        .username(EmbeddedMariaDb.CDC_USER)
                        .password(EmbeddedMariaDb.CDC_PASSWORD)
                        .serverId("5401-5404")
                        .serverTimeZone("UTC")
                        .startupOptions(StartupOptions.initial())
                        .deserializer(
                                new ChangeEventDeserializer(
                                        new DebeziumDecoder(
                                                "mariadb", Map.of("shop.orders", List.of("id")))))
                        .build();
        try (CloseableIterator<ChangeEvent> changes =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), "mariadb")
                        .returns(ChangeEventTypeInfo.INSTANCE)
                        .executeAndCollect("binlog source")) {
            List<ChangeEvent> snapshot = take(changes, 50);
            Set<Object> keys = new TreeSet<>();
            for (ChangeEvent read : snapshot) {
                assertThat(read.operation()).isEqualTo(Operation.READ);
                assertThat(read.table()).isEqualTo("shop.orders");
                keys.add(read.key().get(0));
            }
            assertThat(keys).hasSize(50);
            ChangeEvent first = snapshot.get(0);
            assertThat(first.after().get("amount")).isEqualTo(new BigDecimal("12.34"));
            assertThat(first.after().get("updated_at"))
                    .isEqualTo(LocalDateTime.parse("2026-11-30T10:15:30.123456"));

            try (Connection c = mariadb.connect("shop");
                    Statement s = c.createStatement()) {
                s.execute("INSERT INTO orders VALUES (51, 'new', 1.00, NOW(6))");
                s.execute("UPDATE orders SET note = 'changed' WHERE id = 2");
                s.execute("DELETE FROM orders WHERE id = 3");
                s.execute("FLUSH BINARY LOGS");
                s.execute("UPDATE orders SET amount = 99.99 WHERE id = 4");
                c.setAutoCommit(false);
                s.execute("UPDATE orders SET note = 'tx' WHERE id = 5");
                s.execute("UPDATE orders SET note = 'tx' WHERE id = 6");
                c.commit();
            }
            List<ChangeEvent> log = take(changes, 6);
            assertThat(log)
                    .as(
                            "%s",
                            log.stream()
                                    .filter(c -> c.operation() == Operation.MALFORMED)
                                    .map(c -> c.malformedReason() + ": " + c.malformedDetail())
                                    .toList())
                    .extracting(ChangeEvent::operation)
                    .containsExactly(
                            Operation.INSERT,
                            Operation.UPDATE,
                            Operation.DELETE,
                            Operation.UPDATE,
                            Operation.UPDATE,
                            Operation.UPDATE);
            assertThat(log)
                    .extracting(change -> change.key().get(0))
                    .containsExactly(51L, 2L, 3L, 4L, 5L, 6L);
            assertThat(log.get(1).before()).containsEntry("note", "order 2");
            assertThat(log.get(1).after()).containsEntry("note", "changed");
            assertThat(log.get(2).before()).containsEntry("note", "order 3");
            // the binlog's order is the commit-order rule's order, across the rotation
            OrderingRule commit = OrderingRule.commitOrder();
            for (int i = 1; i < log.size(); i++) {
                assertThat(commit.sequence(log.get(i)))
                        .as("%s after %s", log.get(i).position(), log.get(i - 1).position())
                        .isGreaterThan(commit.sequence(log.get(i - 1)));
            }
            for (ChangeEvent change : log) {
                assertThat(commit.sequence(change)).isGreaterThan(commit.sequence(first));
            }
            long before = log.get(2).position().commitLsn() >>> 32;
            long after = log.get(3).position().commitLsn() >>> 32;
            assertThat(after)
                    .as(
                            "binlog file of %s after FLUSH BINARY LOGS, was %s",
                            BinlogPosition.describe(log.get(3).position()),
                            BinlogPosition.describe(log.get(2).position()))
                    .isEqualTo(before + 1);
        }
    }

    private static List<ChangeEvent> take(CloseableIterator<ChangeEvent> changes, int n) {
        List<ChangeEvent> taken = new ArrayList<>();
        assertTimeoutPreemptively(
                Duration.ofMinutes(2),
                () -> {
                    while (taken.size() < n) {
                        taken.add(changes.next());
                    }
                });
        return taken;
    }
}
