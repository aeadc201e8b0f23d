package io.tidemark.sink;

import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.Violation;
import io.tidemark.decode.ChangeEvent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
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
 * The table beside a target that receives the changes breaking its contract: {@code
 * <namespace>.<table>__quarantine}, append-only, committed on the same checkpoints as the target. A
 * plain Iceberg table: Trino and the {@code quarantine} command read it.
 *
 * <p>Columns: {@code source_table}; {@code contract} ({@code public.orders v2}) and {@code
 * contract_version}; {@code reasons}, every reason code that applies, comma-separated (e.g. {@code
 * NOT_ALLOWED_VALUE,TOO_LONG}); {@code details}, one message per reason naming the column and the
 * rule, never the value; {@code key} (JSON, when the change has one); {@code operation}; the source
 * position ({@code commit_lsn, change_lsn, tx_id}) and {@code source_time}; {@code run_id}; {@code
 * detected_at}; {@code payload}, the raw change as JSON ({@code {"before":..,"after":..}}); {@code
 * replayed_by} and {@code replayed_at}, empty until {@code tidemark quarantine replay} read the
 * change's keys again under a newer contract (see {@code io.tidemark.cli.QuarantineReplayCommand}).
 */
public final class QuarantineTable {

    public static final String SUFFIX = "__quarantine";

    /** The replay that read the change's keys again ({@code replay <request> ...}), or null. */
    public static final String REPLAYED_BY = "replayed_by";

    /** When that replay marked the change, or null. */
    public static final String REPLAYED_AT = "replayed_at";

    public static final Schema SCHEMA =
            new Schema(
                    Types.NestedField.required(1, "source_table", Types.StringType.get()),
                    Types.NestedField.required(2, "contract", Types.StringType.get()),
                    Types.NestedField.required(3, "contract_version", Types.IntegerType.get()),
                    Types.NestedField.required(4, "reasons", Types.StringType.get()),
                    Types.NestedField.required(5, "details", Types.StringType.get()),
                    Types.NestedField.optional(6, "key", Types.StringType.get()),
                    Types.NestedField.required(7, "operation", Types.StringType.get()),
                    Types.NestedField.optional(8, "commit_lsn", Types.LongType.get()),
                    Types.NestedField.optional(9, "change_lsn", Types.LongType.get()),
                    Types.NestedField.optional(10, "tx_id", Types.LongType.get()),
                    Types.NestedField.optional(11, "source_time", Types.TimestampType.withZone()),
                    Types.NestedField.required(12, "run_id", Types.StringType.get()),
                    Types.NestedField.required(13, "detected_at", Types.TimestampType.withZone()),
                    Types.NestedField.optional(14, "payload", Types.StringType.get()),
                    Types.NestedField.optional(15, REPLAYED_BY, Types.StringType.get()),
                    Types.NestedField.optional(16, REPLAYED_AT, Types.TimestampType.withZone()));

    public static final InternalTypeInfo<RowData> TYPE_INFO =
            InternalTypeInfo.of(FlinkSchemaUtil.convert(SCHEMA));

    private QuarantineTable() {}

    /**
     * Name of the pipeline's table for changes no target's quarantine table takes: changes for
     * tables the pipeline does not capture, and undecodable changes of tables without a contract.
     * It lives in the namespace of the pipeline's first target.
     */
    public static final String UNROUTED = "tidemark_unrouted" + SUFFIX;

    /** The key an {@code AppendWriter} routes rows of every other source table by. */
    public static final String ANY_TABLE = "*";

    /** The contract column of rows no contract covers. */
    public static final String NO_CONTRACT = "none";

    public static TableIdentifier unrouted(TableIdentifier firstTarget) {
        return TableIdentifier.of(firstTarget.namespace(), UNROUTED);
    }

    public static TableIdentifier of(TableIdentifier target) {
        return TableIdentifier.of(target.namespace(), target.name() + SUFFIX);
    }

    /**
     * The quarantine row of a {@link io.tidemark.decode.Operation#MALFORMED} change: its reason,
     * what was wrong, the contract of its table if it has one, and the undecodable record as the
     * payload.
     */
    public static RowData malformedRow(ChangeEvent change, Contract contract, String runId) {
        GenericRowData row = new GenericRowData(SCHEMA.columns().size());
        row.setField(0, StringData.fromString(change.table()));
        row.setField(1, StringData.fromString(contract == null ? NO_CONTRACT : contract.id()));
        row.setField(2, contract == null ? 0 : contract.version());
        row.setField(3, StringData.fromString(change.malformedReason()));
        row.setField(4, StringData.fromString(change.malformedDetail()));
        row.setField(
                5,
                change.key().isEmpty()
                        ? null
                        : StringData.fromString(LateTable.json(change.key())));
        where(row, change, runId);
        row.setField(13, StringData.fromString(change.malformedPayload()));
        return row;
    }

    /** The quarantine row of {@code change}, which broke {@code contract} in {@code violations}. */
    public static RowData row(
            ChangeEvent change, Contract contract, List<Violation> violations, String runId) {
        GenericRowData row = new GenericRowData(SCHEMA.columns().size());
        row.setField(0, StringData.fromString(change.table()));
        row.setField(1, StringData.fromString(contract == null ? NO_CONTRACT : contract.id()));
        row.setField(2, contract == null ? 0 : contract.version());
        row.setField(
                3,
                StringData.fromString(
                        violations.stream()
                                .map(v -> v.reason().name())
                                .distinct()
                                .collect(Collectors.joining(","))));
        row.setField(
                4,
                StringData.fromString(
                        violations.stream()
                                .map(Violation::toString)
                                .collect(Collectors.joining("; "))));
        row.setField(
                5,
                change.key().isEmpty()
                        ? null
                        : StringData.fromString(LateTable.json(change.key())));
        where(row, change, runId);
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("before", change.before());
        payload.put("after", change.after());
        row.setField(13, StringData.fromString(LateTable.json(payload)));
        return row;
    }

    /** The columns every quarantine row fills alike: operation, source position and time, run. */
    private static void where(GenericRowData row, ChangeEvent change, String runId) {
        row.setField(6, StringData.fromString(change.operation().name()));
        row.setField(7, change.position().commitLsn());
        row.setField(8, change.position().changeLsn());
        row.setField(9, change.position().txId());
        row.setField(
                10,
                change.sourceTimeMillis() > 0
                        ? TimestampData.fromEpochMillis(change.sourceTimeMillis())
                        : null);
        row.setField(11, StringData.fromString(runId));
        row.setField(12, TimestampData.fromEpochMillis(System.currentTimeMillis()));
    }
}
