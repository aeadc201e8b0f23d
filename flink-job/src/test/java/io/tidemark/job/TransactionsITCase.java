package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.SharedMariaDb;
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
import java.util.List;
import java.util.Map;
import java.util.Random;
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
 * A source transaction lands in one commit of its table: every snapshot of the replica holds a
 * state the source held between transactions. The workload keeps two invariants in every
 * transaction: the sum of the balances of {@code accounts} (transfers between two accounts, single
 * and batched by the hundred and by the two thousand) and the number of its rows (an account
 * deleted and inserted again). Checkpoints every 200 ms fall between the changes of one transaction
 * again and again (without {@code TransactionFence}, 16 of 30 Postgres snapshots broke one or
 * both); every snapshot of the replica must hold both invariants, and the replica ends equal to the
 * source. On Postgres and on MariaDB (the binlog; Flink CDC's readers emit each fetched batch at
 * once, so a barrier falls inside a transaction only where it spans two batches: on MariaDB none
 * did in this test's runs without the fence, which keeps it whole there too).
 */
class TransactionsITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("bank", "iceberg_catalog");

    @RegisterExtension static final SharedMariaDb MARIADB = new SharedMariaDb(DATABASE, "mbank");

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

    @Test
    void everySnapshotOfAMariaDbTableHoldsWholeTransactions() throws Exception {
        PipelineConfig config =
                PipelineYaml.mariaDb(
                                MARIADB.get(), "mbank", DATABASE.get(), DATABASE.dir(), "mbank")
                        .set("checkpoint.interval", "200ms")
                        .set("pipeline.parallelism", 2)
                        .table("mbank.accounts", "mbank.accounts")
                        .config();
        try (Connection source = MARIADB.get().connect("mbank")) {
            createAccounts(source, "double");
            replicate(config, source, "mbank.accounts", TableIdentifier.of("mbank", "accounts"));
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
            long until = System.nanoTime() + Duration.ofSeconds(12).toNanos();
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
                } else if (dice < 17) {
                    for (int i = 0; i < 2_000; i++) {
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
}
