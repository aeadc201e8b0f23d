package io.tidemark.sink;

import io.tidemark.catalog.TimeText;
import io.tidemark.catalog.UuidText;
import io.tidemark.decode.ChangeEvent;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.types.RowKind;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Turns a {@link ChangeEvent} into the rows an Iceberg upsert writer applies. A plain class.
 *
 * <ul>
 *   <li>snapshot read, insert, update: one {@code INSERT} row (the writer deletes the key first);
 *   <li>update that changes the primary key: a {@code DELETE} of the old key, then an {@code
 *       INSERT} of the new row;
 *   <li>delete: a {@code DELETE} row built from the before image.
 * </ul>
 *
 * <p>Values are checked against the Iceberg column type. A column the table does not have, a
 * required column without a value, or a value of another type fails with a message naming the table
 * and column: the row is never silently altered.
 */
public final class RowDataConverter implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final org.slf4j.Logger LOG =
            org.slf4j.LoggerFactory.getLogger(RowDataConverter.class);

    /** Time columns whose microseconds were cut, each said once per JVM. */
    private static final Set<String> CUT_TO_MILLIS =
            java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final String table;
    private final Schema schema;
    private final List<String> primaryKey;

    public RowDataConverter(String table, Schema schema, List<String> primaryKey) {
        this.table = table;
        this.schema = schema;
        this.primaryKey = List.copyOf(primaryKey);
    }

    /** The key columns the table is upserted by. */
    public List<String> primaryKey() {
        return primaryKey;
    }

    public void convert(ChangeEvent event, Consumer<RowData> out) {
        switch (event.operation()) {
            case READ:
            case INSERT:
                out.accept(row(RowKind.INSERT, event.after()));
                break;
            case UPDATE:
                if (event.before() != null && keyChanged(event.before(), event.after())) {
                    out.accept(row(RowKind.DELETE, event.before()));
                }
                out.accept(row(RowKind.INSERT, event.after()));
                break;
            case DELETE:
                out.accept(row(RowKind.DELETE, event.before()));
                break;
            default:
                throw new IllegalStateException("unhandled operation " + event.operation());
        }
    }

    private boolean keyChanged(Map<String, Object> before, Map<String, Object> after) {
        for (String column : primaryKey) {
            if (before.containsKey(column)
                    && !Objects.deepEquals(before.get(column), after.get(column))) {
                return true;
            }
        }
        return false;
    }

    private RowData row(RowKind kind, Map<String, Object> image) {
        List<Types.NestedField> columns = schema.columns();
        GenericRowData row = new GenericRowData(kind, columns.size());
        Set<String> seen = new HashSet<>();
        // a delete is written by its key: the old row's other values (of a column the source added
        // or retyped since, too) are not needed, and never fail it
        boolean keyOnly = kind == RowKind.DELETE && !primaryKey.isEmpty();
        for (int i = 0; i < columns.size(); i++) {
            Types.NestedField column = columns.get(i);
            if (keyOnly && !primaryKey.contains(column.name())) {
                continue;
            }
            boolean present = image.containsKey(column.name());
            Object value = image.get(column.name());
            if (present) {
                seen.add(column.name());
            }
            if (value == null) {
                // deletes only need the key; a before image may carry just the key columns
                if (column.isRequired()
                        && (kind != RowKind.DELETE || primaryKey.contains(column.name()))) {
                    throw new IllegalArgumentException(
                            String.format(
                                    "table '%s' column '%s' is required but the %s change has no value for it",
                                    table, column.name(), kind));
                }
                continue;
            }
            row.setField(i, internal(value, column));
        }
        if (!keyOnly && seen.size() < image.size()) {
            for (String name : image.keySet()) {
                if (schema.findField(name) == null) {
                    throw new IllegalArgumentException(
                            String.format(
                                    "table '%s': the source has column '%s' that the Iceberg table %s lacks; "
                                            + "add the column to the Iceberg table, then restart",
                                    table,
                                    name,
                                    schema.columns().stream()
                                            .map(Types.NestedField::name)
                                            .toList()));
                }
            }
        }
        return row;
    }

    private Object internal(Object value, Types.NestedField column) {
        Type type = column.type();
        switch (type.typeId()) {
            case BOOLEAN:
                return expect(value, Boolean.class, column);
            case INTEGER:
                return expect(value, Integer.class, column);
            case LONG:
                return value instanceof Integer
                        ? Long.valueOf((Integer) value)
                        : expect(value, Long.class, column);
            case FLOAT:
                return expect(value, Float.class, column);
            case DOUBLE:
                return value instanceof Float
                        ? Double.valueOf((Float) value)
                        : expect(value, Double.class, column);
            case STRING:
                if (value instanceof LocalTime time) {
                    // a source time with microseconds (see TimeText)
                    return StringData.fromString(TimeText.format(time));
                }
                return StringData.fromString(expect(value, String.class, column));
            case DECIMAL:
                return decimal(expect(value, BigDecimal.class, column), column);
            case DATE:
                return (int) expect(value, LocalDate.class, column).toEpochDay();
            case TIME:
                {
                    // Flink's internal TIME is milliseconds of the day
                    LocalTime time = expect(value, LocalTime.class, column);
                    if (time.getNano() % 1_000_000 != 0
                            && CUT_TO_MILLIS.add(table + "." + column.name())) {
                        LOG.warn(
                                "Table {} column '{}' is an Iceberg time column, which Iceberg's Flink "
                                        + "writers keep to milliseconds: the source's microseconds are cut. "
                                        + "Tidemark makes such columns strings (HH:mm:ss.ffffff) in the "
                                        + "tables it creates; re-create this one to keep them",
                                table,
                                column.name());
                    }
                    return (int) (time.toNanoOfDay() / 1_000_000L);
                }
            case TIMESTAMP:
                if (((Types.TimestampType) type).shouldAdjustToUTC()) {
                    return TimestampData.fromInstant(expect(value, Instant.class, column));
                }
                return TimestampData.fromLocalDateTime(expect(value, LocalDateTime.class, column));
            case BINARY:
            case FIXED:
                return expect(value, byte[].class, column);
            case UUID:
                // Flink's form of an Iceberg uuid: its 16 bytes
                return uuidBytes(value, column);
            default:
                throw new IllegalArgumentException(
                        String.format(
                                "table '%s' column '%s': Iceberg type %s is not supported",
                                table, column.name(), type));
        }
    }

    /** A decimal at its column's scale and precision; one that does not fit them is refused. */
    private DecimalData decimal(BigDecimal value, Types.NestedField column) {
        Types.DecimalType decimal = (Types.DecimalType) column.type();
        DecimalData data;
        try {
            data =
                    DecimalData.fromBigDecimal(
                            value.setScale(decimal.scale(), RoundingMode.UNNECESSARY),
                            decimal.precision(),
                            decimal.scale());
        } catch (ArithmeticException e) {
            data = null;
        }
        if (data == null) {
            throw new IllegalArgumentException(
                    String.format(
                            "table '%s' column '%s': value does not fit %s",
                            table, column.name(), decimal));
        }
        return data;
    }

    /**
     * Whether this converter takes {@code value} for a column of {@code type} as it is: the checks
     * of {@link #convert}, without converting (the contract gate's test of a change of a table
     * without a contract).
     */
    public static boolean accepts(Type type, Object value) {
        switch (type.typeId()) {
            case BOOLEAN:
                return value instanceof Boolean;
            case INTEGER:
                return value instanceof Integer;
            case LONG:
                return value instanceof Long || value instanceof Integer;
            case FLOAT:
                return value instanceof Float;
            case DOUBLE:
                return value instanceof Double || value instanceof Float;
            case STRING:
                return value instanceof String || value instanceof LocalTime;
            case DECIMAL:
                {
                    if (!(value instanceof BigDecimal bd)) {
                        return false;
                    }
                    Types.DecimalType decimal = (Types.DecimalType) type;
                    try {
                        return bd.setScale(decimal.scale(), RoundingMode.UNNECESSARY).precision()
                                <= decimal.precision();
                    } catch (ArithmeticException e) {
                        return false;
                    }
                }
            case DATE:
                return value instanceof LocalDate;
            case TIME:
                return value instanceof LocalTime;
            case TIMESTAMP:
                return ((Types.TimestampType) type).shouldAdjustToUTC()
                        ? value instanceof Instant
                        : value instanceof LocalDateTime;
            case BINARY:
            case FIXED:
                return value instanceof byte[];
            case UUID:
                return value instanceof java.util.UUID
                        || (value instanceof String text && UuidText.isUuid(text));
            default:
                return false;
        }
    }

    private byte[] uuidBytes(Object value, Types.NestedField column) {
        java.util.UUID uuid =
                value instanceof java.util.UUID u
                        ? u
                        : value instanceof String text ? UuidText.parse(text) : null;
        if (uuid == null) {
            throw new IllegalArgumentException(
                    String.format(
                            "table '%s' column '%s' is a uuid in Iceberg but the change carries %s",
                            table,
                            column.name(),
                            value instanceof String
                                    ? "text that is not a uuid"
                                    : value.getClass().getSimpleName()));
        }
        return java.nio.ByteBuffer.allocate(16)
                .putLong(uuid.getMostSignificantBits())
                .putLong(uuid.getLeastSignificantBits())
                .array();
    }

    private <T> T expect(Object value, Class<T> expected, Types.NestedField column) {
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException(
                    String.format(
                            "table '%s' column '%s' is %s in Iceberg but the change carries a %s",
                            table, column.name(), column.type(), value.getClass().getSimpleName()));
        }
        return expected.cast(value);
    }
}
