package io.tidemark.demo;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.TidemarkCommitter;
import io.tidemark.testbed.ShopWorkload;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;

/**
 * What the demo does to its source beside the workload: orders that break the contract, and a
 * column added while the job runs (schema drift).
 */
final class DemoFaults {

    /** Orders the demo inserts that break the orders contract: a status outside its set. */
    static final int BAD_STATUS = 20;

    /** Orders the demo inserts that break the orders contract: a note over 100 characters. */
    static final int BAD_NOTE = 5;

    /** Keys of the bad orders start here, far from the workload's. */
    static final long BAD_FROM = 9_000_000;

    /** The column the demo adds to the orders table while the job runs (schema drift). */
    static final String DRIFT_COLUMN = "gift_wrap";

    /** Orders that get a value in the drifted column. */
    static final int DRIFT_ROWS = 100;

    private final DemoServers servers;
    private final PrintStream out;

    DemoFaults(DemoServers servers, PrintStream out) {
        this.servers = servers;
        this.out = out;
    }

    /** The view of the orders the contract admits: the ground truth of shop.orders. */
    void createAdmittedView(Connection connection) throws SQLException {
        try (Statement sql = connection.createStatement()) {
            sql.execute(
                    "CREATE VIEW "
                            + servers.admittedView()
                            + " AS SELECT * FROM "
                            + servers.ordersTable()
                            + " WHERE id < "
                            + BAD_FROM);
        }
    }

    /** Inserts the orders that break the contract, on a connection of their own. */
    void injectBadOrders() throws SQLException {
        try (Connection c = servers.sourceConnection();
                Statement sql = c.createStatement()) {
            if (servers.mysql()) {
                // no generate_series: one multi-row statement per kind
                sql.execute(badOrdersMySql(BAD_FROM, BAD_STATUS, "'lost'", "NULL"));
                sql.execute(
                        badOrdersMySql(
                                BAD_FROM + BAD_STATUS, BAD_NOTE, "'new'", "REPEAT('x', 150)"));
                return;
            }
            sql.execute(
                    "INSERT INTO public.orders SELECT "
                            + BAD_FROM
                            + " + g, 1, 'lost', 1, 1.00, NULL, false, now(), localtimestamp, NULL"
                            + " FROM generate_series(0, "
                            + (BAD_STATUS - 1)
                            + ") g");
            sql.execute(
                    "INSERT INTO public.orders SELECT "
                            + (BAD_FROM + BAD_STATUS)
                            + " + g, 1, 'new', 1, 1.00, NULL, false, now(), localtimestamp,"
                            + " repeat('x', 150) FROM generate_series(0, "
                            + (BAD_NOTE - 1)
                            + ") g");
        }
    }

    /** {@code count} bad orders from key {@code from} in one MySQL statement. */
    private String badOrdersMySql(long from, int count, String status, String note) {
        StringBuilder insert =
                new StringBuilder(
                        "INSERT INTO "
                                + servers.ordersTable()
                                + " "
                                + ShopWorkload.ORDER_COLUMNS
                                + " VALUES ");
        for (int i = 0; i < count; i++) {
            insert.append(i == 0 ? "" : ", ")
                    .append("(")
                    .append(from + i)
                    .append(", 1, ")
                    .append(status)
                    .append(", 1, 1.00, NULL, false, NOW(6), UTC_TIMESTAMP(6), ")
                    .append(note)
                    .append(")");
        }
        return insert.toString();
    }

    /**
     * Schema drift while the job runs: a column added to the orders table, set on some orders. The
     * contract's {@code schema-evolution: evolve} adds it to shop.orders without a restart; the
     * view the orders are compared with is replaced to show it too.
     */
    void injectDrift(Connection connection) throws SQLException {
        String orders = servers.ordersTable();
        String drifted =
                " SET " + DRIFT_COLUMN + " = (id % 2 = 0) WHERE id < " + BAD_FROM + " ORDER BY id";
        try (Statement sql = connection.createStatement()) {
            sql.execute("ALTER TABLE " + orders + " ADD COLUMN " + DRIFT_COLUMN + " boolean");
            sql.execute(
                    "CREATE OR REPLACE VIEW "
                            + servers.admittedView()
                            + " AS SELECT * FROM "
                            + orders
                            + " WHERE id < "
                            + BAD_FROM);
            sql.execute(
                    servers.mysql()
                            // MySQL cannot select from the table it updates; it orders and limits
                            ? "UPDATE " + orders + drifted + " LIMIT " + DRIFT_ROWS
                            : "UPDATE "
                                    + orders
                                    + " SET "
                                    + DRIFT_COLUMN
                                    + " = (id % 2 = 0) WHERE id IN (SELECT id FROM "
                                    + orders
                                    + " WHERE id < "
                                    + BAD_FROM
                                    + " ORDER BY id LIMIT "
                                    + DRIFT_ROWS
                                    + ")");
        }
        out.printf(
                "Schema drift: added column %s (boolean%s) to %s while the job runs, set on %d orders%n",
                DRIFT_COLUMN,
                servers.mysql() ? ", which MySQL keeps as tinyint(1)" : "",
                orders,
                DRIFT_ROWS);
    }

    /**
     * Whether the schema drift may happen now. A MySQL table must not change its schema before the
     * source reads the binlog: Flink CDC takes the schemas of its binlog reader from the tables as
     * they are when that reader starts, and the reader starts from before the end of the snapshot,
     * so rows written before the change would not fit them (see docs/sources.md). The binlog phase
     * has begun once a commit deleted rows (snapshot rows never delete; the workload deletes every
     * few changes) or is valid through a time (only binlog changes carry one).
     */
    boolean driftAllowed(Catalog catalog) {
        if (!servers.mysql()) {
            return true;
        }
        for (String name : List.of("customers", "orders")) {
            Table table = catalog.loadTable(TableIdentifier.of("shop", name));
            for (Snapshot snapshot : table.snapshots()) {
                Map<String, String> summary = snapshot.summary();
                String validThrough = summary.get(Provenance.VALID_THROUGH);
                String deleted = summary.get(Provenance.ROWS_DELETED);
                if (validThrough != null && !validThrough.equals(TidemarkCommitter.NO_WATERMARK)
                        || deleted != null && Long.parseLong(deleted) > 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The Iceberg type of the drifted column in shop.orders, or null while it lacks it. */
    static String driftedType(Catalog catalog) {
        Table table = catalog.loadTable(TableIdentifier.of("shop", "orders"));
        Types.NestedField field = table.schema().findField(DRIFT_COLUMN);
        return field == null ? null : field.type().toString();
    }
}
