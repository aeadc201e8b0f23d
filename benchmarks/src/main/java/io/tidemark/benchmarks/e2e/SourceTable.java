package io.tidemark.benchmarks.e2e;

import java.io.IOException;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.postgresql.PGConnection;

/**
 * The benchmark's source table {@code public.items}, ten columns of mixed types, and what is done
 * to it: generated rows (the same for every run), a stream of changes (about 60% updates, 25%
 * inserts, 15% deletes, half of them on 1% hot keys; the same for every run with the same seed),
 * and the source's own limits: the {@code COPY ... TO STDOUT} export rate and the raw
 * logical-decoding rate.
 *
 * <p>{@code updated_at} is the time the source wrote the row ({@code clock_timestamp()}): the
 * freshness of a change is the commit time of the Iceberg snapshot holding it minus this.
 */
final class SourceTable {

    static final String TABLE = "public.items";

    /** The key of the last change of a stream: when a side shows it, it applied the stream. */
    static final long MARKER = -1L;

    /** The key of the last change of the backlog. */
    static final long BACKLOG_MARKER = -2L;

    static final String COLUMNS_DDL =
            "id bigint PRIMARY KEY, qty integer NOT NULL, score bigint, price numeric(12,2),"
                    + " ratio double precision, active boolean, name text, code varchar(16),"
                    + " day date, updated_at timestamptz NOT NULL";

    private SourceTable() {}

    /** Drops and generates the table with {@code rows} rows, deterministic values. */
    static void generate(Connection connection, int rows) throws SQLException {
        try (Statement sql = connection.createStatement()) {
            sql.execute("DROP TABLE IF EXISTS " + TABLE + " CASCADE");
            sql.execute("CREATE TABLE " + TABLE + " (" + COLUMNS_DDL + ")");
            sql.execute("ALTER TABLE " + TABLE + " REPLICA IDENTITY FULL");
            sql.execute(
                    "INSERT INTO "
                            + TABLE
                            + " SELECT g, g % 1000, g * 7, (g % 100000) / 100.0, g / 3.0,"
                            + " g % 2 = 0, 'item ' || g, 'C' || (g % 9973),"
                            + " DATE '2026-01-01' + (g % 365),"
                            + " TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * INTERVAL '1 second'"
                            + " FROM generate_series(1, "
                            + rows
                            + ") g");
            sql.execute("ANALYZE " + TABLE);
        }
    }

    /** Rows per second of {@code COPY (SELECT * FROM items) TO STDOUT}. */
    static double copyRate(Connection connection, int rows) throws SQLException, IOException {
        long[] bytes = {0};
        OutputStream counting =
                new OutputStream() {
                    @Override
                    public void write(int b) {
                        bytes[0]++;
                    }

                    @Override
                    public void write(byte[] b, int off, int len) {
                        bytes[0] += len;
                    }
                };
        long start = System.nanoTime();
        long copied =
                connection
                        .unwrap(PGConnection.class)
                        .getCopyAPI()
                        .copyOut("COPY (SELECT * FROM " + TABLE + ") TO STDOUT", counting);
        double seconds = (System.nanoTime() - start) / 1e9;
        if (copied != rows) {
            throw new IllegalStateException("COPY exported " + copied + " rows, expected " + rows);
        }
        return copied / seconds;
    }

    /** Creates a pgoutput slot (and its publication) that keeps the changes made from now on. */
    static void createRawSlot(Connection connection, String slot) throws SQLException {
        try (Statement sql = connection.createStatement()) {
            sql.execute("DROP PUBLICATION IF EXISTS " + slot + "_pub");
            sql.execute("CREATE PUBLICATION " + slot + "_pub FOR TABLE " + TABLE);
            sql.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        }
    }

    /**
     * Decodes everything {@code slot} holds with {@code pg_logical_slot_get_binary_changes}, drops
     * it, and returns the row changes (insert, update, delete messages) per second.
     */
    static double rawDecodingRate(Connection connection, String slot, int expectedChanges)
            throws SQLException {
        long start = System.nanoTime();
        long rowMessages = 0;
        try (Statement sql = connection.createStatement();
                ResultSet rs =
                        sql.executeQuery(
                                "SELECT substr(data, 1, 1) FROM pg_logical_slot_get_binary_changes('"
                                        + slot
                                        + "', NULL, NULL, 'proto_version', '1',"
                                        + " 'publication_names', '"
                                        + slot
                                        + "_pub')")) {
            while (rs.next()) {
                byte kind = rs.getBytes(1)[0];
                // pgoutput: I(nsert), U(pdate), D(elete)
                if (kind == 'I' || kind == 'U' || kind == 'D') {
                    rowMessages++;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        try (Statement sql = connection.createStatement()) {
            sql.execute("SELECT pg_drop_replication_slot('" + slot + "')");
            sql.execute("DROP PUBLICATION IF EXISTS " + slot + "_pub");
        }
        if (rowMessages < expectedChanges) {
            throw new IllegalStateException(
                    "the raw slot decoded "
                            + rowMessages
                            + " row changes, expected "
                            + expectedChanges);
        }
        return rowMessages / seconds;
    }

    /**
     * Applies {@code count} changes in transactions of 500, then the marker row. Returns the time
     * the marker was committed (epoch millis).
     */
    static long applyChanges(Connection connection, int rows, int count, long seed)
            throws SQLException {
        return new ChangeWriter(rows, seed).apply(connection, count, MARKER);
    }

    /**
     * The benchmark's changes, continued from one call to the next (the keys they inserted and
     * deleted): the burst, then the backlog written while a side is stopped.
     */
    static final class ChangeWriter {

        private final SplittableRandom random;
        private final BitSet live;
        private final int hot;
        private long nextId;
        private int written;

        /** Changes to the generated table of {@code rows} rows. */
        ChangeWriter(int rows, long seed) {
            random = new SplittableRandom(seed);
            live = new BitSet(rows + 2);
            live.set(1, rows + 1);
            nextId = rows + 1L;
            hot = Math.max(10, rows / 100);
        }

        /**
         * Applies the next {@code count} changes in transactions of 500, then the row of key {@code
         * marker}. Returns the time the marker was committed (epoch millis).
         */
        long apply(Connection connection, int count, long marker) throws SQLException {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try (PreparedStatement update =
                            connection.prepareStatement(
                                    "UPDATE "
                                            + TABLE
                                            + " SET qty = qty + 1, score = ?, name = ?,"
                                            + " updated_at = clock_timestamp() WHERE id = ?");
                    PreparedStatement insert =
                            connection.prepareStatement(
                                    "INSERT INTO "
                                            + TABLE
                                            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, DATE '2026-06-01',"
                                            + " clock_timestamp())");
                    PreparedStatement delete =
                            connection.prepareStatement("DELETE FROM " + TABLE + " WHERE id = ?")) {
                for (int i = 0; i < count; i++) {
                    change(insert, update, delete);
                    if (i % 500 == 499) {
                        connection.commit();
                    }
                }
                connection.commit();
                try (Statement sql = connection.createStatement()) {
                    sql.execute(
                            "INSERT INTO "
                                    + TABLE
                                    + " VALUES ("
                                    + marker
                                    + ", 0, 0, 0, 0, true, 'marker', 'M', DATE '2026-06-01',"
                                    + " clock_timestamp())");
                }
                connection.commit();
                return System.currentTimeMillis();
            } finally {
                connection.setAutoCommit(autoCommit);
            }
        }

        private void change(
                PreparedStatement insert, PreparedStatement update, PreparedStatement delete)
                throws SQLException {
            int kind = random.nextInt(100);
            int i = written++;
            if (kind < 25 || live.cardinality() < 10) {
                long id = nextId++;
                insert.setLong(1, id);
                insert.setInt(2, (int) (id % 1000));
                insert.setLong(3, id * 7);
                insert.setBigDecimal(4, java.math.BigDecimal.valueOf(id % 100000, 2));
                insert.setDouble(5, id / 3.0);
                insert.setBoolean(6, id % 2 == 0);
                insert.setString(7, "new " + id);
                insert.setString(8, "N" + (id % 9973));
                insert.executeUpdate();
                live.set((int) id);
                return;
            }
            long id = pick(random, live, hot, (int) nextId);
            if (kind < 85) {
                update.setLong(1, random.nextLong(1_000_000_000L));
                update.setString(2, "updated " + i);
                update.setLong(3, id);
                update.executeUpdate();
            } else {
                delete.setLong(1, id);
                delete.executeUpdate();
                live.clear((int) id);
            }
        }
    }

    /** A live key: half the time among the first {@code hot} live ones, else any. */
    private static long pick(SplittableRandom random, BitSet live, int hot, int bound) {
        int from = random.nextInt(2) == 0 ? 1 + random.nextInt(hot) : 1 + random.nextInt(bound);
        int id = live.nextSetBit(from);
        if (id < 0) {
            id = live.nextSetBit(1);
        }
        return id;
    }
}
