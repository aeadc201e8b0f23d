package io.tidemark.decode;

import io.tidemark.catalog.SqlNames;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Field;

/**
 * Checks of a decoded image that no converter can make alone: a value the source did not send (an
 * unchanged TOAST value, {@link #resolveUnavailable}) and a MySQL snapshot {@code DATETIME} that
 * cannot be told from one its reader moved ({@link #refuseCalendarGap}).
 */
final class ImageChecks {

    private ImageChecks() {}

    /**
     * Debezium's stand-in for a value the source did not send: Postgres leaves an unchanged value
     * stored out of line (TOAST) out of an UPDATE unless the table's replica identity holds it.
     * Tidemark sets it ({@code unavailable.value.placeholder}) so that it knows it.
     */
    public static final String UNAVAILABLE = "__debezium_unavailable_value";

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
    static void resolveUnavailable(
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
}
