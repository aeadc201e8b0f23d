package io.tidemark.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * One change Iceberg table {@code target} (of source table {@code sourceTable}) needs so that a
 * change of the source can be written: a column added (nullable, of {@code type}), a column widened
 * to {@code type}, a column made optional (no longer in the source; {@code type} null), or the
 * table made (a table created in the source while the job runs, {@link #create}: no column, no
 * type).
 *
 * <p>The contract gate admits a change that needs one ({@code schema-evolution}); {@link #needed}
 * says what it needs (the one place that is decided), from the values the change carries and the
 * schema the writer writes with; the schema stage ({@link SchemaApplier}) applies it, once, on one
 * subtask; the writer waits until the table holds it. Sent as one line of text ({@link #encode}).
 */
public record SchemaChange(
        String target, String sourceTable, Kind kind, String column, Type.PrimitiveType type) {

    /** What happens to the column. */
    public enum Kind {
        ADD,
        WIDEN,
        OPTIONAL,
        /** The table made, from the source table's columns and key ({@link LiveTableCreation}). */
        CREATE
    }

    private static final char SEPARATOR = '\u0001';

    public SchemaChange {
        if ((type == null) != (kind == Kind.OPTIONAL || kind == Kind.CREATE)) {
            throw new IllegalArgumentException(
                    kind + " of column " + column + " with type " + type);
        }
    }

    /** The request to make {@code target}, for source table {@code sourceTable}. */
    public static SchemaChange create(String target, String sourceTable) {
        return new SchemaChange(target, sourceTable, Kind.CREATE, "", null);
    }

    /** Whether {@code schema} already holds this change (a table that has one was made). */
    public boolean heldBy(Schema schema) {
        Types.NestedField field = schema.findField(column);
        return switch (kind) {
            case CREATE -> true;
            case ADD -> field != null;
            case WIDEN -> field != null && field.type().equals(type);
            case OPTIONAL -> field == null || field.isOptional();
        };
    }

    /** This change as one line of text. */
    public String encode() {
        return target
                + SEPARATOR
                + sourceTable
                + SEPARATOR
                + kind
                + SEPARATOR
                + column
                + SEPARATOR
                + (type == null ? "" : type.toString());
    }

    /** The change {@link #encode} wrote. */
    public static SchemaChange decode(String line) {
        String[] parts = line.split(String.valueOf(SEPARATOR), -1);
        if (parts.length != 5) {
            throw new IllegalArgumentException("not a schema change: " + line);
        }
        return new SchemaChange(
                parts[0],
                parts[1],
                Kind.valueOf(parts[2]),
                parts[3],
                parts[4].isEmpty() ? null : Types.fromPrimitiveString(parts[4]));
    }

    /**
     * What {@code schema} (of {@code target}) lacks to take the row {@code after} of {@code
     * sourceTable} as it comes: a column it does not have whose value is not null (nullable, of the
     * value's type: {@link Evolution#typeOf}), a value wider than its column ({@link
     * Evolution#widened}), and (when {@code dropsColumns}, {@code schema-evolution: lenient}) a
     * required column the row does not carry. Empty when the row fits, which is almost always: the
     * loop allocates nothing then.
     */
    public static List<SchemaChange> needed(
            String target,
            String sourceTable,
            Schema schema,
            Map<String, Object> after,
            boolean dropsColumns) {
        List<SchemaChange> needed = null;
        for (Map.Entry<String, Object> column : after.entrySet()) {
            Object value = column.getValue();
            if (value == null) {
                continue;
            }
            Types.NestedField field = schema.findField(column.getKey());
            SchemaChange change = null;
            if (field == null) {
                Type.PrimitiveType type =
                        Evolution.typeOf(value)
                                .orElseThrow(
                                        () ->
                                                new IllegalStateException(
                                                        String.format(
                                                                "table '%s' column '%s': no Iceberg type follows from a %s"
                                                                        + " (the contract gate lets only such columns through)",
                                                                sourceTable,
                                                                column.getKey(),
                                                                value.getClass().getSimpleName())));
                change = new SchemaChange(target, sourceTable, Kind.ADD, column.getKey(), type);
            } else {
                Type.PrimitiveType wider = Evolution.widened(field.type(), value).orElse(null);
                if (wider != null) {
                    change =
                            new SchemaChange(
                                    target, sourceTable, Kind.WIDEN, column.getKey(), wider);
                }
            }
            if (change != null) {
                needed = needed == null ? new ArrayList<>() : needed;
                needed.add(change);
            }
        }
        if (dropsColumns) {
            for (Types.NestedField field : schema.columns()) {
                if (field.isRequired()
                        && after.get(field.name()) == null
                        && !schema.identifierFieldNames().contains(field.name())) {
                    needed = needed == null ? new ArrayList<>() : needed;
                    needed.add(
                            new SchemaChange(
                                    target, sourceTable, Kind.OPTIONAL, field.name(), null));
                }
            }
        }
        return needed == null ? List.of() : needed;
    }
}
