package io.tidemark.catalog.verify;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The values {@link GroundTruthDiff} compares, in one form whether read from the source over JDBC
 * or from Iceberg, and their fingerprints: a key's bucket and fingerprint (by which a report names
 * differing keys and a repair finds them again) and a row's checksum.
 */
public final class CanonicalValues {

    private CanonicalValues() {}

    /**
     * The bucket of a key (its values in canonical form, in the table's column order): the same on
     * both sides, on every JVM, and for a re-snapshot limited to buckets.
     */
    public static int bucket(List<Object> key) {
        return (int) (fingerprint(key) >>> 48);
    }

    /**
     * A key's fingerprint (its values in canonical form, in the table's column order), by which a
     * report names its differing keys and a repair finds them again.
     */
    public static long keyFingerprint(List<Object> key) {
        return fingerprint(key);
    }

    /** A row's checksum: bucket sums add them, so the order rows are read in does not matter. */
    public static long checksum(List<Object> row) {
        return fingerprint(row);
    }

    /**
     * A 64-bit fingerprint of canonical values (FNV-1a over each value's type, length and text,
     * finished by SplitMix64's mixer): equal lists give equal fingerprints, in any JVM.
     */
    static long fingerprint(List<Object> values) {
        long h = 0xcbf29ce484222325L;
        for (Object value : values) {
            if (value == null) {
                h = (h ^ 0x7f) * 0x100000001b3L;
                continue;
            }
            String text =
                    value instanceof ByteBuffer
                            ? HexFormat.of().formatHex(bytes((ByteBuffer) value))
                            : value.toString();
            String type = value instanceof ByteBuffer ? "bytes" : value.getClass().getSimpleName();
            h = (h ^ type.hashCode()) * 0x100000001b3L;
            h = (h ^ text.length()) * 0x100000001b3L;
            for (int i = 0; i < text.length(); i++) {
                h = (h ^ text.charAt(i)) * 0x100000001b3L;
            }
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }

    /** Column {@code index} of the current row, read as the Iceberg {@code type} compares it. */
    public static Object readColumn(ResultSet rs, int index, Type type) throws SQLException {
        Object value =
                switch (type.typeId()) {
                    case TIMESTAMP ->
                            ((Types.TimestampType) type).shouldAdjustToUTC()
                                    ? rs.getObject(index, OffsetDateTime.class)
                                    : rs.getObject(index, LocalDateTime.class);
                    case DATE -> rs.getObject(index, LocalDate.class);
                    case TIME -> rs.getObject(index, LocalTime.class);
                    case STRING ->
                            rs.getMetaData().getColumnType(index) == java.sql.Types.TIME
                                    // a time with microseconds, captured as its text (TimeText)
                                    ? timeText(rs.getObject(index, LocalTime.class))
                                    : rs.getString(index);
                    case BINARY, FIXED -> rs.getBytes(index);
                    case INTEGER -> rs.getInt(index);
                        // BIGINT UNSIGNED comes as a BigInteger from MySQL's driver
                    case DECIMAL -> rs.getBigDecimal(index);
                    case LONG -> rs.getLong(index);
                    default -> rs.getObject(index);
                };
        return rs.wasNull() ? null : value;
    }

    private static String timeText(LocalTime time) {
        return time == null ? null : io.tidemark.catalog.TimeText.format(time);
    }

    /** One comparable form per Iceberg type, whether the value came from JDBC or from Iceberg. */
    public static Object canonical(Object value, Type type) {
        if (value == null) {
            return null;
        }
        switch (type.typeId()) {
            case DECIMAL:
                return ((BigDecimal) value)
                        .setScale(((Types.DecimalType) type).scale(), RoundingMode.UNNECESSARY);
            case TIMESTAMP:
                if (value instanceof OffsetDateTime) {
                    return ((OffsetDateTime) value).toInstant();
                }
                return value;
            case BINARY:
            case FIXED:
                if (value instanceof byte[]) {
                    return ByteBuffer.wrap((byte[]) value);
                }
                return value;
            case INTEGER:
                return ((Number) value).intValue();
            case LONG:
                return ((Number) value).longValue();
            case STRING:
                return Objects.toString(value);
            case UUID:
                // a source's text column under a uuid contract may write it in another notation
                if (value instanceof String text) {
                    java.util.UUID uuid = io.tidemark.catalog.UuidText.parse(text);
                    return uuid == null ? text : uuid.toString();
                }
                return value.toString();
            default:
                return value;
        }
    }
}
