package io.tidemark.decode;

import java.util.Locale;

/**
 * Which commit order a MySQL source's changes are placed in: by binlog position ({@link
 * BinlogPosition}, one server's order) or by GTID ({@link GtidPosition}, the order across a
 * failover to a replica). {@code source.binlog-order} chooses; {@code auto} resolves against the
 * server when the job is built.
 */
public enum BinlogOrder {
    BINLOG_POSITION("binlog-position"),
    GTID("gtid");

    private final String text;

    BinlogOrder(String text) {
        this.text = text;
    }

    /** {@code binlog-position} or {@code gtid}. */
    public String text() {
        return text;
    }

    /** Parses {@code binlog-position} or {@code gtid}. */
    public static BinlogOrder parse(String text) {
        for (BinlogOrder order : values()) {
            if (order.text.equals(text.toLowerCase(Locale.ROOT))) {
                return order;
            }
        }
        throw new IllegalArgumentException(
                "expected 'binlog-position' or 'gtid', got '" + text + "'");
    }

    @Override
    public String toString() {
        return text;
    }
}
