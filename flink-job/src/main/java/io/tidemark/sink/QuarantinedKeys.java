package io.tidemark.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.catalog.verify.CanonicalValues;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The keys of a quarantined change, read back from its payload ({@code {"before":..,"after":..}},
 * as {@link QuarantineTable} wrote it): the key of each row image it has (an update of the primary
 * key has two), as canonical values in the target's column order, which is how a re-read limited to
 * keys names them ({@code CanonicalValues.keyFingerprint}).
 */
public final class QuarantinedKeys {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Types.NestedField> keyColumns = new ArrayList<>();

    /**
     * @param target the schema of the target table, whose identifier fields are its key
     */
    public QuarantinedKeys(Schema target) {
        for (Types.NestedField column : target.columns()) {
            if (target.identifierFieldIds().contains(column.fieldId())) {
                keyColumns.add(column);
            }
        }
        if (keyColumns.isEmpty()) {
            throw new IllegalArgumentException("the target table has no key: " + target);
        }
    }

    /**
     * The keys of {@code quarantined} (a quarantine table's row); empty when it has none to read
     * again: an undecodable change, or a row image without its key.
     */
    public Set<List<Object>> of(Record quarantined) {
        Set<List<Object>> keys = new LinkedHashSet<>();
        Object payload = quarantined.getField("payload");
        if ("MALFORMED".equals(quarantined.getField("operation")) || payload == null) {
            return keys;
        }
        JsonNode images;
        try {
            images = JSON.readTree(payload.toString());
        } catch (JsonProcessingException e) {
            return keys;
        }
        for (String image : List.of("before", "after")) {
            List<Object> key = key(images.get(image));
            if (key != null) {
                keys.add(key);
            }
        }
        return keys;
    }

    /** The key of one row image, or null when it has none (no image, a key column null). */
    private List<Object> key(JsonNode row) {
        if (row == null || !row.isObject()) {
            return null;
        }
        List<Object> key = new ArrayList<>(keyColumns.size());
        for (Types.NestedField column : keyColumns) {
            JsonNode value = row.get(column.name());
            if (value == null || value.isNull()) {
                return null;
            }
            Object typed;
            try {
                typed = typed(value, column.type());
            } catch (RuntimeException e) {
                // a value its column's type cannot hold: the contract refused this key
                return null;
            }
            key.add(CanonicalValues.canonical(typed, column.type()));
        }
        return key;
    }

    /** A JSON value as the Java value the decoder gives a column of {@code type}. */
    static Object typed(JsonNode value, Type type) {
        String text = value.asText();
        return switch (type.typeId()) {
            case BOOLEAN -> value.isBoolean() ? value.booleanValue() : Boolean.parseBoolean(text);
            case INTEGER -> value.isNumber() ? value.intValue() : Integer.parseInt(text);
            case LONG -> value.isNumber() ? value.longValue() : Long.parseLong(text);
            case FLOAT -> value.isNumber() ? value.floatValue() : Float.parseFloat(text);
            case DOUBLE -> value.isNumber() ? value.doubleValue() : Double.parseDouble(text);
            case DECIMAL -> new BigDecimal(text);
            case DATE -> LocalDate.parse(text);
            case TIME -> LocalTime.parse(text);
            case TIMESTAMP -> timestamp(text, ((Types.TimestampType) type).shouldAdjustToUTC());
            case BINARY, FIXED -> Base64.getDecoder().decode(text);
            default -> text;
        };
    }

    private static Object timestamp(String text, boolean withZone) {
        if (!withZone) {
            return LocalDateTime.parse(text);
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            return OffsetDateTime.parse(text).toInstant();
        }
    }
}
