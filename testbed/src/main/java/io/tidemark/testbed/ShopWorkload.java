package io.tidemark.testbed;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo's shop: {@code customers} and {@code orders}, and a generator of realistic changes.
 *
 * <p>Column types cover bigint, integer, text, varchar, boolean, numeric(12,2), double precision,
 * date, timestamp and timestamptz. Tables use {@code REPLICA IDENTITY FULL} so deletes and updates
 * carry before images.
 *
 * <p>The same tables and changes run on MySQL and MariaDB ({@link #mysql}): {@code boolean} is
 * MySQL's {@code tinyint(1)}, {@code timestamptz} its {@code timestamp(6)}, {@code timestamp} its
 * {@code datetime(6)}, {@code numeric} its {@code decimal}; binlog rows are always whole images.
 *
 * <p>The change mix: inserts, updates, deletes, a delete followed by a re-insert of the same key
 * (in one transaction), and updates of the primary key. Seeded, so a run is repeatable. Not
 * thread-safe: one thread drives it.
 */
public final class ShopWorkload {

    public static final String CUSTOMERS = "public.customers";
    public static final String ORDERS = "public.orders";

    /**
     * The orders columns an insert names: MySQL, unlike Postgres, refuses an insert without a
     * column list once a column was added (the demo's schema drift).
     */
    public static final String ORDER_COLUMNS =
            "(id, customer_id, status, quantity, amount, weight, paid, ordered_at, updated_at, note)";

    private static final String[] STATUSES = {"new", "paid", "shipped", "delivered", "returned"};

    private final Connection connection;
    private final Random random;
    private final boolean mysql;
    private final String customers;
    private final String orders;
    private final List<Long> customerIds = new ArrayList<>();
    private final List<Long> orderIds = new ArrayList<>();
    private final AtomicLong changes = new AtomicLong();
    private long nextCustomerId;
    private long nextOrderId;

    /** The shop in Postgres schema {@code public}. */
    public ShopWorkload(Connection connection, long seed) {
        this(connection, seed, false, "public");
    }

    private ShopWorkload(Connection connection, long seed, boolean mysql, String namespace) {
        this.connection = connection;
        this.random = new Random(seed);
        this.mysql = mysql;
        this.customers = namespace + ".customers";
        this.orders = namespace + ".orders";
    }

    /** The shop in MySQL (or MariaDB) database {@code database}. */
    public static ShopWorkload mysql(Connection connection, long seed, String database) {
        return new ShopWorkload(connection, seed, true, database);
    }

    /** The customers table, {@code schema.table}. */
    public String customersTable() {
        return customers;
    }

    /** The orders table, {@code schema.table}. */
    public String ordersTable() {
        return orders;
    }

    /** Creates the tables (dropping old ones) and inserts the initial rows. */
    public void createAndSeed(int customerRows, int orderRows) throws SQLException {
        if (mysql) {
            createAndSeedMySql(customerRows, orderRows);
        } else {
            createAndSeedPostgres(customerRows, orderRows);
        }
        for (long id = 1; id <= customerRows; id++) {
            customerIds.add(id);
        }
        for (long id = 1; id <= orderRows; id++) {
            orderIds.add(id);
        }
        nextCustomerId = customerRows + 1L;
        nextOrderId = orderRows + 1L;
    }

    private void createAndSeedPostgres(int customerRows, int orderRows) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public.orders");
            s.execute("DROP TABLE IF EXISTS public.customers");
            s.execute(
                    "CREATE TABLE public.customers ("
                            + "id bigint PRIMARY KEY, "
                            + "name text NOT NULL, "
                            + "email varchar(200), "
                            + "vip boolean NOT NULL, "
                            + "credit numeric(12,2), "
                            + "birthday date, "
                            + "created_at timestamptz NOT NULL)");
            s.execute(
                    "CREATE TABLE public.orders ("
                            + "id bigint PRIMARY KEY, "
                            + "customer_id bigint NOT NULL, "
                            + "status text NOT NULL, "
                            + "quantity integer NOT NULL, "
                            + "amount numeric(12,2) NOT NULL, "
                            + "weight double precision, "
                            + "paid boolean NOT NULL, "
                            + "ordered_at timestamptz NOT NULL, "
                            + "updated_at timestamp NOT NULL, "
                            + "note text)");
            s.execute("ALTER TABLE public.customers REPLICA IDENTITY FULL");
            s.execute("ALTER TABLE public.orders REPLICA IDENTITY FULL");
            s.execute(
                    "INSERT INTO public.customers SELECT g, 'customer ' || g, 'c' || g || '@example.com', "
                            + "g % 7 = 0, round((g * 37 % 100000) / 100.0, 2), DATE '1970-01-01' + (g * 13 % 18000), "
                            + "TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 minute' "
                            + "FROM generate_series(1, "
                            + customerRows
                            + ") g");
            s.execute(
                    "INSERT INTO public.orders SELECT g, 1 + g % "
                            + Math.max(1, customerRows)
                            + ", (ARRAY['new','paid','shipped'])[1 + g % 3], 1 + g % 9, "
                            + "round((g * 7919 % 1000000) / 100.0, 2), (g % 50) * 0.25, g % 2 = 0, "
                            + "TIMESTAMPTZ '2024-02-01 00:00:00+00' + g * INTERVAL '1 second', "
                            + "TIMESTAMP '2024-02-01 00:00:00' + g * INTERVAL '1 second', "
                            + "CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END "
                            + "FROM generate_series(1, "
                            + orderRows
                            + ") g");
        }
    }

    private void createAndSeedMySql(int customerRows, int orderRows) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + orders);
            s.execute("DROP TABLE IF EXISTS " + customers);
            s.execute(
                    "CREATE TABLE "
                            + customers
                            + " (id bigint PRIMARY KEY, name text NOT NULL, email varchar(200), "
                            + "vip boolean NOT NULL, credit decimal(12,2), birthday date, "
                            + "created_at timestamp(6) NOT NULL)");
            s.execute(
                    "CREATE TABLE "
                            + orders
                            + " (id bigint PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL, "
                            + "quantity integer NOT NULL, amount decimal(12,2) NOT NULL, weight double, "
                            + "paid boolean NOT NULL, ordered_at timestamp(6) NOT NULL, "
                            + "updated_at datetime(6) NOT NULL, note text)");
        }
        // the Postgres seed's values, row by row (MySQL has no generate_series)
        inTransaction(() -> seedMySql(customerRows, orderRows));
    }

    private void seedMySql(int customerRows, int orderRows) throws SQLException {
        try (PreparedStatement c =
                        connection.prepareStatement(
                                "INSERT INTO " + customers + " VALUES (?, ?, ?, ?, ?, ?, ?)");
                PreparedStatement o =
                        connection.prepareStatement(
                                "INSERT INTO "
                                        + orders
                                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            Instant customersFrom = Instant.parse("2024-01-01T00:00:00Z");
            for (int g = 1; g <= customerRows; g++) {
                c.setLong(1, g);
                c.setString(2, "customer " + g);
                c.setString(3, "c" + g + "@example.com");
                c.setBoolean(4, g % 7 == 0);
                c.setBigDecimal(5, BigDecimal.valueOf(g * 37L % 100_000, 2));
                c.setObject(6, LocalDate.ofEpochDay(g * 13L % 18_000));
                c.setObject(7, customersFrom.plusSeconds(60L * g).atOffset(ZoneOffset.UTC));
                c.addBatch();
                if (g % 500 == 0) {
                    c.executeBatch();
                }
            }
            c.executeBatch();
            String[] seedStatuses = {"new", "paid", "shipped"};
            Instant ordersFrom = Instant.parse("2024-02-01T00:00:00Z");
            for (int g = 1; g <= orderRows; g++) {
                o.setLong(1, g);
                o.setLong(2, 1 + g % Math.max(1, customerRows));
                o.setString(3, seedStatuses[g % 3]);
                o.setInt(4, 1 + g % 9);
                o.setBigDecimal(5, BigDecimal.valueOf(g * 7919L % 1_000_000, 2));
                o.setDouble(6, (g % 50) * 0.25);
                o.setBoolean(7, g % 2 == 0);
                o.setObject(8, ordersFrom.plusSeconds(g).atOffset(ZoneOffset.UTC));
                o.setObject(9, LocalDateTime.ofInstant(ordersFrom.plusSeconds(g), ZoneOffset.UTC));
                o.setString(10, g % 5 == 0 ? null : "note " + g);
                o.addBatch();
                if (g % 500 == 0) {
                    o.executeBatch();
                }
            }
            o.executeBatch();
        }
    }

    /** A unit of work on the workload's connection. */
    @FunctionalInterface
    private interface SqlWork {
        void run() throws SQLException;
    }

    /** Runs {@code work} in one transaction: committed, or rolled back on failure. */
    private void inTransaction(SqlWork work) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        connection.setAutoCommit(false);
        try {
            work.run();
            connection.commit();
        } catch (SQLException e) {
            connection.rollback();
            throw e;
        } finally {
            connection.setAutoCommit(autoCommit);
        }
    }

    /** Changes applied so far (a transaction of two statements counts two). */
    public long changes() {
        return changes.get();
    }

    /** Applies {@code count} random changes, each in its own transaction. */
    public void apply(int count) throws SQLException {
        for (int i = 0; i < count; i++) {
            step();
        }
    }

    /** Applies one random change. */
    public void step() throws SQLException {
        int dice = random.nextInt(100);
        if (dice < 15 || orderIds.isEmpty()) {
            insertOrder();
        } else if (dice < 45) {
            updateOrder();
        } else if (dice < 55) {
            deleteOrder();
        } else if (dice < 62 || customerIds.isEmpty()) {
            insertCustomer();
        } else if (dice < 84) {
            updateCustomer();
        } else if (dice < 89) {
            deleteCustomer();
        } else if (dice < 95) {
            deleteThenReinsertOrder();
        } else {
            changeOrderKey();
        }
    }

    private void insertCustomer() throws SQLException {
        long id = nextCustomerId++;
        try (PreparedStatement p =
                connection.prepareStatement(
                        "INSERT INTO " + customers + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            p.setLong(1, id);
            p.setString(2, "customer " + id);
            p.setString(3, random.nextInt(10) == 0 ? null : "c" + id + "@example.com");
            p.setBoolean(4, random.nextBoolean());
            p.setBigDecimal(5, money(100_000));
            p.setObject(
                    6,
                    LocalDate.of(
                            1950 + random.nextInt(55),
                            1 + random.nextInt(12),
                            1 + random.nextInt(28)));
            p.setObject(7, now());
            p.executeUpdate();
        }
        customerIds.add(id);
        changes.incrementAndGet();
    }

    private void updateCustomer() throws SQLException {
        long id = pick(customerIds);
        try (PreparedStatement p =
                connection.prepareStatement(
                        "UPDATE "
                                + customers
                                + " SET credit = ?, vip = ?, email = ? WHERE id = ?")) {
            p.setBigDecimal(1, random.nextInt(8) == 0 ? null : money(100_000));
            p.setBoolean(2, random.nextBoolean());
            p.setString(3, "c" + id + "." + random.nextInt(1000) + "@example.com");
            p.setLong(4, id);
            p.executeUpdate();
        }
        changes.incrementAndGet();
    }

    private void deleteCustomer() throws SQLException {
        long id = removeRandom(customerIds);
        try (PreparedStatement p =
                connection.prepareStatement("DELETE FROM " + customers + " WHERE id = ?")) {
            p.setLong(1, id);
            p.executeUpdate();
        }
        changes.incrementAndGet();
    }

    private void insertOrder() throws SQLException {
        long id = nextOrderId++;
        insertOrder(id);
        orderIds.add(id);
        changes.incrementAndGet();
    }

    private void insertOrder(long id) throws SQLException {
        try (PreparedStatement p =
                connection.prepareStatement(
                        "INSERT INTO "
                                + orders
                                + " "
                                + ORDER_COLUMNS
                                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setLong(1, id);
            p.setLong(2, customerIds.isEmpty() ? 0 : pick(customerIds));
            p.setString(3, STATUSES[random.nextInt(STATUSES.length)]);
            p.setInt(4, 1 + random.nextInt(20));
            p.setBigDecimal(5, money(1_000_000));
            p.setDouble(6, random.nextInt(400) * 0.125);
            p.setBoolean(7, random.nextBoolean());
            p.setObject(8, now());
            p.setObject(
                    9,
                    LocalDateTime.now(ZoneOffset.UTC).withNano(random.nextInt(1_000_000) * 1000));
            p.setString(10, random.nextInt(4) == 0 ? null : "note " + random.nextInt(1_000_000));
            p.executeUpdate();
        }
    }

    private void updateOrder() throws SQLException {
        long id = pick(orderIds);
        try (PreparedStatement p =
                connection.prepareStatement(
                        "UPDATE "
                                + orders
                                + " SET status = ?, amount = ?, paid = ?, updated_at = ?, note = ? WHERE id = ?")) {
            p.setString(1, STATUSES[random.nextInt(STATUSES.length)]);
            p.setBigDecimal(2, money(1_000_000));
            p.setBoolean(3, random.nextBoolean());
            p.setObject(
                    4,
                    LocalDateTime.now(ZoneOffset.UTC).withNano(random.nextInt(1_000_000) * 1000));
            p.setString(5, "updated " + random.nextInt(1_000_000));
            p.setLong(6, id);
            p.executeUpdate();
        }
        changes.incrementAndGet();
    }

    private void deleteOrder() throws SQLException {
        long id = removeRandom(orderIds);
        try (PreparedStatement p =
                connection.prepareStatement("DELETE FROM " + orders + " WHERE id = ?")) {
            p.setLong(1, id);
            p.executeUpdate();
        }
        changes.incrementAndGet();
    }

    /** Delete a key and insert it again, in one transaction: the row must survive. */
    private void deleteThenReinsertOrder() throws SQLException {
        long id = pick(orderIds);
        inTransaction(
                () -> {
                    try (PreparedStatement p =
                            connection.prepareStatement(
                                    "DELETE FROM " + orders + " WHERE id = ?")) {
                        p.setLong(1, id);
                        p.executeUpdate();
                    }
                    insertOrder(id);
                });
        changes.addAndGet(2);
    }

    /** Update the primary key: the old key must disappear, the new one appear. */
    private void changeOrderKey() throws SQLException {
        int index = random.nextInt(orderIds.size());
        long oldId = orderIds.get(index);
        long newId = nextOrderId++;
        try (PreparedStatement p =
                connection.prepareStatement("UPDATE " + orders + " SET id = ? WHERE id = ?")) {
            p.setLong(1, newId);
            p.setLong(2, oldId);
            p.executeUpdate();
        }
        orderIds.set(index, newId);
        changes.incrementAndGet();
    }

    private BigDecimal money(int maxCents) {
        return BigDecimal.valueOf(random.nextInt(maxCents), 2)
                .setScale(2, RoundingMode.UNNECESSARY);
    }

    private OffsetDateTime now() {
        return Instant.now().atOffset(ZoneOffset.UTC).withNano(random.nextInt(1_000_000) * 1000);
    }

    private long pick(List<Long> ids) {
        return ids.get(random.nextInt(ids.size()));
    }

    private long removeRandom(List<Long> ids) {
        int index = random.nextInt(ids.size());
        long id = ids.get(index);
        ids.set(index, ids.get(ids.size() - 1));
        ids.remove(ids.size() - 1);
        return id;
    }
}
