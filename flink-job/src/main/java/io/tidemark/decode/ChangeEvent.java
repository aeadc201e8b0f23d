package io.tidemark.decode;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * One change of one row, in Tidemark's own terms: nothing downstream of decoding sees Debezium
 * classes or JSON.
 *
 * <p>Column values are held in canonical Java types, the only ones {@link ChangeEventSerializer}
 * writes: {@code Boolean, Integer, Long, Float, Double, String, BigDecimal, byte[], LocalDate,
 * LocalTime, LocalDateTime} (timestamp without zone) and {@code Instant} (timestamp with zone).
 *
 * <p>{@code key} holds the primary key values of the row the change applies to (the after image, or
 * the before image for deletes), in key order. {@code before} is present for updates and deletes
 * when the source sends it (Postgres: {@code REPLICA IDENTITY FULL}, or the old key when a key
 * changes).
 */
@TypeInfo(ChangeEventTypeInfoFactory.class)
public final class ChangeEvent {

    private final String source;
    private final String table;
    private final Operation operation;
    private final List<Object> key;
    private final Map<String, Object> before;
    private final Map<String, Object> after;
    private final SourcePosition position;
    private final long sourceTimeMillis;

    /** A change from the pipeline's only (default) source. */
    public ChangeEvent(
            String table,
            Operation operation,
            List<Object> key,
            Map<String, Object> before,
            Map<String, Object> after,
            SourcePosition position,
            long sourceTimeMillis) {
        this(DEFAULT_SOURCE, table, operation, key, before, after, position, sourceTimeMillis);
    }

    public ChangeEvent(
            String source,
            String table,
            Operation operation,
            List<Object> key,
            Map<String, Object> before,
            Map<String, Object> after,
            SourcePosition position,
            long sourceTimeMillis) {
        this.source = Objects.requireNonNull(source, "source");
        this.table = Objects.requireNonNull(table, "table");
        this.operation = Objects.requireNonNull(operation, "operation");
        this.key = Collections.unmodifiableList(key);
        this.before = before == null ? null : Collections.unmodifiableMap(before);
        this.after = after == null ? null : Collections.unmodifiableMap(after);
        this.position = Objects.requireNonNull(position, "position");
        this.sourceTimeMillis = sourceTimeMillis;
    }

    private static final String REASON = "reason";
    private static final String DETAIL = "detail";
    private static final String PAYLOAD = "payload";

    /**
     * A source record that could not be decoded ({@link Operation#MALFORMED}): why ({@code reason},
     * a {@code ReasonCode} name; {@code detail}, a message without values) and the record as text.
     * {@code table} is the table the record names, or {@code "unknown"}.
     */
    public static ChangeEvent malformed(
            String source,
            String table,
            String reason,
            String detail,
            String payload,
            SourcePosition position,
            long sourceTimeMillis) {
        return malformed(
                source, table, reason, detail, payload, position, sourceTimeMillis, List.of());
    }

    /** As above, for a record whose primary key could be read: the quarantine row names it. */
    public static ChangeEvent malformed(
            String source,
            String table,
            String reason,
            String detail,
            String payload,
            SourcePosition position,
            long sourceTimeMillis,
            List<Object> key) {
        Map<String, Object> about = new java.util.LinkedHashMap<>();
        about.put(REASON, reason);
        about.put(DETAIL, detail);
        about.put(PAYLOAD, payload);
        return new ChangeEvent(
                source, table, Operation.MALFORMED, key, null, about, position, sourceTimeMillis);
    }

    private static final String DURING_SNAPSHOT = "duringSnapshot";

    /**
     * A {@link Operation#TRUNCATE} of {@code table}. {@code duringSnapshot}: null, or where the
     * table's snapshot stood when the truncate came (some chunks read before it, some after), as
     * text: then emptying the target also removes rows read after the truncate, and the table must
     * be read again.
     */
    public static ChangeEvent truncate(
            String source,
            String table,
            SourcePosition position,
            long sourceTimeMillis,
            String duringSnapshot) {
        return new ChangeEvent(
                source,
                table,
                Operation.TRUNCATE,
                List.of(),
                null,
                duringSnapshot == null ? null : Map.of(DURING_SNAPSHOT, duringSnapshot),
                position,
                sourceTimeMillis);
    }

    /**
     * Of a {@link Operation#TRUNCATE} made while its table's snapshot was being read: where the
     * snapshot stood; null otherwise.
     */
    public String truncateDuringSnapshot() {
        return operation == Operation.TRUNCATE && after != null
                ? (String) after.get(DURING_SNAPSHOT)
                : null;
    }

    /** Why a {@link Operation#MALFORMED} change could not be decoded: a reason code name. */
    public String malformedReason() {
        return (String) after.get(REASON);
    }

    /** What was wrong with a {@link Operation#MALFORMED} change, without values. */
    public String malformedDetail() {
        return (String) after.get(DETAIL);
    }

    /** The undecodable record of a {@link Operation#MALFORMED} change, as text. */
    public String malformedPayload() {
        return (String) after.get(PAYLOAD);
    }

    /** Id of the source a pipeline with one source gives its changes. */
    public static final String DEFAULT_SOURCE = "source";

    /** Id of the source database the change came from (the pipeline file's source id). */
    public String source() {
        return source;
    }

    /** Source table, {@code schema.table}. */
    public String table() {
        return table;
    }

    public Operation operation() {
        return operation;
    }

    public List<Object> key() {
        return key;
    }

    /** The row before the change, or null. */
    public Map<String, Object> before() {
        return before;
    }

    /** The row after the change, or null for deletes. */
    public Map<String, Object> after() {
        return after;
    }

    public SourcePosition position() {
        return position;
    }

    /** Commit time of the change in the source (snapshot rows: the time they were read). */
    public long sourceTimeMillis() {
        return sourceTimeMillis;
    }

    /** The row image a writer applies: after, or before for deletes. */
    public Map<String, Object> image() {
        return operation == Operation.DELETE ? before : after;
    }

    /**
     * Whether this is a re-snapshot's delete of a key its source no longer holds: it carries the
     * key alone (no row, so no event time of its own) and is placed by the re-read's position,
     * which holds every change of its key through it. The reconciler orders it at the event time of
     * the version it removes.
     */
    public boolean isRereadDelete() {
        return operation == Operation.DELETE && position.isResnapshot();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ChangeEvent)) {
            return false;
        }
        ChangeEvent that = (ChangeEvent) o;
        return sourceTimeMillis == that.sourceTimeMillis
                && source.equals(that.source)
                && table.equals(that.table)
                && operation == that.operation
                && valuesEqual(key, that.key)
                && imagesEqual(before, that.before)
                && imagesEqual(after, that.after)
                && position.equals(that.position);
    }

    private static boolean imagesEqual(Map<String, Object> a, Map<String, Object> b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, Object> e : a.entrySet()) {
            if (!valueEquals(e.getValue(), b.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private static boolean valuesEqual(List<Object> a, List<Object> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!valueEquals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean valueEquals(Object a, Object b) {
        if (a instanceof byte[] && b instanceof byte[]) {
            return Arrays.equals((byte[]) a, (byte[]) b);
        }
        return Objects.equals(a, b);
    }

    @Override
    public int hashCode() {
        return Objects.hash(table, operation, position, sourceTimeMillis);
    }

    /** Never prints column values: payloads stay out of logs. */
    @Override
    public String toString() {
        return "ChangeEvent{"
                + source
                + ":"
                + table
                + " "
                + operation
                + " "
                + position
                + " ts="
                + sourceTimeMillis
                + " columns="
                + (image() == null ? 0 : image().size())
                + "}";
    }

    /** The same change with other key and images (used to split primary-key updates). */
    public ChangeEvent with(
            Operation operation,
            List<Object> key,
            Map<String, Object> before,
            Map<String, Object> after) {
        return new ChangeEvent(
                source, table, operation, key, before, after, position, sourceTimeMillis);
    }
}
