package io.tidemark.schema;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.Optional;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The schema changes {@code schema-evolution: evolve} applies while running, decided from the
 * canonical values of a change (see {@link io.tidemark.decode.ChangeEvent}): a column the source
 * added becomes a nullable Iceberg column of the value's type; an {@code int} column that receives
 * a {@code Long} becomes {@code long}, a {@code float} column that receives a {@code Double} {@code
 * double} (the source column was widened). A plain class.
 *
 * <p>Only types a value names unambiguously are inferred: a {@code BigDecimal} carries its scale
 * but not its column's precision or scale, so a new decimal column is not added while running (its
 * changes are quarantined until a contract version declares it).
 */
public final class Evolution {

    private Evolution() {}

    /** The Iceberg type of a new column whose value is {@code value}, if one follows from it. */
    public static Optional<Type.PrimitiveType> typeOf(Object value) {
        if (value instanceof Boolean) {
            return Optional.of(Types.BooleanType.get());
        }
        if (value instanceof Integer) {
            return Optional.of(Types.IntegerType.get());
        }
        if (value instanceof Long) {
            return Optional.of(Types.LongType.get());
        }
        if (value instanceof Float) {
            return Optional.of(Types.FloatType.get());
        }
        if (value instanceof Double) {
            return Optional.of(Types.DoubleType.get());
        }
        if (value instanceof String) {
            return Optional.of(Types.StringType.get());
        }
        if (value instanceof byte[]) {
            return Optional.of(Types.BinaryType.get());
        }
        if (value instanceof LocalDate) {
            return Optional.of(Types.DateType.get());
        }
        if (value instanceof LocalTime) {
            return Optional.of(Types.TimeType.get());
        }
        if (value instanceof LocalDateTime) {
            return Optional.of(Types.TimestampType.withoutZone());
        }
        if (value instanceof Instant) {
            return Optional.of(Types.TimestampType.withZone());
        }
        return Optional.empty();
    }

    /** The wider type a column of {@code type} must become to hold {@code value}, if any. */
    public static Optional<Type.PrimitiveType> widened(Type type, Object value) {
        if (type.typeId() == Type.TypeID.INTEGER && value instanceof Long) {
            return Optional.of(Types.LongType.get());
        }
        if (type.typeId() == Type.TypeID.FLOAT && value instanceof Double) {
            return Optional.of(Types.DoubleType.get());
        }
        return Optional.empty();
    }
}
