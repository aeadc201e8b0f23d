package io.tidemark.benchmarks.e2e;

import io.tidemark.testbed.EmbeddedDatabase;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * The multi-source variant's source: {@code public.items} in two databases (shards, say two
 * regions) that hold the same keys and both write them; the declared rule is the newest {@code
 * updated_at} wins (ties: the later shard). Delivery is out of order: every round, shard B writes
 * its changes in a transaction it holds open while shard A writes and commits changes of the same
 * keys, so B's older changes reach the pipelines after A's newer ones.
 *
 * <p>The expected table is computed from the shards afterwards by the same rule (their live rows
 * plus the tombstones of the deletes the stream made) and materialized in a third database, the
 * ground truth both sides are diffed against.
 */
final class ShardedTable {

    /** The shards' databases, in the rule's tie-break order. */
    static final List<String> SHARDS = List.of("shard_a", "shard_b");

    /** Where the expected merge is materialized. */
    static final String TRUTH_DATABASE = "shard_truth";

    static final String EXPECTED = "public.expected_items";

    /** The last change of each shard's stream: when a side shows both, it applied the streams. */
    static final long[] MARKERS = {-1L, -2L};

    /** Changes per shard and round. */
    private static final int BATCH = 100;

    private static final String UPSERT =
            "INSERT INTO "
                    + SourceTable.TABLE
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, DATE '2026-06-01', clock_timestamp())"
                    + " ON CONFLICT (id) DO UPDATE SET qty = EXCLUDED.qty, score = EXCLUDED.score,"
                    + " price = EXCLUDED.price, ratio = EXCLUDED.ratio, active = EXCLUDED.active,"
                    + " name = EXCLUDED.name, code = EXCLUDED.code, day = EXCLUDED.day,"
                    + " updated_at = EXCLUDED.updated_at";

    /** A delete the stream made: of {@code id} on shard {@code rank}, ordered by the row's time. */
    record Tombstone(int rank, long id, OffsetDateTime at) {}

    private ShardedTable() {}

    /**
     * Generates both shards with the same keys 1..{@code rows}: shard B's rows carry other names
     * and are 1 s newer than shard A's on even keys, 1 s older on odd ones. The rows were last
     * written in the last half hour: within {@code reconcile.retention} (1 h by default), so their
     * versions are still known when a shard deletes one (a delete of a version older than the
     * retention finds no state and follows the table's late policy; see docs/internals.md,
     * "Ordering, tombstones and late data").
     */
    static void generate(EmbeddedDatabase database, int rows) throws SQLException {
        long base = System.currentTimeMillis() - 30 * 60 * 1000L;
        for (int rank = 0; rank < SHARDS.size(); rank++) {
            database.createDatabase(SHARDS.get(rank));
            try (Connection connection = database.connect(SHARDS.get(rank));
                    Statement sql = connection.createStatement()) {
                SourceTable.generate(connection, rows);
                String at = "to_timestamp(" + base + " / 1000.0) + id * INTERVAL '1 millisecond'";
                sql.execute(
                        "UPDATE "
                                + SourceTable.TABLE
                                + (rank == 0
                                        ? " SET updated_at = " + at
                                        : " SET name = 'b ' || name, updated_at = "
                                                + at
                                                + " + CASE WHEN id % 2 = 0 THEN INTERVAL '1 second'"
                                                + " ELSE INTERVAL '-1 second' END"));
                sql.execute("VACUUM ANALYZE " + SourceTable.TABLE);
            }
        }
    }

    /**
     * Writes {@code count} changes over both shards (about 60% upserts of existing keys, 25% new
     * keys, 15% deletes; half on 1% hot keys), in rounds where shard B's transaction is held open
     * while shard A writes and commits; then each shard's marker. Returns the deletes made.
     */
    static List<Tombstone> applyChanges(EmbeddedDatabase database, int rows, int count, long seed)
            throws SQLException {
        SplittableRandom random = new SplittableRandom(seed);
        BitSet[] live = {new BitSet(rows + count + 2), new BitSet(rows + count + 2)};
        live[0].set(1, rows + 1);
        live[1].set(1, rows + 1);
        long[] nextId = {rows + 1L};
        int hot = Math.max(10, rows / 100);
        List<Tombstone> tombstones = new ArrayList<>();
        try (Connection a = database.connect(SHARDS.get(0));
                Connection b = database.connect(SHARDS.get(1))) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            Connection[] shards = {a, b};
            int written = 0;
            while (written < count) {
                int n = Math.min(BATCH, (count - written + 1) / 2);
                // B first, not committed: older changes that arrive later
                written += write(shards[1], 1, n, random, live, nextId, hot, tombstones);
                written +=
                        write(
                                shards[0],
                                0,
                                Math.min(n, count - written),
                                random,
                                live,
                                nextId,
                                hot,
                                tombstones);
                a.commit();
                b.commit();
            }
            for (int rank = 0; rank < 2; rank++) {
                try (Statement sql = shards[rank].createStatement()) {
                    sql.execute(
                            "INSERT INTO "
                                    + SourceTable.TABLE
                                    + " VALUES ("
                                    + MARKERS[rank]
                                    + ", 0, 0, 0, 0, true, 'marker', 'M', DATE '2026-06-01',"
                                    + " clock_timestamp())");
                }
                shards[rank].commit();
            }
        }
        return tombstones;
    }

    private static int write(
            Connection connection,
            int rank,
            int n,
            SplittableRandom random,
            BitSet[] live,
            long[] nextId,
            int hot,
            List<Tombstone> tombstones)
            throws SQLException {
        try (PreparedStatement upsert = connection.prepareStatement(UPSERT);
                PreparedStatement delete =
                        connection.prepareStatement(
                                "DELETE FROM "
                                        + SourceTable.TABLE
                                        + " WHERE id = ? RETURNING updated_at")) {
            for (int i = 0; i < n; i++) {
                int kind = random.nextInt(100);
                if (kind >= 85 && live[rank].cardinality() > 10) {
                    long id = pick(random, live[rank], hot, (int) nextId[0]);
                    delete.setLong(1, id);
                    try (ResultSet deleted = delete.executeQuery()) {
                        deleted.next();
                        tombstones.add(
                                new Tombstone(
                                        rank, id, deleted.getObject(1, OffsetDateTime.class)));
                    }
                    live[rank].clear((int) id);
                    continue;
                }
                long id;
                if (kind < 25) {
                    id = nextId[0]++;
                } else {
                    // a key of either shard: where this shard lacks it, the upsert inserts it
                    int from =
                            random.nextInt(2) == 0
                                    ? 1 + random.nextInt(hot)
                                    : 1 + random.nextInt((int) nextId[0] - 1);
                    id = from;
                }
                upsert.setLong(1, id);
                upsert.setInt(2, random.nextInt(1000));
                upsert.setLong(3, random.nextLong(1_000_000_000L));
                upsert.setBigDecimal(4, BigDecimal.valueOf(random.nextInt(10_000_000), 2));
                upsert.setDouble(5, random.nextDouble());
                upsert.setBoolean(6, random.nextBoolean());
                upsert.setString(7, "shard " + rank + " item " + id);
                upsert.setString(8, "S" + rank);
                upsert.executeUpdate();
                live[rank].set((int) id);
            }
        }
        return n;
    }

    private static long pick(SplittableRandom random, BitSet live, int hot, int bound) {
        int from = random.nextInt(2) == 0 ? 1 + random.nextInt(hot) : 1 + random.nextInt(bound);
        int id = live.nextSetBit(from);
        return id < 0 ? live.nextSetBit(1) : id;
    }

    /**
     * Materializes the expected merge of the shards as {@link #EXPECTED} in {@link
     * #TRUTH_DATABASE}: per key, of the shards' live rows and the stream's tombstones, the one with
     * the newest {@code updated_at} (ties: the later shard; a tombstone after the row it deleted);
     * the key is absent where that is a tombstone. Also the snapshot-only merge before any change.
     */
    static long materializeExpected(EmbeddedDatabase database, List<Tombstone> tombstones)
            throws SQLException, IOException {
        database.createDatabase(TRUTH_DATABASE);
        try (Connection truth = database.connect(TRUTH_DATABASE);
                Statement sql = truth.createStatement()) {
            sql.execute("DROP TABLE IF EXISTS " + EXPECTED);
            CopyManager into = truth.unwrap(PGConnection.class).getCopyAPI();
            for (int rank = 0; rank < 2; rank++) {
                String copy = "public.items_" + rank;
                sql.execute("DROP TABLE IF EXISTS " + copy);
                sql.execute("CREATE TABLE " + copy + " (" + SourceTable.COLUMNS_DDL + ")");
                ByteArrayOutputStream rows = new ByteArrayOutputStream();
                try (Connection shard = database.connect(SHARDS.get(rank))) {
                    shard.unwrap(PGConnection.class)
                            .getCopyAPI()
                            .copyOut(
                                    "COPY (SELECT * FROM "
                                            + SourceTable.TABLE
                                            + ") TO STDOUT (FORMAT binary)",
                                    rows);
                }
                into.copyIn(
                        "COPY " + copy + " FROM STDIN (FORMAT binary)",
                        new ByteArrayInputStream(rows.toByteArray()));
            }
            sql.execute("DROP TABLE IF EXISTS public.tombstones");
            sql.execute("CREATE TABLE public.tombstones (rank int, id bigint, at timestamptz)");
            StringBuilder text = new StringBuilder();
            for (Tombstone t : tombstones) {
                text.append(t.rank())
                        .append('\t')
                        .append(t.id())
                        .append('\t')
                        .append(t.at())
                        .append('\n');
            }
            into.copyIn(
                    "COPY public.tombstones FROM STDIN",
                    new ByteArrayInputStream(text.toString().getBytes(StandardCharsets.UTF_8)));
            sql.execute(
                    "CREATE TABLE "
                            + EXPECTED
                            + " AS WITH candidates AS ("
                            + " SELECT id, updated_at AS at, 0 AS rank, 0 AS tombstone FROM public.items_0"
                            + " UNION ALL SELECT id, updated_at, 1, 0 FROM public.items_1"
                            + " UNION ALL SELECT id, at, rank, 1 FROM public.tombstones),"
                            + " winners AS (SELECT DISTINCT ON (id) id, rank, tombstone FROM candidates"
                            + " ORDER BY id, at DESC, rank DESC, tombstone DESC)"
                            + " SELECT r.* FROM public.items_0 r JOIN winners w"
                            + " ON w.id = r.id AND w.rank = 0 AND w.tombstone = 0"
                            + " UNION ALL SELECT r.* FROM public.items_1 r JOIN winners w"
                            + " ON w.id = r.id AND w.rank = 1 AND w.tombstone = 0");
            sql.execute("ALTER TABLE " + EXPECTED + " ADD PRIMARY KEY (id)");
            try (ResultSet count = sql.executeQuery("SELECT count(*) FROM " + EXPECTED)) {
                count.next();
                return count.getLong(1);
            }
        }
    }
}
