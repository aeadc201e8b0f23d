package io.tidemark.contract;

import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.ContractException;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.config.PipelineConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.schema.Evolution;
import io.tidemark.sink.RowDataConverter;
import io.tidemark.source.LiveTables;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The implicit contracts of the tables without one: each table's Iceberg columns and key as a
 * contract under its {@code schema-evolution}, what the contract gate checks a change against once
 * it no longer fits the table (the source's schema changed), and what the evolving changes taught
 * (a column added or widened). One per gate subtask.
 */
public final class ImplicitContracts {

    private static final Logger LOG = LoggerFactory.getLogger(ImplicitContracts.class);

    /** Per table of the start without a contract, its implicit one. */
    private final Map<String, Contract> atStart;

    private final LiveTables live;

    /** Per table without a contract, the column types its changes are taken with as they are. */
    private final Map<String, Map<String, Type>> implicitTypes = new HashMap<>();

    /** Per table without a contract, its required columns other than the key. */
    private final Map<String, Set<String>> implicitRequired = new HashMap<>();

    /**
     * The implicit contracts of tables created while the job runs, made lazily (null: none, and for
     * tables of the start without one).
     */
    private final Map<String, Contract> liveImplicit = new HashMap<>();

    ImplicitContracts(Map<String, Contract> atStart, LiveTables live) {
        this.atStart = atStart;
        this.live = live;
        atStart.forEach(this::register);
    }

    /**
     * Whether a change of a table without a contract fits its Iceberg table as it is: every column
     * known, of a type the writer takes, no required column missing or null. The common case,
     * checked without allocating; a change that does not fit is checked against the table's
     * implicit contract ({@link #contractOf}).
     */
    boolean fits(ChangeEvent change) {
        if (change.operation() == Operation.DELETE || change.after() == null) {
            // a delete needs its key only, which the decoder checked
            return true;
        }
        Map<String, Type> types = implicitTypes.get(change.table());
        for (Map.Entry<String, Object> column : change.after().entrySet()) {
            Type type = types.get(column.getKey());
            if (type == null) {
                return false;
            }
            Object value = column.getValue();
            if (value == null
                    ? implicitRequired.get(change.table()).contains(column.getKey())
                    : !RowDataConverter.accepts(type, value)) {
                return false;
            }
        }
        for (String required : implicitRequired.get(change.table())) {
            if (!change.after().containsKey(required)) {
                return false;
            }
        }
        return true;
    }

    /** Keeps {@code implicit}'s column types and required columns for the common-case check. */
    private void register(String table, Contract implicit) {
        Map<String, Type> types = new HashMap<>();
        Set<String> required = new HashSet<>();
        for (Contract.Column column : implicit.columns()) {
            types.put(column.name(), column.type());
            if (!column.nullable() && !implicit.primaryKey().contains(column.name())) {
                required.add(column.name());
            }
        }
        implicitTypes.put(table, types);
        implicitRequired.put(table, required);
    }

    /**
     * The implicit contract of a table without a contract: from the job's start, or for a table
     * created while the job runs ({@code new-tables: capture}), made when its first change arrives
     * from its Iceberg table's columns and key (made by the schema stage from the source's then)
     * under its pattern's {@code schema-evolution}; null for a table whose columns cannot be one.
     */
    Contract contractOf(String table) {
        Contract implicit = atStart.get(table);
        if (implicit != null || liveImplicit.containsKey(table)) {
            return implicit != null ? implicit : liveImplicit.get(table);
        }
        PipelineConfig.TableConfig entry = live.entryFor(table).orElse(null);
        if (entry == null) {
            // a table of the start without one: asked once
            liveImplicit.put(table, null);
            return null;
        }
        try {
            // the Iceberg table the schema stage made from the source's columns (the stage after
            // the source let no change of it through before); a failover may meet it evolved, or
            // lagging the source under quarantine and fail: the gate holds back what it lacks
            LiveTables.LiveTable made =
                    live.table(table)
                            .orElseThrow(
                                    () ->
                                            new IllegalStateException(
                                                    "its Iceberg table is not made yet"));
            implicit =
                    of(table, made.schema().columns(), made.primaryKey(), entry.schemaEvolution());
        } catch (RuntimeException e) {
            LOG.warn(
                    "Table {}, created while the job runs: its columns are not checked for schema "
                            + "drift ({})",
                    table,
                    e.getMessage());
        }
        liveImplicit.put(table, implicit);
        if (implicit != null) {
            register(table, implicit);
        }
        return implicit;
    }

    /**
     * A table's Iceberg columns and key as a contract under {@code evolution}: what the gate checks
     * a change of a table without a contract against when the source's schema changed. Null for
     * columns that cannot be one (a nested type, a nullable key), whose changes go to the writer as
     * they are.
     */
    public static Contract of(
            String table,
            List<Types.NestedField> fields,
            List<String> primaryKey,
            EvolutionPolicy evolution) {
        List<Contract.Column> columns = new ArrayList<>();
        for (Types.NestedField field : fields) {
            if (!field.type().isPrimitiveType()) {
                return null;
            }
            columns.add(
                    new Contract.Column(
                            field.name(), field.type().asPrimitiveType(), field.isOptional()));
        }
        try {
            return new Contract(
                    table,
                    1,
                    columns,
                    primaryKey,
                    Contract.COMMIT_ORDER,
                    List.of(),
                    null,
                    evolution);
        } catch (ContractException e) {
            LOG.warn(
                    "Table {}: its Iceberg columns are not checked for schema drift ({})",
                    table,
                    e.getMessage());
            return null;
        }
    }

    /**
     * What an evolving change of a table without a contract taught: its columns as they now are (a
     * column it added or widened; a required column it no longer carries, under {@code lenient}, is
     * optional now).
     */
    void learn(ChangeEvent change) {
        Set<String> required = implicitRequired.get(change.table());
        if (!required.isEmpty()) {
            required.removeIf(column -> change.after().get(column) == null);
        }
        Map<String, Type> types = implicitTypes.get(change.table());
        for (Map.Entry<String, Object> column : change.after().entrySet()) {
            Object value = column.getValue();
            Type type = types.get(column.getKey());
            if (value == null || (type != null && RowDataConverter.accepts(type, value))) {
                continue;
            }
            Type learned =
                    type == null
                            ? Evolution.typeOf(value).orElse(null)
                            : Evolution.widened(type, value).orElse(null);
            if (learned != null) {
                types.put(column.getKey(), learned);
            }
        }
    }
}
