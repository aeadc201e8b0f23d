package io.tidemark.source;

import io.debezium.connector.mysql.MySqlConnection;
import io.debezium.relational.Column;
import io.debezium.relational.Table;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.cdc.connectors.mysql.source.split.MySqlSnapshotSplit;
import org.apache.flink.cdc.connectors.mysql.source.utils.StatementUtils;
import org.apache.flink.cdc.connectors.mysql.source.utils.hooks.SnapshotPhaseHook;
import org.apache.flink.cdc.connectors.mysql.source.utils.hooks.SnapshotPhaseHooks;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Field;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives back the sign of a negative MySQL {@code TIME} under an hour that Flink CDC's snapshot
 * reader dropped. The reader parses the column's text with Debezium 1.9's {@code
 * MySqlValueConverters.stringToDuration}, which takes the sign from the hours: {@code -00:30:00}
 * becomes 30 minutes, and there is no hook around it. The binlog reader keeps the sign.
 *
 * <p>So, as a hook that runs after a chunk's rows were selected and before its high watermark
 * ({@link #hooks}), on the chunk's own connection, this asks the chunk's key range for the keys
 * whose {@code TIME} columns lie strictly between {@code -01:00:00} and {@code 00:00:00}, with
 * their exact values; then, as the chunk's rows are emitted ({@link #restore}), a row of one of
 * those keys that carries the value without its sign gets it back (and is then quarantined as any
 * negative duration is: no Iceberg time holds it). A row changed between the select and the high
 * watermark is emitted with its binlog image instead, whose sign is right: it holds a negative
 * value, or another one, and is left alone.
 *
 * <p>Keys are compared as numbers, text, binary and booleans, and dates, datetimes, timestamps and
 * times as days or microseconds since 1970 on both sides ({@link KeyForm}). The hook and the
 * emitter are copies of one object on the task manager; they meet in a map of this class, under a
 * token of the source and the chunk's split id.
 */
final class MySqlTimeSigns implements SnapshotPhaseHook {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(MySqlTimeSigns.class);

    /** What the hook found in a chunk, under the source's token and the chunk's split id. */
    private static final Map<String, Found> FOUND = new ConcurrentHashMap<>();

    private static final long HOUR_MICROS = 3_600_000_000L;

    private final String token = UUID.randomUUID().toString();

    /** The hooks of a snapshot split reader: this one before each chunk's high watermark. */
    SnapshotPhaseHooks hooks() {
        SnapshotPhaseHooks hooks = new SnapshotPhaseHooks();
        hooks.setPreHighWatermarkAction(this);
        return hooks;
    }

    @Override
    public void accept(MySqlConnection jdbc, SourceSplit split) throws SQLException {
        if (!(split instanceof MySqlSnapshotSplit chunk)
                || chunk.getTableSchemas().get(chunk.getTableId()) == null) {
            return;
        }
        Table table = chunk.getTableSchemas().get(chunk.getTableId()).getTable();
        List<String> times = new ArrayList<>();
        for (Column column : table.columns()) {
            if (column.jdbcType() == Types.TIME) {
                times.add(column.name());
            }
        }
        if (times.isEmpty()) {
            return;
        }
        List<String> keys =
                table.primaryKeyColumnNames().isEmpty()
                        ? chunk.getSplitKeyType().getFieldNames()
                        : table.primaryKeyColumnNames();
        List<KeyForm> forms = new ArrayList<>(keys.size());
        for (String key : keys) {
            forms.add(KeyForm.of(table.columnWithName(key)));
        }
        Map<List<String>, Map<String, Long>> found = new ConcurrentHashMap<>();
        boolean first = chunk.getSplitStart() == null;
        boolean last = chunk.getSplitEnd() == null;
        String sql =
                query(
                        StatementUtils.buildSplitScanQuery(
                                chunk.getTableId(), chunk.getSplitKeyType(), first, last),
                        keys,
                        forms,
                        times);
        try (PreparedStatement statement =
                        StatementUtils.readTableSplitDataStatement(
                                jdbc,
                                sql,
                                first,
                                last,
                                chunk.getSplitStart(),
                                chunk.getSplitEnd(),
                                chunk.getSplitKeyType().getFieldCount(),
                                1024);
                ResultSet rows = statement.executeQuery()) {
            while (rows.next()) {
                List<String> key = new ArrayList<>(keys.size());
                for (int i = 0; i < keys.size(); i++) {
                    Object value = forms.get(i).read(rows, i + 1);
                    if (!matchable(value)) {
                        LOG.warn(
                                "{} holds a negative TIME under an hour that Flink CDC's snapshot "
                                        + "reader reads as positive, in a row keyed by {} = {}, a "
                                        + "{} that Tidemark cannot match to the reader's row: it "
                                        + "is written as positive; `tidemark verify` reports it",
                                chunk.getTableId(),
                                keys.get(i),
                                value,
                                value.getClass().getSimpleName());
                    }
                    key.add(canonical(value));
                }
                Map<String, Long> columns = new HashMap<>();
                for (int i = 0; i < times.size(); i++) {
                    String text = rows.getString(keys.size() + 1 + i);
                    long micros = text == null ? 0 : micros(text);
                    if (micros < 0 && micros > -HOUR_MICROS) {
                        columns.put(times.get(i), micros);
                    }
                }
                found.put(key, columns);
            }
        }
        String at = token + "/" + chunk.splitId();
        if (found.isEmpty()) {
            FOUND.remove(at);
        } else {
            FOUND.put(at, new Found(List.copyOf(keys), found));
        }
    }

    /** Whether any chunk in this JVM has signs to give back (the emitter's cheap test). */
    static boolean pending() {
        return !FOUND.isEmpty();
    }

    /**
     * Gives a snapshot row of chunk {@code splitId} back the signs its {@code TIME} columns lost
     * (see the class comment); other records pass unchanged.
     */
    void restore(String splitId, SourceRecord record) {
        if (!(record.value() instanceof Struct value)) {
            return;
        }
        Found found = FOUND.get(token + "/" + splitId);
        if (found == null
                || value.schema().field("after") == null
                || !(value.get("after") instanceof Struct after)) {
            return;
        }
        List<String> key = new ArrayList<>(found.keys().size());
        for (String name : found.keys()) {
            Field field = after.schema().field(name);
            key.add(
                    field == null
                            ? null
                            : canonical(KeyForm.asRead(field.schema().name(), after.get(field))));
        }
        Map<String, Long> columns = found.rows().remove(key);
        if (columns == null) {
            return;
        }
        for (Map.Entry<String, Long> column : columns.entrySet()) {
            Field field = after.schema().field(column.getKey());
            if (field != null
                    && after.get(field) instanceof Long micros
                    && micros == -column.getValue()) {
                after.put(field, column.getValue());
            }
        }
    }

    /** Forgets what the hook found in chunk {@code splitId} (its rows were all emitted). */
    void forget(String splitId) {
        FOUND.remove(token + "/" + splitId);
    }

    /** The key columns of a chunk's rows, and the negative micros of each key's columns. */
    private record Found(List<String> keys, Map<List<String>, Map<String, Long>> rows) {}

    private static String query(
            String chunk, List<String> keys, List<KeyForm> forms, List<String> times) {
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; i < keys.size(); i++) {
            sql.append(forms.get(i).select(StatementUtils.quote(keys.get(i)))).append(", ");
        }
        List<String> conditions = new ArrayList<>();
        for (String time : times) {
            String column = StatementUtils.quote(time);
            sql.append("CAST(").append(column).append(" AS CHAR), ");
            conditions.add("(" + column + " < '00:00:00' AND " + column + " > '-01:00:00')");
        }
        sql.setLength(sql.length() - 2);
        return sql.append(" FROM (")
                .append(chunk)
                .append(") AS tidemark_chunk WHERE ")
                .append(String.join(" OR ", conditions))
                .toString();
    }

    /** MySQL's {@code TIME} text ({@code -00:30:00.5}, {@code 838:59:59}) as signed micros. */
    static long micros(String text) {
        boolean negative = text.startsWith("-");
        String[] parts = (negative ? text.substring(1) : text).split(":");
        long hours = Long.parseLong(parts[0]);
        long minutes = Long.parseLong(parts[1]);
        String[] seconds = parts[2].split("\\.");
        long micros = (hours * 3600 + minutes * 60 + Long.parseLong(seconds[0])) * 1_000_000L;
        if (seconds.length > 1) {
            String fraction = (seconds[1] + "000000").substring(0, 6);
            micros += Long.parseLong(fraction);
        }
        return negative ? -micros : micros;
    }

    private static boolean matchable(Object value) {
        return value == null
                || value instanceof Number
                || value instanceof String
                || value instanceof Boolean
                || value instanceof byte[];
    }

    /**
     * How a key column's values are selected so that they compare with the reader's row: a date as
     * days since 1970-01-01, a datetime and a timestamp as microseconds since then (a timestamp in
     * UTC, whatever the session's time zone), a time as microseconds, a year as a number; other
     * columns as the driver gives them. {@link #asRead} brings the reader's values (Debezium's
     * temporal types) to the same numbers.
     */
    enum KeyForm {
        DATE,
        DATETIME,
        TIMESTAMP,
        TIME,
        YEAR,
        PLAIN;

        static KeyForm of(Column column) {
            if (column == null) {
                return PLAIN;
            }
            if ("YEAR".equalsIgnoreCase(column.typeName())) {
                return YEAR;
            }
            return switch (column.jdbcType()) {
                case Types.DATE -> DATE;
                case Types.TIMESTAMP -> DATETIME;
                case Types.TIMESTAMP_WITH_TIMEZONE -> TIMESTAMP;
                case Types.TIME -> TIME;
                default -> PLAIN;
            };
        }

        /** The select expression of quoted column {@code column}. */
        String select(String column) {
            return switch (this) {
                case DATE -> "DATEDIFF(" + column + ", '1970-01-01')";
                case DATETIME ->
                        "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', " + column + ")";
                case TIMESTAMP -> "CAST(UNIX_TIMESTAMP(" + column + ") * 1000000 AS SIGNED)";
                case TIME -> "CAST(" + column + " AS CHAR)";
                case YEAR -> column + " + 0";
                case PLAIN -> column;
            };
        }

        /** The value of column {@code index} of {@code rows}, as {@link #select} gave it. */
        Object read(ResultSet rows, int index) throws SQLException {
            if (this == TIME) {
                String text = rows.getString(index);
                return text == null ? null : micros(text);
            }
            return rows.getObject(index);
        }

        /**
         * A key value of the reader's row as {@link #select} gives it, by Debezium's name of its
         * type ({@code schemaName}); other values as they are.
         */
        static Object asRead(String schemaName, Object value) {
            if (schemaName == null || value == null) {
                return value;
            }
            return switch (schemaName) {
                case "io.debezium.time.Timestamp", "io.debezium.time.Time" ->
                        ((Number) value).longValue() * 1000;
                case "io.debezium.time.NanoTimestamp", "io.debezium.time.NanoTime" ->
                        ((Number) value).longValue() / 1000;
                case "io.debezium.time.ZonedTimestamp" -> {
                    java.time.Instant instant = java.time.Instant.parse(value.toString());
                    yield instant.getEpochSecond() * 1_000_000 + instant.getNano() / 1000;
                }
                default -> value;
            };
        }
    }

    /** A key value as both the JDBC driver and the reader's row give it. */
    static String canonical(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Boolean bool) {
            return bool ? "1" : "0";
        }
        if (value instanceof BigDecimal || value instanceof Number) {
            return new BigDecimal(value.toString()).stripTrailingZeros().toPlainString();
        }
        if (value instanceof byte[] bytes) {
            return HexFormat.of().formatHex(bytes);
        }
        if (value instanceof ByteBuffer buffer) {
            ByteBuffer copy = buffer.duplicate();
            byte[] bytes = new byte[copy.remaining()];
            copy.get(bytes);
            return HexFormat.of().formatHex(bytes);
        }
        return value.toString();
    }
}
