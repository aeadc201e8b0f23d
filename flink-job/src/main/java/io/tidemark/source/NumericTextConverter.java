package io.tidemark.source;

import io.debezium.data.SpecialValueDecimal;
import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import io.tidemark.decode.DebeziumDecoder;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.SchemaBuilder;

/**
 * Postgres {@code numeric} columns as their exact text, so that {@code NaN} (and, from Postgres 14,
 * {@code Infinity}) reach Tidemark as themselves: Debezium's precise decimals turn them into null,
 * on the snapshot and the log alike, which wrote a null where the source holds a value. The decoder
 * reads the text back as the same {@code BigDecimal} (value and scale) and quarantines the special
 * values ({@code NOT_REPRESENTABLE}: an Iceberg decimal cannot hold them).
 *
 * <p>A table's primary key columns keep Debezium's decimals ({@code keys}: {@code
 * schema.table.column}, comma-separated): Flink CDC splits and routes snapshot chunks by them.
 */
public final class NumericTextConverter
        implements CustomConverter<SchemaBuilder, RelationalColumn> {

    /** The logical name the decoder knows these values by. */
    public static final String LOGICAL_NAME = DebeziumDecoder.NUMERIC_TEXT;

    /** Debezium's property (under the converter's prefix) naming the key columns to leave alone. */
    public static final String KEYS = "keys";

    private Set<String> keys = Set.of();

    @Override
    public void configure(Properties properties) {
        String list = properties.getProperty(KEYS, "");
        keys = list.isBlank() ? Set.of() : new HashSet<>(Arrays.asList(list.split(",")));
    }

    @Override
    public void converterFor(
            RelationalColumn column, ConverterRegistration<SchemaBuilder> registration) {
        String type = column.typeName() == null ? "" : column.typeName().toLowerCase();
        if (!type.equals("numeric") && !type.equals("decimal")) {
            return;
        }
        String name = column.dataCollection() + "." + column.name();
        for (String key : keys) {
            if (name.equals(key) || name.endsWith("." + key)) {
                return;
            }
        }
        registration.register(
                SchemaBuilder.string().name(LOGICAL_NAME).optional(), NumericTextConverter::text);
    }

    /** The text of a numeric value as either reader hands it over. */
    static Object text(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof BigDecimal decimal) {
            return decimal.toPlainString();
        }
        if (value instanceof SpecialValueDecimal special) {
            if (special.getDecimalValue().isPresent()) {
                return special.getDecimalValue().get().toPlainString();
            }
            double d = special.toDouble();
            return Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
        }
        if (value instanceof Double || value instanceof Float) {
            // the JDBC driver's form of NaN and infinities
            double d = ((Number) value).doubleValue();
            if (Double.isNaN(d)) {
                return "NaN";
            }
            if (Double.isInfinite(d)) {
                return d > 0 ? "Infinity" : "-Infinity";
            }
            return new BigDecimal(value.toString()).toPlainString();
        }
        return value.toString();
    }
}
