package io.tidemark.decode;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.Month;
import java.time.OffsetDateTime;
import java.time.Year;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Schema;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;

/**
 * One column value of a Debezium record to its canonical Java type (see {@link ChangeEvent}): by
 * its logical type (decimals, dates, times, timestamps, zoned timestamps, a Postgres numeric as
 * text), else by its physical type. A value no Iceberg type can hold (Postgres' infinities, a
 * numeric NaN, a time outside a day) fails with {@link NotRepresentableException}, which the
 * decoder turns into a quarantined change. A plain class.
 */
final class ValueConversion {

    private static final DateTimeFormatter ZONED = DateTimeFormatter.ISO_OFFSET_DATE_TIME;

    private ValueConversion() {}

    /** A source value with no equal in its Iceberg type: quarantined, never written. */
    static final class NotRepresentableException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        NotRepresentableException(String table, String column, String value) {
            this(table, column, value, "date or timestamp");
        }

        NotRepresentableException(String message) {
            super(message);
        }

        NotRepresentableException(String table, String column, String value, String type) {
            super(
                    String.format(
                            "table '%s' column '%s' holds %s, which no Iceberg %s can hold: the "
                                    + "change is quarantined; store a finite value (or null) in the "
                                    + "source if the target must have the row",
                            table, column, value, type));
        }
    }

    /**
     * What Debezium makes of Postgres' {@code infinity} and {@code -infinity}, on the snapshot and
     * the log alike (both parse the value's text, see {@code PostgresTemporalText}): dates become
     * these epoch days (no Postgres date is that far: its range starts in 4713 BC), timestamps the
     * JDBC driver's infinity constants as microseconds (or milliseconds), zoned timestamps the
     * word.
     */
    /**
     * The logical name of a Postgres numeric sent as its text (Tidemark's Debezium converter,
     * {@code io.tidemark.source.NumericTextConverter}, names its values so).
     */
    public static final String NUMERIC_TEXT = "io.tidemark.NumericText";

    private static final long DATE_INFINITY = -2_147_472_692L;

    private static final long DATE_MINUS_INFINITY = -2_147_472_691L;
    private static final long MICROS_INFINITY = 9_223_372_036_825_200_000L;
    private static final long MICROS_MINUS_INFINITY = -9_223_372_036_832_400_000L;

    private static String infinity(String logical, long value) {
        boolean date = logical.equals("io.debezium.time.Date");
        boolean millis = logical.equals("io.debezium.time.Timestamp");
        long plus = date ? DATE_INFINITY : millis ? MICROS_INFINITY / 1_000 : MICROS_INFINITY;
        long minus =
                date
                        ? DATE_MINUS_INFINITY
                        : millis ? MICROS_MINUS_INFINITY / 1_000 : MICROS_MINUS_INFINITY;
        return value == plus ? "'infinity'" : value == minus ? "'-infinity'" : null;
    }

    /** What {@link #logical} returns for a type it does not know: the physical type decides. */
    private static final Object NOT_LOGICAL = new Object();

    /** Converts one column value to its canonical Java type (see the class comment). */
    static Object convert(Object value, Schema schema, String table, String column) {
        if (value == null) {
            return null;
        }
        String logical = schema.name();
        if (logical != null) {
            Object converted = logical(value, logical, table, column);
            if (converted != NOT_LOGICAL) {
                return converted;
            }
        }
        return physical(value, schema, logical, table, column);
    }

    /** A value of a logical (named) type, or {@link #NOT_LOGICAL}. */
    private static Object logical(Object value, String logical, String table, String column) {
        switch (logical) {
            case "org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Decimal":
                return value;
            case "io.debezium.data.VariableScaleDecimal":
                {
                    Struct s = (Struct) value;
                    return new BigDecimal(
                            new BigInteger(bytes(s.get("value"))), s.getInt32("scale"));
                }
            case "io.debezium.time.Date":
                {
                    long day = ((Number) value).longValue();
                    String infinite = infinity(logical, day);
                    if (infinite != null) {
                        throw new NotRepresentableException(table, column, infinite);
                    }
                    return LocalDate.ofEpochDay(day);
                }
            case "org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Date":
                return LocalDate.ofEpochDay(
                        Math.floorDiv(((java.util.Date) value).getTime(), 86_400_000L));
            case "io.debezium.time.Time":
                return timeOfDay(((Number) value).longValue() * 1_000_000L, table, column);
            case "io.debezium.time.MicroTime":
                return timeOfDay(((Number) value).longValue() * 1_000L, table, column);
            case "io.debezium.time.NanoTime":
                return timeOfDay(((Number) value).longValue(), table, column);
            case "org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Time":
                return LocalTime.ofNanoOfDay(((java.util.Date) value).getTime() * 1_000_000L);
            case "io.debezium.time.Timestamp":
            case "io.debezium.time.MicroTimestamp":
                {
                    long stamp = ((Number) value).longValue();
                    String infinite = infinity(logical, stamp);
                    if (infinite != null) {
                        throw new NotRepresentableException(table, column, infinite);
                    }
                    return micros(
                            logical.equals("io.debezium.time.Timestamp") ? stamp * 1_000L : stamp);
                }
            case "io.debezium.time.NanoTimestamp":
                {
                    long nanos = ((Number) value).longValue();
                    return LocalDateTime.ofEpochSecond(
                            Math.floorDiv(nanos, 1_000_000_000L),
                            (int) Math.floorMod(nanos, 1_000_000_000L),
                            ZoneOffset.UTC);
                }
            case "org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Timestamp":
                return micros(((java.util.Date) value).getTime() * 1_000L);
            case NUMERIC_TEXT:
                {
                    String text = (String) value;
                    if (text.equals("NaN") || text.equals("Infinity") || text.equals("-Infinity")) {
                        throw new NotRepresentableException(
                                table, column, "'" + text + "'", "decimal");
                    }
                    return new BigDecimal(text);
                }
            case "io.debezium.time.ZonedTimestamp":
                if ("infinity".equals(value) || "-infinity".equals(value)) {
                    throw new NotRepresentableException(table, column, "'" + value + "'");
                }
                return zonedTimestamp((String) value);
            default:
                return NOT_LOGICAL;
        }
    }

    /** A value by its physical type; one the replica cannot hold fails naming the column. */
    private static Object physical(
            Object value, Schema schema, String logical, String table, String column) {
        switch (schema.type()) {
            case BOOLEAN:
            case INT32:
            case INT64:
            case FLOAT32:
            case FLOAT64:
            case STRING:
                return value;
            case INT8:
            case INT16:
                if (isTinyInt1(schema)) {
                    return tinyInt1(((Number) value).intValue(), table, column);
                }
                return ((Number) value).intValue();
            case BYTES:
                return bytes(value);
            default:
                throw new IllegalArgumentException(
                        String.format(
                                "table '%s' column '%s': unsupported source type %s%s; "
                                        + "exclude the column or cast it in a view",
                                table,
                                column,
                                schema.type(),
                                logical == null ? "" : " (" + logical + ")"));
        }
    }

    /**
     * Debezium's parameters naming a column's source type ({@code column.propagate.source.type}).
     */
    static final String SOURCE_TYPE = "__debezium.source.column.type";

    static final String SOURCE_LENGTH = "__debezium.source.column.length";

    /**
     * Whether {@code schema} is a MySQL {@code tinyint(1)} read as a boolean: the MySQL source
     * propagates its columns' source types only under {@code
     * source.treat-tinyint1-as-boolean.enabled} (and refuses a pipeline file that asks for them).
     */
    private static boolean isTinyInt1(Schema schema) {
        java.util.Map<String, String> parameters = schema.parameters();
        return parameters != null
                && "TINYINT".equalsIgnoreCase(parameters.get(SOURCE_TYPE))
                && "1".equals(parameters.get(SOURCE_LENGTH));
    }

    /** A {@code tinyint(1)} read as a boolean: 0 and 1 are false and true, the rest quarantined. */
    private static Boolean tinyInt1(int value, String table, String column) {
        if (value == 0 || value == 1) {
            return value == 1;
        }
        throw new NotRepresentableException(
                String.format(
                        "table '%s' column '%s' is a tinyint(1) read as a boolean"
                                + " (source.treat-tinyint1-as-boolean.enabled) and holds %d, which is"
                                + " neither 0 nor 1: the change is quarantined; store 0 or 1 (or"
                                + " null) in the source, or turn the option off to read the column"
                                + " as an int",
                        table, column, value));
    }

    /**
     * A time of day from nanoseconds. MySQL's {@code TIME} is a duration from -838:59:59 to
     * 838:59:59: one outside a day has no Iceberg time.
     */
    private static LocalTime timeOfDay(long nanos, String table, String column) {
        if (nanos < 0 || nanos >= 86_400_000_000_000L) {
            java.time.Duration duration = java.time.Duration.ofNanos(nanos);
            throw new NotRepresentableException(
                    String.format(
                            "table '%s' column '%s' holds the duration %s%d:%02d:%02d, which no "
                                    + "Iceberg time (a time of day) can hold: the change is "
                                    + "quarantined; store a time from 00:00:00 to 23:59:59.999999 "
                                    + "(or null) in the source if the target must have the row",
                            table,
                            column,
                            duration.isNegative() ? "-" : "",
                            Math.abs(duration.toHours()),
                            Math.abs(duration.toMinutesPart()),
                            Math.abs(duration.toSecondsPart())));
        }
        return LocalTime.ofNanoOfDay(nanos);
    }

    /**
     * Parses Debezium's {@code ZonedTimestamp} text ({@code 2026-01-01T10:15:30.123456Z}, or with
     * an offset such as {@code +05:30}). {@link OffsetDateTime#parse} was a third of the source
     * thread's time in a profile of a snapshot with one timestamptz column; this reads the common
     * shape directly and hands anything else (another shape, an invalid date or time) to it, which
     * accepts or rejects as before.
     */
    static Instant zonedTimestamp(String text) {
        int n = text.length();
        // yyyy-MM-ddTHH:mm:ss is 19 characters, then a fraction, then Z or +HH:MM
        if (n >= 20
                && text.charAt(4) == '-'
                && text.charAt(7) == '-'
                && text.charAt(10) == 'T'
                && text.charAt(13) == ':'
                && text.charAt(16) == ':') {
            int year = digits(text, 0, 4);
            int month = digits(text, 5, 7);
            int day = digits(text, 8, 10);
            int hour = digits(text, 11, 13);
            int minute = digits(text, 14, 16);
            int second = digits(text, 17, 19);
            int i = 19;
            int nanos = 0;
            if (text.charAt(i) == '.') {
                int start = ++i;
                while (i < n && i - start < 9 && Character.isDigit(text.charAt(i))) {
                    nanos = nanos * 10 + (text.charAt(i) - '0');
                    i++;
                }
                if (i == start) {
                    return OffsetDateTime.parse(text, ZONED).toInstant();
                }
                for (int d = i - start; d < 9; d++) {
                    nanos *= 10;
                }
            }
            int offset = Integer.MIN_VALUE;
            if (i == n - 1 && text.charAt(i) == 'Z') {
                offset = 0;
            } else if (i == n - 6
                    && (text.charAt(i) == '+' || text.charAt(i) == '-')
                    && text.charAt(i + 3) == ':') {
                int hours = digits(text, i + 1, i + 3);
                int minutes = digits(text, i + 4, i + 6);
                if (hours >= 0 && minutes >= 0 && minutes < 60 && hours * 60 + minutes <= 18 * 60) {
                    offset = (hours * 3600 + minutes * 60) * (text.charAt(i) == '-' ? -1 : 1);
                }
            }
            if (year > 0
                    && month >= 1
                    && month <= 12
                    && day >= 1
                    && day <= Month.of(month).length(Year.isLeap(year))
                    && hour >= 0
                    && hour < 24
                    && minute >= 0
                    && minute < 60
                    && second >= 0
                    && second < 60
                    && offset != Integer.MIN_VALUE) {
                long epochDay = LocalDate.of(year, month, day).toEpochDay();
                return Instant.ofEpochSecond(
                        epochDay * 86_400L + hour * 3600L + minute * 60L + second - offset, nanos);
            }
        }
        // other shapes, and errors
        return OffsetDateTime.parse(text, ZONED).toInstant();
    }

    /** The decimal number in {@code text[from, to)}, or -1 if a character is not a digit. */
    private static int digits(String text, int from, int to) {
        int value = 0;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static LocalDateTime micros(long micros) {
        return LocalDateTime.ofEpochSecond(
                Math.floorDiv(micros, 1_000_000L),
                (int) Math.floorMod(micros, 1_000_000L) * 1_000,
                ZoneOffset.UTC);
    }

    private static byte[] bytes(Object value) {
        if (value instanceof byte[]) {
            return (byte[]) value;
        }
        ByteBuffer buffer = ((ByteBuffer) value).duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /** For messages only: what instant a change is from. */
    static Instant instant(long millis) {
        return Instant.ofEpochMilli(millis);
    }
}
