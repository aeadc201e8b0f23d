package io.tidemark.source;

import io.debezium.connector.postgresql.SourceInfo;
import io.debezium.time.Conversions;
import io.tidemark.catalog.SqlNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.flink.cdc.connectors.base.source.meta.split.SnapshotSplit;
import org.apache.flink.cdc.connectors.postgres.source.offset.PostgresOffset;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Positions in a Postgres server's WAL, and waiting for the transactions open at one. */
final class PostgresWal {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresWal.class);

    /** How often a wait for open transactions says which ones it waits for. */
    private static final Duration WARN_EVERY = Duration.ofSeconds(30);

    private PostgresWal() {}

    /**
     * The WAL insert position: where the next record will start, so every change written before the
     * call lies below it. ({@code pg_current_wal_lsn()}, which Flink CDC reads, is the write
     * position, which trails the insert position under {@code synchronous_commit = off} by up to a
     * WAL writer cycle.) The call's own transaction takes a transaction id and commits flushed, so
     * a record follows the position on disk and a log reader waiting for it moves on.
     */
    static PostgresOffset insertPosition(Connection connection) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try (Statement s = connection.createStatement()) {
            s.execute("SET LOCAL synchronous_commit TO on");
            long lsn;
            long txId;
            try (ResultSet rs =
                    s.executeQuery(
                            "SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint, txid_current()")) {
                rs.next();
                lsn = rs.getLong(1);
                txId = rs.getLong(2);
            }
            connection.commit();
            Map<String, String> offset = new HashMap<>();
            offset.put(SourceInfo.LSN_KEY, Long.toString(lsn));
            offset.put(SourceInfo.TXID_KEY, Long.toString(txId));
            // as Flink CDC's own positions: no commit time
            offset.put(
                    SourceInfo.TIMESTAMP_USEC_KEY,
                    Long.toString(Conversions.toEpochMicros(Instant.MIN)));
            return PostgresOffset.of(offset);
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    /**
     * Waits until every transaction that holds a transaction id now has ended (committed or rolled
     * back), on the whole server, as creating a replication slot does. Returns at once when none is
     * open, the common case. Says every {@link #WARN_EVERY} which transactions it waits for, and
     * stops with an exception when {@code running} turns false (the reader is closing).
     */
    static void awaitTransactionsOpenNow(
            Connection connection, BooleanSupplier running, String waiter) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(true);
        try (Statement s = connection.createStatement();
                PreparedStatement ended =
                        connection.prepareStatement(
                                "SELECT txid_snapshot_xmin(txid_current_snapshot()) >= ?")) {
            long horizon;
            try (ResultSet rs =
                    s.executeQuery("SELECT txid_snapshot_xmax(txid_current_snapshot())")) {
                rs.next();
                horizon = rs.getLong(1);
            }
            ended.setLong(1, horizon);
            long started = System.nanoTime();
            long nextWarning = started + WARN_EVERY.toNanos();
            while (!allEnded(ended)) {
                if (!running.getAsBoolean()) {
                    throw new IllegalStateException(
                            waiter + " closed while waiting for open transactions to end");
                }
                long now = System.nanoTime();
                if (now >= nextWarning) {
                    LOG.warn(
                            "{} has waited {} s for the transactions open when it began to"
                                    + " wait to end (what it reads must include them): {}. Commit"
                                    + " or end them; a transaction left open (idle in transaction,"
                                    + " prepared) holds the snapshot back",
                            waiter,
                            Duration.ofNanos(now - started).toSeconds(),
                            openTransactions(s, horizon));
                    nextWarning = now + WARN_EVERY.toNanos();
                }
                // the server waits, not this thread: a short sleep between two checks
                s.execute("SELECT pg_sleep(0.01)");
            }
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    /**
     * Counts the rows of a chunk's key range in one transaction snapshot, for its {@link
     * ChunkAudit}; null when the chunk is split on several columns (not audited).
     */
    static ChunkAudit countChunk(Connection connection, SnapshotSplit split) throws SQLException {
        List<String> columns = split.getSplitKeyType().getFieldNames();
        if (columns.size() != 1) {
            return null;
        }
        String column = SqlNames.quote(columns.get(0));
        StringBuilder sql =
                new StringBuilder("SELECT count(*) FROM ")
                        .append(SqlNames.quote(split.getTableId().schema()))
                        .append('.')
                        .append(SqlNames.quote(split.getTableId().table()))
                        .append(" WHERE true");
        Object[] start = split.getSplitStart();
        Object[] end = split.getSplitEnd();
        if (start != null) {
            sql.append(" AND ").append(column).append(" >= ?");
        }
        if (end != null) {
            sql.append(" AND ").append(column).append(" < ?");
        }
        boolean autoCommit = connection.getAutoCommit();
        int isolation = connection.getTransactionIsolation();
        connection.setAutoCommit(false);
        connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        try (Statement s = connection.createStatement();
                PreparedStatement count = connection.prepareStatement(sql.toString())) {
            long xmin;
            long xmax;
            long[] inProgress;
            // the first statement takes the transaction's snapshot: the count reads the same one
            try (ResultSet rs =
                    s.executeQuery(
                            "SELECT txid_snapshot_xmin(t), txid_snapshot_xmax(t), "
                                    + "ARRAY(SELECT txid_snapshot_xip(t)) FROM txid_current_snapshot() t")) {
                rs.next();
                xmin = rs.getLong(1);
                xmax = rs.getLong(2);
                Object[] xip = (Object[]) rs.getArray(3).getArray();
                inProgress = new long[xip.length];
                for (int i = 0; i < xip.length; i++) {
                    inProgress[i] = ((Number) xip[i]).longValue();
                }
            }
            int parameter = 1;
            if (start != null) {
                bound(count, parameter++, start[0]);
            }
            if (end != null) {
                bound(count, parameter, end[0]);
            }
            long counted;
            try (ResultSet rs = count.executeQuery()) {
                rs.next();
                counted = rs.getLong(1);
            }
            connection.commit();
            return new ChunkAudit(split.splitId(), counted, xmin, xmax, inProgress);
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setTransactionIsolation(isolation);
            connection.setAutoCommit(autoCommit);
        }
    }

    /**
     * A chunk bound: text is sent untyped, so the server reads it as the column's type (a uuid, an
     * enum, a varchar key); numbers and the like as what they are.
     */
    private static void bound(PreparedStatement statement, int index, Object value)
            throws SQLException {
        if (value instanceof String) {
            statement.setObject(index, value, java.sql.Types.OTHER);
        } else {
            statement.setObject(index, value);
        }
    }

    private static boolean allEnded(PreparedStatement ended) throws SQLException {
        try (ResultSet rs = ended.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** The sessions whose transactions are older than {@code horizon}, for the warning. */
    private static List<String> openTransactions(Statement s, long horizon) throws SQLException {
        List<String> open = new ArrayList<>();
        try (ResultSet rs =
                s.executeQuery(
                        "SELECT pid, datname, state, backend_xid, xact_start FROM pg_stat_activity "
                                + "WHERE backend_xid IS NOT NULL ORDER BY xact_start")) {
            while (rs.next()) {
                open.add(
                        String.format(
                                "pid %d (database %s, %s, xid %s, since %s)",
                                rs.getInt(1),
                                rs.getString(2),
                                rs.getString(3),
                                rs.getString(4),
                                rs.getTimestamp(5)));
            }
        }
        try (ResultSet rs = s.executeQuery("SELECT gid, prepared FROM pg_prepared_xacts")) {
            while (rs.next()) {
                open.add(
                        String.format(
                                "prepared transaction '%s' (since %s)",
                                rs.getString(1), rs.getTimestamp(2)));
            }
        }
        return open.isEmpty() ? List.of("horizon xid " + horizon) : open;
    }
}
