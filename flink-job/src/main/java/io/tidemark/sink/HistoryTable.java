package io.tidemark.sink;

import io.tidemark.catalog.TableSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;

/**
 * The table beside a target under {@code history: scd2}: {@code <namespace>.<table>__history}, one
 * row per version of each source row, committed on the same checkpoints as the target (see {@code
 * io.tidemark.commit.HistoryWriter}).
 *
 * <p>Columns: the target's columns, then {@value #VALID_FROM} and {@value #VALID_TO} (the source's
 * commit time of the change that opened and of the one that closed the version, or the table's
 * event-time column under an event-time ordering; {@value #VALID_TO} null while the version is
 * current), {@value #OPERATION} ({@code snapshot}, {@code insert}, {@code update}, {@code delete}:
 * a {@code delete} version holds the key only and marks the row gone; a truncate closes the open
 * versions and adds none), {@value #VERSION} (1, 2, ... per key), the change's source and position
 * ({@code source_id}, {@code commit_lsn}, {@code change_lsn}, {@code tx_id}) and {@value #ROW_KEY},
 * the pipeline's own key of the row (table and key values), by which a job that starts without
 * state finds each key's current version. Identifier fields: the key columns and {@value #VERSION}.
 */
public final class HistoryTable {

    public static final String SUFFIX = "__history";

    public static final String VALID_FROM = "valid_from";
    public static final String VALID_TO = "valid_to";
    public static final String OPERATION = "operation";
    public static final String VERSION = "version";
    public static final String SOURCE_ID = "source_id";
    public static final String COMMIT_LSN = "commit_lsn";
    public static final String CHANGE_LSN = "change_lsn";
    public static final String TX_ID = "tx_id";
    public static final String ROW_KEY = "row_key";

    /** The columns a history table adds to its target's, in this order. */
    public static final List<Types.NestedField> COLUMNS =
            List.of(
                    Types.NestedField.required(
                            1, VALID_FROM, Types.TimestampType.withZone(), "version began"),
                    Types.NestedField.optional(
                            2,
                            VALID_TO,
                            Types.TimestampType.withZone(),
                            "version ended; null while current"),
                    Types.NestedField.required(3, OPERATION, Types.StringType.get()),
                    Types.NestedField.required(4, VERSION, Types.LongType.get()),
                    Types.NestedField.required(5, SOURCE_ID, Types.StringType.get()),
                    Types.NestedField.optional(6, COMMIT_LSN, Types.LongType.get()),
                    Types.NestedField.optional(7, CHANGE_LSN, Types.LongType.get()),
                    Types.NestedField.optional(8, TX_ID, Types.LongType.get()),
                    Types.NestedField.required(9, ROW_KEY, Types.StringType.get()));

    /** The names of {@link #COLUMNS}. */
    public static final Set<String> NAMES =
            Set.copyOf(COLUMNS.stream().map(Types.NestedField::name).toList());

    private HistoryTable() {}

    public static TableIdentifier of(TableIdentifier target) {
        return TableIdentifier.of(target.namespace(), target.name() + SUFFIX);
    }

    /**
     * What the history table of {@code target} (with {@code targetSchema}, keyed by {@code
     * primaryKey}) must look like: the target's columns, every one optional but the key (a delete
     * version holds the key only), then {@link #COLUMNS}; keyed by the key and {@link #VERSION}.
     *
     * @throws IllegalStateException if the target has a column of a history column's name
     */
    public static TableSpec spec(
            TableIdentifier target, Schema targetSchema, List<String> primaryKey) {
        List<Types.NestedField> columns = new ArrayList<>();
        int id = 1;
        for (Types.NestedField column : targetSchema.columns()) {
            if (NAMES.contains(column.name())) {
                throw new IllegalStateException(
                        String.format(
                                "table %s has a column '%s', which its history table %s adds "
                                        + "itself (%s); rename the column or remove 'history: scd2' "
                                        + "from the table's entry",
                                target,
                                column.name(),
                                of(target),
                                COLUMNS.stream().map(Types.NestedField::name).toList()));
            }
            Types.NestedField copy =
                    Types.NestedField.of(
                            id++,
                            !primaryKey.contains(column.name()),
                            column.name(),
                            column.type(),
                            column.doc());
            columns.add(copy);
        }
        for (Types.NestedField column : COLUMNS) {
            columns.add(
                    Types.NestedField.of(
                            id++, column.isOptional(), column.name(), column.type(), column.doc()));
        }
        List<String> key = new ArrayList<>(primaryKey);
        key.add(VERSION);
        return new TableSpec(of(target), columns, key);
    }
}
