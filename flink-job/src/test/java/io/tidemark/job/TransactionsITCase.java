package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A source transaction lands whole in one commit of each table ({@code TransactionFence}), and the
 * tables read at a consistent point ({@code points.table}) hold a state the source held, through
 * checkpoints every 200 ms that fall between the changes of one transaction again and again.
 *
 * <p>One table: transfers between two accounts (single, or a hundred in one transaction) and an
 * account deleted and inserted again keep the balances' total and the row count in every
 * transaction; every snapshot of the replica must hold both (without the fence 16 of 30 snapshots
 * did not), and the replica ends equal to the source. Two tables: every transaction moves amounts
 * between an account of {@code a_accounts} and one of {@code b_accounts} and stamps the rows it
 * changes with its number; the test keeps the source's sequence of transactions, and for every
 * published point reads both tables at the point's snapshots, finds the newest transaction they
 * hold, and requires the join of the two tables to equal the same join of the source after exactly
 * that many transactions (no transaction half in, no table ahead of the other). The points' ids run
 * without a gap, each names each table's snapshot of its checkpoint or before, and the newest point
 * equals the source at the end. (Reading each table at its newest snapshot instead is what points
 * are for: the tables of a checkpoint are committed one after another.) MySQL and MariaDB changes
 * carry their transaction too ({@code DebeziumDecoderTest}); their pipelines run through the fence
 * in {@code SourceToIcebergITCase} and {@code WholeDatabaseITCase}.
 */
class TransactionsITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("bank", "twin", "iceberg_catalog");

    private static final int ACCOUNTS = 200;
    private static final long BALANCE = 1_000;

    @Test
    void everySnapshotOfAPostgresTableHoldsWholeTransactions() throws Exception {
        PipelineConfig config =
                PipelineYaml.postgres(DATABASE.get(), "bank", DATABASE.dir(), "bank")
                        .set("checkpoint.interval", "200ms")
                        .set("pipeline.parallelism", 2)
                        .table("public.accounts", "bank.accounts")
                        .config();
        try (Connection source = DATABASE.get().connect("bank")) {
            createAccounts(source, "double precision");
            replicate(config, source, "public.accounts", TableIdentifier.of("bank", "accounts"));
        } finally {
            DATABASE.get().dropSlot("bank", config.source().slotName());
        }
    }

    private static void createAccounts(Connection source, String doubleType) throws SQLException {
        try (Statement sql = source.createStatement()) {
            sql.execute(
                    "CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL, rate "
                            + doubleType
                            + " NOT NULL, note varchar(40))");
            for (int id = 1; id <= ACCOUNTS; id++) {
                sql.execute(
                        "INSERT INTO accounts VALUES (" + id + ", " + BALANCE + ", 0.5, 'opened')");
            }
        }
    }

    private static void replicate(
            PipelineConfig config, Connection source, String sourceTable, TableIdentifier target)
            throws Exception {
        Catalog catalog = TestPipelines.catalog(config);
        JobClient job =
                TestJobs.start(
                        config,
                        RunContext.start(config.pipelineId(), null),
                        CommitListener.NONE,
                        null);
        try {
            GroundTruth.awaitFirstCommit(job, catalog, target);
            long first = catalog.loadTable(target).currentSnapshot().snapshotId();
            Transactions transactions = new Transactions(source, new Random(7));
            long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
            while (System.nanoTime() < until) {
                transactions.next();
            }
            GroundTruth.awaitEqual(
                    job, source, catalog, Map.of(sourceTable, target), Duration.ofMinutes(2));
            Table table = catalog.loadTable(target);
            List<String> broken = new ArrayList<>();
            int snapshots = 0;
            for (Snapshot snapshot = table.currentSnapshot();
                    snapshot.snapshotId() != first;
                    snapshot = table.snapshot(snapshot.parentId())) {
                snapshots++;
                long[] sumAndCount = sumAndCount(table, snapshot.snapshotId());
                if (sumAndCount[0] != ACCOUNTS * BALANCE || sumAndCount[1] != ACCOUNTS) {
                    broken.add(
                            String.format(
                                    "snapshot %d (checkpoint %s): sum %d, %d rows",
                                    snapshot.snapshotId(),
                                    snapshot.summary().get("tidemark.checkpoint-id"),
                                    sumAndCount[0],
                                    sumAndCount[1]));
                }
            }
            assertThat(transactions.count).as("transactions written").isGreaterThan(100);
            assertThat(snapshots)
                    .as("commits while the transactions were written")
                    .isGreaterThan(10);
            assertThat(broken)
                    .as(
                            "snapshots of %s holding part of a transaction (of %d snapshots)",
                            target, snapshots)
                    .isEmpty();
        } finally {
            GroundTruth.cancel(job);
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /** The balance total and the row count of {@code table} at {@code snapshot}. */
    private static long[] sumAndCount(Table table, long snapshot) throws IOException {
        long sum = 0;
        long count = 0;
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(table).useSnapshot(snapshot).select("balance").build()) {
            for (Record row : rows) {
                sum += (Long) row.getField("balance");
                count++;
            }
        }
        return new long[] {sum, count};
    }

    /** Transactions that keep the balances' total and the number of accounts. */
    private static final class Transactions {
        private final Connection source;
        private final Random random;
        int count;

        Transactions(Connection source, Random random) {
            this.source = source;
            this.random = random;
        }

        void next() throws SQLException {
            source.setAutoCommit(false);
            try {
                int dice = random.nextInt(20);
                if (dice < 12) {
                    transfer();
                } else if (dice < 16) {
                    for (int i = 0; i < 100; i++) {
                        transfer();
                    }
                } else {
                    reopen();
                }
                source.commit();
                count++;
            } catch (SQLException e) {
                source.rollback();
                throw e;
            } finally {
                source.setAutoCommit(true);
            }
        }

        /** Moves an amount from one account to another (two updates). */
        private void transfer() throws SQLException {
            int from = 1 + random.nextInt(ACCOUNTS);
            int to = 1 + random.nextInt(ACCOUNTS);
            long amount = 1 + random.nextInt(50);
            try (PreparedStatement update =
                    source.prepareStatement(
                            "UPDATE accounts SET balance = balance + ?, rate = rate * 1.0001, "
                                    + "note = ? WHERE id = ?")) {
                update.setLong(1, -amount);
                update.setString(2, "sent " + amount);
                update.setLong(3, from);
                update.executeUpdate();
                update.setLong(1, amount);
                update.setString(2, "received " + amount);
                update.setLong(3, to);
                update.executeUpdate();
            }
        }

        /** Deletes an account and opens it again with its balance (a delete and an insert). */
        private void reopen() throws SQLException {
            int id = 1 + random.nextInt(ACCOUNTS);
            long balance;
            try (PreparedStatement read =
                    source.prepareStatement("SELECT balance FROM accounts WHERE id = ?")) {
                read.setLong(1, id);
                try (var rs = read.executeQuery()) {
                    rs.next();
                    balance = rs.getLong(1);
                }
            }
            try (PreparedStatement delete =
                            source.prepareStatement("DELETE FROM accounts WHERE id = ?");
                    PreparedStatement insert =
                            source.prepareStatement(
                                    "INSERT INTO accounts VALUES (?, ?, 0.5, 'reopened')")) {
                delete.setLong(1, id);
                delete.executeUpdate();
                insert.setLong(1, id);
                insert.setLong(2, balance);
                insert.executeUpdate();
            }
        }
    }

    private static final int TWIN_ACCOUNTS = 100;
    private static final TableIdentifier A = TableIdentifier.of("twin", "a_accounts");
    private static final TableIdentifier B = TableIdentifier.of("twin", "b_accounts");
    private static final TableIdentifier POINTS = TableIdentifier.of("twin", "tidemark_points");

    @Test
    void everyPointJoinsTheTablesAsTheSourceHeldThem() throws Exception {
        PipelineConfig config =
                PipelineYaml.postgres(DATABASE.get(), "twin", DATABASE.dir(), "twin")
                        .set("checkpoint.interval", "200ms")
                        .set("pipeline.parallelism", 2)
                        .set("points.table", "twin.tidemark_points")
                        .table("public.a_accounts", "twin.a_accounts")
                        .table("public.b_accounts", "twin.b_accounts")
                        .config();
        Catalog catalog = TestPipelines.catalog(config);
        try (Connection source = DATABASE.get().connect("twin")) {
            Ledger ledger = new Ledger(source, new Random(11));
            ledger.create();
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null);
            try {
                GroundTruth.awaitFirstCommit(job, catalog, A, B);
                // transactions until some twelve points were published while they streamed
                long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (System.nanoTime() < until
                        && (ledger.transactions.size() % 50 != 0 || points(catalog).size() < 20)) {
                    ledger.next();
                }
                GroundTruth.awaitEqual(
                        job,
                        source,
                        catalog,
                        Map.of("public.a_accounts", A, "public.b_accounts", B),
                        Duration.ofMinutes(2));
                // the point of the checkpoint that brought the tables to the source's state
                org.awaitility.Awaitility.await("the newest point at the last transaction")
                        .atMost(Duration.ofMinutes(1))
                        .until(() -> newestTransaction(catalog) == ledger.transactions.size());
                checkPoints(catalog, ledger);
            } finally {
                GroundTruth.cancel(job);
            }
        } finally {
            DATABASE.get().dropSlot("twin", config.source().slotName());
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /** A point: its id, checkpoint, and the snapshot of each table. */
    private record Point(long id, long checkpoint, Map<String, Long> snapshots) {}

    private static TreeMap<Long, Point> points(Catalog catalog) throws IOException {
        TreeMap<Long, Point> points = new TreeMap<>();
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(catalog.loadTable(POINTS)).build()) {
            for (Record row : rows) {
                assertThat(row.getField("pipeline_id")).isEqualTo("twin");
                long id = (Long) row.getField("point_id");
                Point point =
                        points.computeIfAbsent(
                                id,
                                i ->
                                        new Point(
                                                i,
                                                (Long) row.getField("checkpoint_id"),
                                                new HashMap<>()));
                assertThat(row.getField("checkpoint_id")).isEqualTo(point.checkpoint());
                point.snapshots()
                        .put(
                                (String) row.getField("table_name"),
                                (Long) row.getField("snapshot_id"));
            }
        }
        return points;
    }

    private static long newestTransaction(Catalog catalog) throws IOException {
        Point newest = points(catalog).lastEntry().getValue();
        return Math.max(
                newestTransaction(rows(catalog.loadTable(A), newest.snapshots().get(A.toString()))),
                newestTransaction(
                        rows(catalog.loadTable(B), newest.snapshots().get(B.toString()))));
    }

    private static void checkPoints(Catalog catalog, Ledger ledger) throws IOException {
        TreeMap<Long, Point> points = points(catalog);
        assertThat(points.size()).as("points published").isGreaterThanOrEqualTo(12);
        assertThat(points.lastKey() - points.firstKey() + 1)
                .as("point ids without a gap")
                .isEqualTo(points.size());
        Table a = catalog.loadTable(A);
        Table b = catalog.loadTable(B);
        List<String> wrong = new ArrayList<>();
        int withTransactions = 0;
        List<Point> all = new ArrayList<>(points.values());
        // up to 16 points spread over all of them, the first and the newest among them (reading a
        // table at a snapshot opens every file it holds: all of them would take most of a minute)
        List<Point> checked = new ArrayList<>();
        for (int i = 0; i < Math.min(16, all.size()); i++) {
            checked.add(all.get(i * (all.size() - 1) / Math.max(1, Math.min(16, all.size()) - 1)));
        }
        for (Point point : all) {
            assertThat(point.snapshots()).containsOnlyKeys(A.toString(), B.toString());
        }
        for (Point point : checked) {
            for (TableIdentifier identifier : List.of(A, B)) {
                Table table = identifier.equals(A) ? a : b;
                long snapshot = point.snapshots().get(identifier.toString());
                String committed = table.snapshot(snapshot).summary().get(Provenance.CHECKPOINT_ID);
                assertThat(Long.parseLong(committed))
                        .as("the checkpoint of %s's snapshot at point %d", table, point.id())
                        .isLessThanOrEqualTo(point.checkpoint());
            }
            Map<Long, long[]> aRows = rows(a, point.snapshots().get(A.toString()));
            Map<Long, long[]> bRows = rows(b, point.snapshots().get(B.toString()));
            int held = (int) Math.max(newestTransaction(aRows), newestTransaction(bRows));
            withTransactions += held > 0 ? 1 : 0;
            Map<Long, String> joined = join(aRows, bRows);
            Map<Long, String> expected =
                    join(ledger.stateAfter(held, 0), ledger.stateAfter(held, 1));
            if (!joined.equals(expected)) {
                List<String> differences = new ArrayList<>();
                for (Long id : expected.keySet()) {
                    if (!expected.get(id).equals(joined.get(id)) && differences.size() < 3) {
                        differences.add(
                                id + ": " + joined.get(id) + " expected " + expected.get(id));
                    }
                }
                wrong.add(
                        String.format(
                                "point %d (checkpoint %d, snapshots %s) holds transaction %d but"
                                        + " differs from the source after it: %s",
                                point.id(),
                                point.checkpoint(),
                                point.snapshots(),
                                held,
                                differences));
            }
        }
        assertThat(withTransactions).as("points holding transactions").isGreaterThan(8);
        assertThat(checked).contains(all.get(all.size() - 1));
        assertThat(wrong).isEmpty();
    }

    /** {@code id -> "a.balance/a.tx | b.balance/b.tx"}: the join of the two tables on id. */
    private static Map<Long, String> join(Map<Long, long[]> a, Map<Long, long[]> b) {
        Map<Long, String> joined = new TreeMap<>();
        a.forEach(
                (id, row) -> {
                    long[] other = b.get(id);
                    if (other != null) {
                        joined.put(id, row[0] + "/" + row[1] + " | " + other[0] + "/" + other[1]);
                    }
                });
        return joined;
    }

    private static long newestTransaction(Map<Long, long[]> rows) {
        return rows.values().stream().mapToLong(r -> r[1]).max().orElse(0);
    }

    /** {@code id -> [balance, tx]} of {@code table} at {@code snapshot}. */
    private static Map<Long, long[]> rows(Table table, long snapshot) throws IOException {
        Map<Long, long[]> rows = new HashMap<>();
        try (CloseableIterable<Record> read =
                IcebergGenerics.read(table).useSnapshot(snapshot).build()) {
            for (Record row : read) {
                rows.put(
                        (Long) row.getField("id"),
                        new long[] {(Long) row.getField("balance"), (Long) row.getField("tx")});
            }
        }
        return rows;
    }

    /** The source's two tables and the sequence of transactions written to them. */
    private static final class Ledger {
        private final Connection source;
        private final Random random;

        /** Per transaction, its moves: {table (0 a, 1 b), id, delta}. */
        final List<List<long[]>> transactions = new ArrayList<>();

        Ledger(Connection source, Random random) {
            this.source = source;
            this.random = random;
        }

        void create() throws SQLException {
            try (Statement sql = source.createStatement()) {
                for (String table : List.of("a_accounts", "b_accounts")) {
                    sql.execute(
                            "CREATE TABLE "
                                    + table
                                    + " (id bigint PRIMARY KEY, balance bigint NOT NULL, tx bigint NOT NULL)");
                    sql.execute(
                            "INSERT INTO "
                                    + table
                                    + " SELECT g, "
                                    + BALANCE
                                    + ", 0 FROM generate_series(1, "
                                    + TWIN_ACCOUNTS
                                    + ") g");
                }
            }
        }

        /** One transaction: a transfer between the tables, or fifty. */
        void next() throws SQLException {
            long tx = transactions.size() + 1;
            List<long[]> moves = new ArrayList<>();
            int transfers = random.nextInt(10) == 0 ? 50 : 1;
            for (int i = 0; i < transfers; i++) {
                long amount = 1 + random.nextInt(20);
                int from = random.nextInt(2);
                moves.add(new long[] {from, 1 + random.nextInt(TWIN_ACCOUNTS), -amount});
                moves.add(new long[] {1 - from, 1 + random.nextInt(TWIN_ACCOUNTS), amount});
            }
            source.setAutoCommit(false);
            try (PreparedStatement a =
                            source.prepareStatement(
                                    "UPDATE a_accounts SET balance = balance + ?, tx = ? WHERE id = ?");
                    PreparedStatement b =
                            source.prepareStatement(
                                    "UPDATE b_accounts SET balance = balance + ?, tx = ? WHERE id = ?")) {
                for (long[] move : moves) {
                    PreparedStatement update = move[0] == 0 ? a : b;
                    update.setLong(1, move[2]);
                    update.setLong(2, tx);
                    update.setLong(3, move[1]);
                    update.executeUpdate();
                }
                source.commit();
            } catch (SQLException e) {
                source.rollback();
                throw e;
            } finally {
                source.setAutoCommit(true);
            }
            transactions.add(moves);
        }

        /** {@code id -> [balance, tx]} of table {@code which} after the first {@code count}. */
        Map<Long, long[]> stateAfter(int count, int which) {
            Map<Long, long[]> rows = new HashMap<>();
            for (long id = 1; id <= TWIN_ACCOUNTS; id++) {
                rows.put(id, new long[] {BALANCE, 0});
            }
            for (int t = 0; t < count; t++) {
                for (long[] move : transactions.get(t)) {
                    if (move[0] == which) {
                        long[] row = rows.get(move[1]);
                        row[0] += move[2];
                        row[1] = t + 1;
                    }
                }
            }
            return rows;
        }
    }
}
