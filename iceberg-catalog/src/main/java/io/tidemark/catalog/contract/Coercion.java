package io.tidemark.catalog.contract;

import io.tidemark.catalog.UuidText;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.UUID;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Coerces a decoded value to the Java type Tidemark uses for an Iceberg column type, only where no
 * information is lost: integers into wider or fitting integers, integral decimals into integers,
 * numbers into decimals of enough precision without rounding, exact integers into doubles. Anything
 * else is refused with a message naming the value's type, never the value.
 *
 * <p>Result types: {@code Boolean, Integer, Long, Float, Double, BigDecimal, String, LocalDate,
 * LocalTime, LocalDateTime} (timestamp), {@code Instant} (timestamptz), {@code byte[]}.
 */
public final class Coercion {

    private static final BigDecimal INT_MIN = BigDecimal.valueOf(Integer.MIN_VALUE);
    private static final BigDecimal INT_MAX = BigDecimal.valueOf(Integer.MAX_VALUE);
    private static final BigDecimal LONG_MIN = BigDecimal.valueOf(Long.MIN_VALUE);
    private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);
    private static final long EXACT_DOUBLE = 1L << 53;

    private Coercion() {}

    /** Refused coercion; the message names the value's type and the column type. */
    public static final class CoercionException extends Exception {
        private static final long serialVersionUID = 1L;

        CoercionException(String message) {
            super(message);
        }
    }

    /** {@code value} as the Java type of {@code type}; null stays null. */
    public static Object coerce(Object value, Type.PrimitiveType type) throws CoercionException {
        if (value == null) {
            return null;
        }
        switch (type.typeId()) {
            case BOOLEAN:
                if (value instanceof Boolean) {
                    return value;
                }
                break;
            case INTEGER:
                {
                    BigDecimal integral = integral(value);
                    if (integral != null) {
                        if (integral.compareTo(INT_MIN) < 0 || integral.compareTo(INT_MAX) > 0) {
                            throw refused(value, type, "out of the range of int");
                        }
                        return integral.intValueExact();
                    }
                    break;
                }
            case LONG:
                {
                    BigDecimal integral = integral(value);
                    if (integral != null) {
                        if (integral.compareTo(LONG_MIN) < 0 || integral.compareTo(LONG_MAX) > 0) {
                            throw refused(value, type, "out of the range of long");
                        }
                        return integral.longValueExact();
                    }
                    break;
                }
            case FLOAT:
                if (value instanceof Float) {
                    return value;
                }
                if (value instanceof Double d && (double) (float) d.doubleValue() == d) {
                    return (float) d.doubleValue();
                }
                break;
            case DOUBLE:
                if (value instanceof Double) {
                    return value;
                }
                if (value instanceof Float f) {
                    return (double) f;
                }
                if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
                    return ((Number) value).doubleValue();
                }
                if (value instanceof Long l && Math.abs(l) <= EXACT_DOUBLE) {
                    return l.doubleValue();
                }
                break;
            case DECIMAL:
                return decimal(value, (Types.DecimalType) type);
            case STRING:
                if (value instanceof String) {
                    return value;
                }
                if (value instanceof java.time.LocalTime time) {
                    // a time with microseconds (see TimeText)
                    return io.tidemark.catalog.TimeText.format(time);
                }
                break;
            case UUID:
                if (value instanceof UUID) {
                    return value.toString();
                }
                if (value instanceof String text) {
                    UUID uuid = UuidText.parse(text);
                    if (uuid == null) {
                        throw refused(value, type, "not a UUID");
                    }
                    return uuid.toString();
                }
                break;
            case DATE:
                if (value instanceof LocalDate) {
                    return value;
                }
                break;
            case TIME:
                if (value instanceof LocalTime) {
                    return value;
                }
                break;
            case TIMESTAMP:
                if (((Types.TimestampType) type).shouldAdjustToUTC()) {
                    if (value instanceof Instant) {
                        return value;
                    }
                } else if (value instanceof LocalDateTime) {
                    return value;
                }
                break;
            case BINARY:
            case FIXED:
                byte[] bytes = null;
                if (value instanceof byte[] array) {
                    bytes = array;
                } else if (value instanceof ByteBuffer buffer) {
                    bytes = new byte[buffer.remaining()];
                    buffer.duplicate().get(bytes);
                }
                if (bytes != null) {
                    if (type instanceof Types.FixedType fixed && bytes.length != fixed.length()) {
                        throw refused(value, type, "of " + bytes.length + " bytes");
                    }
                    return bytes;
                }
                break;
            default:
                break;
        }
        throw refused(value, type, null);
    }

    private static BigDecimal integral(Object value) throws CoercionException {
        if (value instanceof Integer
                || value instanceof Long
                || value instanceof Short
                || value instanceof Byte) {
            return BigDecimal.valueOf(((Number) value).longValue());
        }
        if (value instanceof BigInteger big) {
            return new BigDecimal(big);
        }
        if (value instanceof BigDecimal decimal) {
            try {
                return new BigDecimal(decimal.toBigIntegerExact());
            } catch (ArithmeticException e) {
                return null;
            }
        }
        return null;
    }

    private static BigDecimal decimal(Object value, Types.DecimalType type)
            throws CoercionException {
        BigDecimal decimal;
        if (value instanceof BigDecimal d) {
            decimal = d;
        } else if (value instanceof Integer
                || value instanceof Long
                || value instanceof Short
                || value instanceof Byte) {
            decimal = BigDecimal.valueOf(((Number) value).longValue());
        } else {
            throw refused(value, type, null);
        }
        BigDecimal scaled;
        try {
            scaled = decimal.setScale(type.scale());
        } catch (ArithmeticException e) {
            throw refused(value, type, "with more than " + type.scale() + " decimal places");
        }
        if (scaled.precision() > type.precision()) {
            throw refused(value, type, "with more than " + type.precision() + " digits");
        }
        return scaled;
    }

    private static CoercionException refused(Object value, Type type, String why) {
        return new CoercionException(
                "a "
                        + value.getClass().getSimpleName()
                        + (why == null ? "" : " " + why)
                        + ", not coercible to "
                        + type);
    }
}
