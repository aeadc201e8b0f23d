package io.tidemark.catalog.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.contract.Coercion.CoercionException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.UUID;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class CoercionTest {

    private static Object coerce(Object value, Type.PrimitiveType type) throws CoercionException {
        return Coercion.coerce(value, type);
    }

    @Test
    void losslessCoercions() throws Exception {
        assertThat(coerce(null, Types.LongType.get())).isNull();
        assertThat(coerce(true, Types.BooleanType.get())).isEqualTo(true);
        assertThat(coerce(5L, Types.IntegerType.get())).isEqualTo(5);
        assertThat(coerce((short) 5, Types.IntegerType.get())).isEqualTo(5);
        assertThat(coerce(new BigDecimal("12.000"), Types.LongType.get())).isEqualTo(12L);
        assertThat(coerce(5, Types.LongType.get())).isEqualTo(5L);
        assertThat(coerce(1.5d, Types.FloatType.get())).isEqualTo(1.5f);
        assertThat(coerce(1.5f, Types.DoubleType.get())).isEqualTo(1.5d);
        assertThat(coerce(3, Types.DoubleType.get())).isEqualTo(3d);
        assertThat(coerce(1L << 53, Types.DoubleType.get())).isEqualTo((double) (1L << 53));
        assertThat(coerce(7, Types.DecimalType.of(5, 2))).isEqualTo(new BigDecimal("7.00"));
        assertThat(coerce(new BigDecimal("1.1"), Types.DecimalType.of(5, 2)))
                .isEqualTo(new BigDecimal("1.10"));
        assertThat(coerce("x", Types.StringType.get())).isEqualTo("x");
        UUID uuid = UUID.randomUUID();
        assertThat(coerce(uuid, Types.UUIDType.get())).isEqualTo(uuid.toString());
        assertThat(coerce(uuid.toString(), Types.UUIDType.get())).isEqualTo(uuid.toString());
        // the notations Postgres reads as a uuid: any case, braces, hyphens after groups of four
        String canonical = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        for (String notation :
                new String[] {
                    "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
                    "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
                    "a0eebc999c0b4ef8bb6d6bb9bd380a11",
                    "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11"
                }) {
            assertThat(coerce(notation, Types.UUIDType.get())).as(notation).isEqualTo(canonical);
        }
        assertThat(coerce(LocalDate.EPOCH, Types.DateType.get())).isEqualTo(LocalDate.EPOCH);
        assertThat(coerce(LocalTime.NOON, Types.TimeType.get())).isEqualTo(LocalTime.NOON);
        LocalDateTime local = LocalDateTime.parse("2026-01-01T00:00:00");
        assertThat(coerce(local, Types.TimestampType.withoutZone())).isEqualTo(local);
        assertThat(coerce(Instant.EPOCH, Types.TimestampType.withZone())).isEqualTo(Instant.EPOCH);
        assertThat((byte[]) coerce(new byte[] {1, 2}, Types.BinaryType.get())).hasSize(2);
        assertThat((byte[]) coerce(ByteBuffer.wrap(new byte[] {1, 2}), Types.FixedType.ofLength(2)))
                .containsExactly(1, 2);
    }

    @Test
    void lossyCoercionsAreRefusedByType() {
        assertRefused(
                Integer.MAX_VALUE + 1L,
                Types.IntegerType.get(),
                "a Long out of the range of int, not coercible to int");
        assertRefused(
                new BigDecimal("1.5"), Types.LongType.get(), "a BigDecimal, not coercible to long");
        assertRefused(0.1d, Types.FloatType.get(), "a Double, not coercible to float");
        assertRefused((1L << 53) + 1, Types.DoubleType.get(), "a Long, not coercible to double");
        assertRefused(
                new BigDecimal("123.45"),
                Types.DecimalType.of(4, 2),
                "a BigDecimal with more than 4 digits, not coercible to decimal(4, 2)");
        assertRefused(
                new BigDecimal("1.234"),
                Types.DecimalType.of(9, 2),
                "a BigDecimal with more than 2 decimal places, not coercible to decimal(9, 2)");
        assertRefused(
                "not-a-uuid", Types.UUIDType.get(), "a String not a UUID, not coercible to uuid");
        // what java.util.UUID.fromString would pad into a uuid is not one
        for (String text :
                new String[] {
                    "1-2-3-4-5",
                    "",
                    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
                    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
                    "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                    "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                    "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
                    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
                    "a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11",
                    "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
                }) {
            assertRefused(text, Types.UUIDType.get(), "a String not a UUID, not coercible to uuid");
        }
        assertRefused(1, Types.StringType.get(), "a Integer, not coercible to string");
        assertRefused("true", Types.BooleanType.get(), "a String, not coercible to boolean");
        assertRefused(
                LocalDateTime.parse("2026-01-01T00:00:00"),
                Types.TimestampType.withZone(),
                "a LocalDateTime, not coercible to timestamptz");
        assertRefused(
                Instant.EPOCH,
                Types.TimestampType.withoutZone(),
                "a Instant, not coercible to timestamp");
        assertRefused(
                new byte[3],
                Types.FixedType.ofLength(2),
                "a byte[] of 3 bytes, not coercible to fixed[2]");
        assertRefused("2026-01-01", Types.DateType.get(), "a String, not coercible to date");
    }

    private static void assertRefused(Object value, Type.PrimitiveType type, String message) {
        assertThatThrownBy(() -> Coercion.coerce(value, type))
                .isInstanceOf(CoercionException.class)
                .hasMessage(message);
    }
}
