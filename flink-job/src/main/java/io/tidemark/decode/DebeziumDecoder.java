package io.tidemark.decode;

import io.tidemark.catalog.SqlNames;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
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
                        || value.schema().field(HISTORY_RECORD) != null)) {
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
                            : e instanceof UnavailableValueException
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
            table = tableName(source);
            position = position(source);
            time = sourceTime(source, value);
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
        String table = tableName(source);
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
            refuseCalendarGap(table, after, value.getStruct("after").schema());
        }
        if (operation == Operation.UPDATE && after != null) {
            resolveUnavailable(table, before, after);
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
                operation == Operation.READ || binlogOrder != BinlogOrder.GTID
                        ? position(source)
                        : gtidPosition(record, source, table),
                sourceTime(source, value));
    }

    /**
     * Header the Postgres source puts on a {@code TRUNCATE} it read while the table's snapshot was
     * still being read: some of the table's chunks were read before it and some after, so emptying
     * the whole table would lose rows read after it (see {@code PostgresHandOverContext}).
     */
    public static final String TRUNCATE_DURING_SNAPSHOT = "tidemark.truncate-during-snapshot";

    /** {@code TRUNCATE [TABLE] [db.]name} (quotes allowed). */
    private static final java.util.regex.Pattern TRUNCATE_DDL =
            java.util.regex.Pattern.compile(
                    "(?is)\\s*TRUNCATE\\s+(?:TABLE\\s+)?(`[^`]+`|[^\\s.;`]+)(?:\\.(`[^`]+`|[^\\s;`]+))?\\s*;?\\s*");

    /** Flink CDC's MySQL schema change record: Debezium's history record as JSON. */
    private static final String HISTORY_RECORD = "historyRecord";

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /** The statement of a DDL record: its {@code ddl}, or its history record's. */
    private static String ddlOf(Struct value) {
        if (value.schema().field("ddl") != null && value.getString("ddl") != null) {
            return value.getString("ddl");
        }
        String history = value.getString(HISTORY_RECORD);
        if (history == null) {
            return null;
        }
        try {
            com.fasterxml.jackson.databind.JsonNode node = JSON.readTree(history);
            return node.path("ddl").isTextual() ? node.path("ddl").asText() : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** The database a DDL record's statement ran in. */
    private static String databaseOf(Struct value) {
        if (value.schema().field("databaseName") != null
                && value.getString("databaseName") != null) {
            return value.getString("databaseName");
        }
        if (value.schema().field(HISTORY_RECORD) == null) {
            return null;
        }
        try {
            return JSON.readTree(value.getString(HISTORY_RECORD)).path("databaseName").asText(null);
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The table ({@code database.table}) a binlog DDL record truncates, or null when its statement
     * is not a {@code TRUNCATE [TABLE]}.
     */
    public static String binlogTruncatedTable(Struct value) {
        String ddl = ddlOf(value);
        java.util.regex.Matcher m = ddl == null ? null : TRUNCATE_DDL.matcher(ddl);
        if (m == null || !m.matches()) {
            return null;
        }
        String first = unquote(m.group(1));
        return m.group(2) == null
                ? databaseOf(value) + "." + first
                : first + "." + unquote(m.group(2));
    }

    /**
     * A binlog {@code TRUNCATE TABLE} of a captured table, as its table's {@link
     * Operation#TRUNCATE} at the statement's binlog position (marked if it came while the table's
     * snapshot was being read, see {@code MySqlTruncateEmitter}); a record without a position to
     * place it at is quarantined. Other statements carry no change: null.
     */
    private ChangeEvent binlogTruncate(SourceRecord record, Struct value) {
        String table = binlogTruncatedTable(value);
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
                position =
                        binlogOrder != BinlogOrder.GTID
                                ? position(source)
                                : gtidPosition(record, source, table);
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
                    ddlOf(value),
                    position == null ? SourcePosition.NONE : position,
                    source == null ? 0L : sourceTime(source, value));
        }
        return ChangeEvent.truncate(
                this.source, table, position, sourceTime(source, value), duringSnapshot(record));
    }

    /** The reader's {@link #TRUNCATE_DURING_SNAPSHOT} mark on {@code record}, or null. */
    private static String duringSnapshot(SourceRecord record) {
        org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.header.Header mark =
                record.headers() == null
                        ? null
                        : record.headers().lastWithName(TRUNCATE_DURING_SNAPSHOT);
        return mark == null ? null : String.valueOf(mark.value());
    }

    private static String unquote(String name) {
        return name.startsWith("`") ? name.substring(1, name.length() - 1) : name;
    }

    private ChangeEvent truncate(SourceRecord record, Struct source, Struct value, String table) {
        return ChangeEvent.truncate(
                this.source,
                table,
                binlogOrder != BinlogOrder.GTID
                        ? position(source)
                        : gtidPosition(record, source, table),
                sourceTime(source, value),
                duringSnapshot(record));
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
        long row = longField(source, "row");
        if (gtidPositions == null) {
            gtidPositions = new GtidPosition.Positions();
        }
        return gtidPositions.of(
                consumed == null ? null : consumed.toString(),
                gtid,
                event == null ? 0L : ((Number) event).longValue(),
                row == SourcePosition.UNKNOWN ? 0 : (int) row);
    }

    /**
     * Debezium's stand-in for a value the source did not send: Postgres leaves an unchanged value
     * stored out of line (TOAST) out of an UPDATE unless the table's replica identity holds it.
     * Tidemark sets it ({@code unavailable.value.placeholder}) so that it knows it.
     */
    public static final String UNAVAILABLE = "__debezium_unavailable_value";

    /** See {@link ValueConversion#NUMERIC_TEXT}. */
    public static final String NUMERIC_TEXT = ValueConversion.NUMERIC_TEXT;

    private static final byte[] UNAVAILABLE_BYTES = UNAVAILABLE.getBytes(StandardCharsets.UTF_8);

    static final class UnavailableValueException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        UnavailableValueException(String message) {
            super(message);
        }
    }

    /**
     * Replaces every unavailable value of an UPDATE's new image by the column's old value, which is
     * the same value (the UPDATE left it unchanged), when the old image holds it (REPLICA IDENTITY
     * FULL). A value still unavailable fails the change: a stand-in must never reach a table. An
     * old value that is null means the old image does not hold the column (an unchanged TOAST value
     * is never null).
     */
    private static void resolveUnavailable(
            String table, Map<String, Object> before, Map<String, Object> after) {
        List<String> missing = null;
        for (Map.Entry<String, Object> column : after.entrySet()) {
            if (!isUnavailable(column.getValue())) {
                continue;
            }
            Object old = before == null ? null : before.get(column.getKey());
            if (old != null && !isUnavailable(old)) {
                column.setValue(old);
            } else {
                if (missing == null) {
                    missing = new ArrayList<>();
                }
                missing.add(column.getKey());
            }
        }
        if (missing != null) {
            throw new UnavailableValueException(
                    String.format(
                            "an UPDATE of table '%s' left column(s) %s unchanged and the source did not "
                                    + "send their values (Postgres stores them out of line, TOAST, and the "
                                    + "table's replica identity does not hold them). Run ALTER TABLE %s "
                                    + "REPLICA IDENTITY FULL so that updates carry every value, then "
                                    + "re-snapshot the table to repair the rows these changes left behind",
                            table, missing, SqlNames.forStatement(table)));
        }
    }

    private static boolean isUnavailable(Object value) {
        return UNAVAILABLE.equals(value)
                || (value instanceof byte[] && Arrays.equals((byte[]) value, UNAVAILABLE_BYTES));
    }

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

    /** The first day of the Gregorian calendar, where Java's hybrid calendar switches. */
    static final LocalDateTime GREGORIAN_START = LocalDateTime.of(1582, 10, 15, 0, 0);

    /** The end of the ten days after {@link #GREGORIAN_START} a moved snapshot value lands in. */
    private static final LocalDateTime MOVED_UNTIL = GREGORIAN_START.plusDays(10);

    /**
     * Flink CDC's MySQL snapshot reads a {@code DATETIME} through {@code ResultSet.getTimestamp}, a
     * {@code java.sql.Timestamp} in Java's hybrid calendar, which has no 1582-10-05 to 1582-10-14
     * (the Julian calendar ends on 10-04, the Gregorian starts on 10-15): the driver moves a value
     * in those ten days ten days on ({@code 1582-10-10 12:00} arrived as {@code 1582-10-20 12:00};
     * every other value arrives as it is). A snapshot value from 1582-10-15 to 1582-10-24 therefore
     * cannot be told from a moved one: it is quarantined, never written as a guess. The binlog path
     * carries either exactly.
     */
    static void refuseCalendarGap(
            String table,
            Map<String, Object> image,
            org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Schema schema) {
        for (Field field : schema.fields()) {
            // the value first: per snapshot row, and almost never in those ten days
            if (!(image.get(field.name()) instanceof LocalDateTime read)
                    || read.isBefore(GREGORIAN_START)
                    || !read.isBefore(MOVED_UNTIL)) {
                continue;
            }
            String logical = field.schema().name();
            if ("io.debezium.time.Timestamp".equals(logical)
                    || "io.debezium.time.MicroTimestamp".equals(logical)
                    || "io.debezium.time.NanoTimestamp".equals(logical)) {
                throw new ValueConversion.NotRepresentableException(
                        String.format(
                                "table '%s' column '%s': the snapshot read DATETIME %s, which is "
                                        + "either that or the value ten days earlier (Flink CDC's "
                                        + "MySQL snapshot reads a DATETIME through java.sql.Timestamp, "
                                        + "whose calendar has no 1582-10-05 to 1582-10-14): the row is "
                                        + "quarantined; update it in the source so that the binlog "
                                        + "carries its value",
                                table, field.name(), read));
            }
        }
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

    private static long longField(Struct struct, String name) {
        if (struct.schema().field(name) == null) {
            return SourcePosition.UNKNOWN;
        }
        Object v = struct.get(name);
        return v == null ? SourcePosition.UNKNOWN : ((Number) v).longValue();
    }

    private static long sourceTime(Struct source, Struct value) {
        Long ts = source.schema().field("ts_ms") == null ? null : source.getInt64("ts_ms");
        if (ts == null && value.schema().field("ts_ms") != null) {
            ts = value.getInt64("ts_ms");
        }
        return ts == null ? 0L : ts;
    }
}
