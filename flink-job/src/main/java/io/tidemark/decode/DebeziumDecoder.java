package io.tidemark.decode;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Field;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns a Debezium change record into a {@link ChangeEvent}. A plain class: no Flink types.
 *
 * <ul>
 *   <li>Operations: {@code r} snapshot read, {@code c} insert, {@code u} update, {@code d} delete.
 *       Records without a value (Debezium tombstones) decode to nothing.
 *   <li>Values: Debezium's logical types become canonical Java types ({@code Decimal} and {@code
 *       VariableScaleDecimal} to BigDecimal, {@code Date} to LocalDate, {@code MicroTime}/{@code
 *       Time}/{@code NanoTime} to LocalTime, {@code MicroTimestamp}/{@code Timestamp}/{@code
 *       NanoTimestamp} to LocalDateTime, {@code ZonedTimestamp} to Instant; {@code Json}, {@code
 *       Uuid}, {@code Enum}, {@code Xml} stay strings). Any other structured type fails with a
 *       message naming the table and column.
 *   <li>Key: the values of the table's declared primary key columns, taken from the image the
 *       change applies to.
 * </ul>
 */
public final class DebeziumDecoder implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The pipeline's id of the source database. */
    private final String source;

    /** Source table ({@code schema.table}) to its primary key columns, in key order. */
    private final Map<String, List<String>> primaryKeys;

    public DebeziumDecoder(Map<String, List<String>> primaryKeys) {
        this(ChangeEvent.DEFAULT_SOURCE, primaryKeys);
    }

    /**
     * Tables created while the job runs that a pattern captures: their key columns are the fields
     * of the record's key (Debezium's key holds the table's primary key, in key order).
     */
    private final CapturedTables live;

    public DebeziumDecoder(String source, Map<String, List<String>> primaryKeys) {
        this(source, primaryKeys, CapturedTables.NONE);
    }

    /** How binlog changes are placed (MySQL sources; Postgres changes ignore it). */
    private final BinlogOrder binlogOrder;

    /** The GTID set of the transaction being decoded, parsed once (GTID order only). */
    private transient GtidPosition.Positions gtidPositions;

    public DebeziumDecoder(
            String source, Map<String, List<String>> primaryKeys, CapturedTables live) {
        this(source, primaryKeys, live, BinlogOrder.BINLOG_POSITION);
    }

    public DebeziumDecoder(
            String source,
            Map<String, List<String>> primaryKeys,
            CapturedTables live,
            BinlogOrder binlogOrder) {
        this.source = source;
        this.primaryKeys = Map.copyOf(primaryKeys);
        this.live = live;
        this.binlogOrder = binlogOrder;
    }

    /** A change names a table the pipeline does not capture. */
    static final class UnknownTableException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UnknownTableException(String message) {
            super(message);
        }
    }

    /**
     * Decodes one record, or returns null for a record that carries no change (a tombstone, a
     * heartbeat). A record that cannot be decoded, or that is for a table the pipeline does not
     * capture, or that the source sent without a value it holds, becomes a {@link
     * Operation#MALFORMED} change (reason {@code CORRUPT_ENVELOPE}, {@code UNKNOWN_TABLE} or {@code
     * UNAVAILABLE_VALUE}) that the contract gate quarantines: never a failure of the job, never
     * dropped.
     */
    public ChangeEvent decode(SourceRecord record) {
        if (!(record.value() instanceof Struct)) {
            return null;
        }
        Struct value = (Struct) record.value();
        if (value.schema().field("op") == null && value.schema().field("source") == null) {
            return null;
        }
        if (value.schema().field("op") == null
                && (value.schema().field("ddl") != null
                        || value.schema().field(BinlogDdl.HISTORY_RECORD) != null)) {
            // a binlog DDL statement (the MySQL source reads them): only a truncate is a change
            return binlogTruncate(record, value);
        }
        try {
            return decodeChange(record, value);
        } catch (RuntimeException e) {
            // IllegalArgumentException from here, DataException or ClassCastException from a
            // record whose structs do not have the fields or types of a Debezium envelope
            return malformed(
                    record,
                    value,
                    e instanceof UnknownTableException
                            ? "UNKNOWN_TABLE"
                            : e instanceof ImageChecks.UnavailableValueException
                                    ? "UNAVAILABLE_VALUE"
                                    : e instanceof ValueConversion.NotRepresentableException
                                            ? "NOT_REPRESENTABLE"
                                            : "CORRUPT_ENVELOPE",
                    e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private ChangeEvent malformed(SourceRecord record, Struct value, String reason, String detail) {
        String table = "unknown";
        SourcePosition position =
                new SourcePosition(
                        SourcePosition.UNKNOWN, SourcePosition.UNKNOWN, SourcePosition.UNKNOWN);
        long time = 0L;
        try {
            Struct source = value.getStruct("source");
            table = SourceFields.tableName(source);
            position = SourceFields.position(source);
            time = SourceFields.sourceTime(source, value);
        } catch (RuntimeException e) {
            // what is left of the envelope is in the payload
        }
        return ChangeEvent.malformed(
                this.source,
                table,
                reason,
                detail,
                value.toString(),
                position,
                time,
                recordKey(record, table));
    }

    /** The primary key values in {@code record}'s key, or none if they cannot be read. */
    private static List<Object> recordKey(SourceRecord record, String table) {
        if (!(record.key() instanceof Struct key)) {
            return List.of();
        }
        try {
            List<Object> values = new ArrayList<>();
            for (Field field : key.schema().fields()) {
                values.add(
                        ValueConversion.convert(
                                key.get(field), field.schema(), table, field.name()));
            }
            return values;
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    private ChangeEvent decodeChange(SourceRecord record, Struct value) {
        if (value.schema().field("op") == null || value.schema().field("source") == null) {
            throw new IllegalArgumentException(
                    "a change envelope without "
                            + (value.schema().field("op") == null ? "'op'" : "'source'"));
        }
        Struct source = value.getStruct("source");
        String table = SourceFields.tableName(source);
        List<String> keyColumns = primaryKeys.get(table);
        if (keyColumns == null && live.captures(table)) {
            keyColumns = recordKeyColumns(record, table);
        }
        if (keyColumns == null) {
            throw new UnknownTableException(
                    String.format(
                            "change for table '%s', which is not in the pipeline's tables %s",
                            table, primaryKeys.keySet()));
        }
        String op = value.getString("op");
        if (op == null) {
            throw new IllegalArgumentException("a change for table '" + table + "' without 'op'");
        }
        Operation operation = operation(op, table);
        if (operation == Operation.TRUNCATE) {
            return truncate(record, source, value, table);
        }
        Map<String, Object> before = image(value, "before", table);
        Map<String, Object> after = image(value, "after", table);
        if (operation == Operation.READ && after != null && isMySql(source)) {
            ImageChecks.refuseCalendarGap(table, after, value.getStruct("after").schema());
        }
        if (operation == Operation.UPDATE && after != null) {
            ImageChecks.resolveUnavailable(table, before, after);
        }
        Map<String, Object> keyImage = operation == Operation.DELETE ? before : after;
        if (keyImage == null) {
            throw new IllegalArgumentException(
                    String.format(
                            "%s change for table '%s' has no %s image",
                            operation, table, operation == Operation.DELETE ? "before" : "after"));
        }
        List<Object> key = new ArrayList<>(keyColumns.size());
        for (String column : keyColumns) {
            if (!keyImage.containsKey(column)) {
                throw new IllegalArgumentException(
                        String.format(
                                "%s change for table '%s' lacks primary key column '%s' "
                                        + "(for deletes set REPLICA IDENTITY FULL or make it the table's key)",
                                operation, table, column));
            }
            key.add(keyImage.get(column));
        }
        return new ChangeEvent(
                this.source,
                table,
                operation,
                key,
                before,
                after,
                operation == Operation.READ
                        ? SourceFields.position(source)
                        : logPosition(record, source, table),
                SourceFields.sourceTime(source, value));
    }

    /**
     * Header the Postgres source puts on a {@code TRUNCATE} it read while the table's snapshot was
     * still being read: some of the table's chunks were read before it and some after, so emptying
     * the whole table would lose rows read after it (see {@code PostgresHandOverContext}).
     */
    public static final String TRUNCATE_DURING_SNAPSHOT = "tidemark.truncate-during-snapshot";

    /** See {@link BinlogDdl#truncatedTable}. */
    public static String binlogTruncatedTable(Struct value) {
        return BinlogDdl.truncatedTable(value);
    }

    /**
     * A binlog {@code TRUNCATE TABLE} of a captured table, as its table's {@link
     * Operation#TRUNCATE} at the statement's binlog position (marked if it came while the table's
     * snapshot was being read, see {@code MySqlEmitter}); a record without a position to place it
     * at is quarantined. Other statements carry no change: null.
     */
    private ChangeEvent binlogTruncate(SourceRecord record, Struct value) {
        String table = BinlogDdl.truncatedTable(value);
        if (table == null || (!primaryKeys.containsKey(table) && !live.captures(table))) {
            return null;
        }
        Struct source = value.schema().field("source") == null ? null : value.getStruct("source");
        SourcePosition position = null;
        String unplaced = null;
        if (source == null) {
            unplaced = "the statement's record carries no binlog position";
        } else {
            try {
                position = logPosition(record, source, table);
            } catch (IllegalArgumentException e) {
                unplaced = e.getMessage();
            }
            if (position != null && position.commitLsn() == SourcePosition.UNKNOWN) {
                unplaced = "the statement's record carries no binlog position";
            }
        }
        if (unplaced != null) {
            return ChangeEvent.malformed(
                    this.source,
                    table,
                    "TRUNCATE",
                    "TRUNCATE TABLE not applied, the target keeps its rows: "
                            + unplaced
                            + ". Start the pipeline afresh (run --fresh) to drop them",
                    BinlogDdl.statement(value),
                    position == null ? SourcePosition.NONE : position,
                    source == null ? 0L : SourceFields.sourceTime(source, value));
        }
        return ChangeEvent.truncate(
                this.source,
                table,
                position,
                SourceFields.sourceTime(source, value),
                duringSnapshot(record));
    }

    /** The reader's {@link #TRUNCATE_DURING_SNAPSHOT} mark on {@code record}, or null. */
    private static String duringSnapshot(SourceRecord record) {
        org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.header.Header mark =
                record.headers() == null
                        ? null
                        : record.headers().lastWithName(TRUNCATE_DURING_SNAPSHOT);
        return mark == null ? null : String.valueOf(mark.value());
    }

    private ChangeEvent truncate(SourceRecord record, Struct source, Struct value, String table) {
        return ChangeEvent.truncate(
                this.source,
                table,
                logPosition(record, source, table),
                SourceFields.sourceTime(source, value),
                duringSnapshot(record));
    }

    /**
     * Where a change read from the log stands: by GTID ({@link #gtidPosition}) when the source
     * orders so, else its LSN and transaction (Postgres) or binlog place, with its transaction's
     * first event as its transaction ({@link SourceFields#binlogTransaction}).
     */
    private SourcePosition logPosition(SourceRecord record, Struct source, String table) {
        if (binlogOrder == BinlogOrder.GTID) {
            return gtidPosition(record, source, table);
        }
        return SourceFields.binlogTransaction(SourceFields.position(source), record.sourceOffset());
    }

    /**
     * A binlog change's {@link GtidPosition}: its transaction's GTID ({@code source.gtid}), the
     * GTID set consumed before it and the event within the transaction (the record's offset: {@code
     * gtids}, {@code event}), the row within the event ({@code source.row}).
     */
    private SourcePosition gtidPosition(SourceRecord record, Struct source, String table) {
        String gtid = source.schema().field("gtid") == null ? null : source.getString("gtid");
        if (gtid == null || gtid.isBlank()) {
            throw new IllegalArgumentException(
                    String.format(
                            "binlog change for table '%s' at %s:%s has no GTID, and the source orders by "
                                    + "GTID: the server's gtid_mode is no longer ON. Turn it back on, or set "
                                    + "'source.binlog-order: binlog-position' and start the pipeline afresh",
                            table, source.get("file"), source.get("pos")));
        }
        Map<String, ?> offset = record.sourceOffset();
        Object consumed = offset == null ? null : offset.get("gtids");
        Object event = offset == null ? null : offset.get("event");
        long row = SourceFields.longField(source, "row");
        if (gtidPositions == null) {
            gtidPositions = new GtidPosition.Positions();
        }
        return gtidPositions.of(
                consumed == null ? null : consumed.toString(),
                gtid,
                event == null ? 0L : ((Number) event).longValue(),
                row == SourcePosition.UNKNOWN ? 0 : (int) row);
    }

    /** See {@link ImageChecks#UNAVAILABLE}. */
    public static final String UNAVAILABLE = ImageChecks.UNAVAILABLE;

    /** See {@link ValueConversion#NUMERIC_TEXT}. */
    public static final String NUMERIC_TEXT = ValueConversion.NUMERIC_TEXT;

    /** The primary key columns of a table created while the job runs, from the record's key. */
    private static List<String> recordKeyColumns(SourceRecord record, String table) {
        if (!(record.key() instanceof Struct)) {
            throw new UnknownTableException(
                    String.format(
                            "table '%s', created while the job runs, has no primary key, so it is not "
                                    + "replicated: its changes are kept here; to replicate it, re-create it with a "
                                    + "primary key (adding one later captures only the changes after that)",
                            table));
        }
        List<String> columns = new ArrayList<>();
        for (Field field : ((Struct) record.key()).schema().fields()) {
            columns.add(field.name());
        }
        return columns;
    }

    private static boolean isMySql(Struct source) {
        return source.schema().field("connector") != null
                && "mysql".equals(source.getString("connector"));
    }

    private static Operation operation(String op, String table) {
        switch (op) {
            case "r":
                return Operation.READ;
            case "c":
                return Operation.INSERT;
            case "u":
                return Operation.UPDATE;
            case "d":
                return Operation.DELETE;
            case "t":
                return Operation.TRUNCATE;
            default:
                throw new IllegalArgumentException(
                        String.format("unknown operation '%s' for table '%s'", op, table));
        }
    }

    private static Map<String, Object> image(Struct value, String name, String table) {
        if (value.schema().field(name) == null) {
            return null;
        }
        Struct row = value.getStruct(name);
        if (row == null) {
            return null;
        }
        Map<String, Object> image = new LinkedHashMap<>();
        for (Field field : row.schema().fields()) {
            Object converted;
            try {
                converted =
                        ValueConversion.convert(
                                row.get(field), field.schema(), table, field.name());
            } catch (ValueConversion.NotRepresentableException e) {
                if (!name.equals("before")) {
                    throw e;
                }
                // the old row's value is not written: an update away from infinity, or a delete
                // of a row that held it, still applies
                converted = null;
            }
            image.put(field.name(), converted);
        }
        return image;
    }
}
