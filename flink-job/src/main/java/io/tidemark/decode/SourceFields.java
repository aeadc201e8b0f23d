package io.tidemark.decode;

import java.util.Map;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;

/**
 * What a Debezium record's {@code source} block says of a change: its table, its place in the
 * source's log (a Postgres LSN and transaction, a MySQL binlog file and position) and its time.
 */
final class SourceFields {

    private SourceFields() {}

    /** {@code schema.table} (Postgres), or {@code database.table} (MySQL, MariaDB: no schemas). */
    static String tableName(Struct source) {
        String namespace =
                source.schema().field("schema") != null
                        ? source.getString("schema")
                        : source.getString("db");
        return namespace + "." + source.getString("table");
    }

    static SourcePosition position(Struct source) {
        if (source.schema().field("file") != null && source.schema().field("pos") != null) {
            // MySQL / MariaDB: the binlog file, the rows event's position, the row in the event
            String file = source.getString("file");
            long pos = longField(source, "pos");
            if (file == null || file.isEmpty() || pos == SourcePosition.UNKNOWN) {
                return SourcePosition.NONE;
            }
            long row = longField(source, "row");
            return BinlogPosition.of(file, pos, row == SourcePosition.UNKNOWN ? 0 : (int) row);
        }
        long changeLsn = longField(source, "lsn");
        long txId = longField(source, "txId");
        long commitLsn = SourcePosition.UNKNOWN;
        if (source.schema().field("sequence") != null) {
            String sequence = source.getString("sequence");
            if (sequence != null) {
                commitLsn = firstOfSequence(sequence);
            }
        }
        return new SourcePosition(commitLsn, changeLsn, txId);
    }

    /**
     * {@code position} of a binlog change with its transaction: the binlog place of the
     * transaction's first event, which Debezium keeps in the record's offset ({@code file}, {@code
     * pos}: where a restart reads the transaction again) for every change of it. A Postgres
     * position (its transaction id known) or one without such an offset is returned as it is.
     */
    static SourcePosition binlogTransaction(SourcePosition position, Map<String, ?> offset) {
        if (position.txId() != SourcePosition.UNKNOWN
                || position.commitLsn() < 0
                || offset == null
                || !(offset.get("file") instanceof String file)
                || file.isEmpty()
                || !(offset.get("pos") instanceof Number pos)
                || pos.longValue() < 0
                || pos.longValue() > 0xFFFF_FFFFL) {
            return position;
        }
        return new SourcePosition(
                position.commitLsn(),
                position.changeLsn(),
                BinlogPosition.place(file, pos.longValue()));
    }

    /** Parses the first element of Debezium's {@code ["<commit lsn>","<lsn>"]}, or UNKNOWN. */
    static long firstOfSequence(String sequence) {
        String body = sequence.trim();
        if (body.startsWith("[")) {
            body = body.substring(1);
        }
        int comma = body.indexOf(',');
        String first = (comma < 0 ? body.replace("]", "") : body.substring(0, comma)).trim();
        first = first.replace("\"", "");
        if (first.isEmpty() || first.equals("null")) {
            return SourcePosition.UNKNOWN;
        }
        return Long.parseLong(first);
    }

    static long longField(Struct struct, String name) {
        if (struct.schema().field(name) == null) {
            return SourcePosition.UNKNOWN;
        }
        Object v = struct.get(name);
        return v == null ? SourcePosition.UNKNOWN : ((Number) v).longValue();
    }

    static long sourceTime(Struct source, Struct value) {
        Long ts = source.schema().field("ts_ms") == null ? null : source.getInt64("ts_ms");
        if (ts == null && value.schema().field("ts_ms") != null) {
            ts = value.getInt64("ts_ms");
        }
        return ts == null ? 0L : ts;
    }
}
