package io.tidemark.decode;

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

    @Override
    public String toString() {
        return text;
    }
}
