package io.tidemark.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.decode.ChangeEvent;
import java.math.BigDecimal;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.runtime.typeutils.InternalTypeInfo;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.types.Types;

/**
 * The table beside a target that receives its late changes under the {@code quarantine} policy:
 * {@code <namespace>.<table>__late}, append-only. Columns: the source table, the key and the
 * operation, the change's event time, the watermark it missed and by how much, the reason, the
 * source position, the run id, when it was detected, and the change's row image as JSON.
 */
public final class LateTable {

    public static final String SUFFIX = "__late";

    public static final Schema SCHEMA =
            new Schema(
                    Types.NestedField.required(1, "source_table", Types.StringType.get()),
                    Types.NestedField.required(2, "key", Types.StringType.get()),
                    Types.NestedField.required(3, "operation", Types.StringType.get()),
                    Types.NestedField.optional(4, "event_time", Types.TimestampType.withZone()),
                    Types.NestedField.optional(5, "watermark", Types.TimestampType.withZone()),
                    Types.NestedField.optional(6, "lateness_ms", Types.LongType.get()),
                    Types.NestedField.required(7, "reason", Types.StringType.get()),
                    Types.NestedField.optional(8, "commit_lsn", Types.LongType.get()),
                    Types.NestedField.optional(9, "change_lsn", Types.LongType.get()),
                    Types.NestedField.optional(10, "tx_id", Types.LongType.get()),
                    Types.NestedField.required(11, "run_id", Types.StringType.get()),
                    Types.NestedField.required(12, "detected_at", Types.TimestampType.withZone()),
                    Types.NestedField.optional(13, "payload", Types.StringType.get()));

    public static final InternalTypeInfo<RowData> TYPE_INFO =
            InternalTypeInfo.of(FlinkSchemaUtil.convert(SCHEMA));

    private static final ObjectMapper JSON = new ObjectMapper();

    private LateTable() {}

    public static TableIdentifier of(TableIdentifier target) {
        return TableIdentifier.of(target.namespace(), target.name() + SUFFIX);
    }

    /** The late-table row of a change that missed {@code watermark}. */
    public static RowData row(ChangeEvent change, long eventTime, long watermark, String runId) {
        GenericRowData row = new GenericRowData(SCHEMA.columns().size());
        row.setField(0, StringData.fromString(change.table()));
        row.setField(1, StringData.fromString(json(change.key())));
        row.setField(2, StringData.fromString(change.operation().name()));
        row.setField(3, TimestampData.fromEpochMillis(eventTime));
        row.setField(4, TimestampData.fromEpochMillis(watermark));
        row.setField(5, watermark - eventTime);
        row.setField(
                6,
                StringData.fromString(
                        "late: event time behind the watermark beyond the allowed lateness"));
        row.setField(7, change.position().commitLsn());
        row.setField(8, change.position().changeLsn());
        row.setField(9, change.position().txId());
        row.setField(10, StringData.fromString(runId));
        row.setField(11, TimestampData.fromEpochMillis(System.currentTimeMillis()));
        row.setField(
                12, change.image() == null ? null : StringData.fromString(json(change.image())));
        return row;
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(plain(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render a change as JSON", e);
        }
    }

    /** Canonical values as JSON-friendly ones: numbers and booleans stay, the rest become text. */
    private static Object plain(Object value) {
        if (value instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<?, ?>) value).forEach((k, v) -> out.put(String.valueOf(k), plain(v)));
            return out;
        }
        if (value instanceof List) {
            return ((List<?>) value).stream().map(LateTable::plain).toList();
        }
        if (value == null
                || value instanceof Boolean
                || value instanceof Integer
                || value instanceof Long
                || value instanceof Float
                || value instanceof Double) {
            return value;
        }
        if (value instanceof BigDecimal) {
            return ((BigDecimal) value).toPlainString();
        }
        if (value instanceof byte[]) {
            return Base64.getEncoder().encodeToString((byte[]) value);
        }
        return value.toString();
    }
}
