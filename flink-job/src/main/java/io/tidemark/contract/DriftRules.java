package io.tidemark.contract;

import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.Contract.Checked;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.catalog.contract.ReasonCode;
import io.tidemark.catalog.contract.Violation;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.schema.Evolution;
import io.tidemark.source.ColumnDefaults;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the contract gate does with schema drift, under a table's {@code schema-evolution}: which
 * violations the writers resolve by evolving the table ({@link #lift}), stopping the job for good
 * under {@code fail} ({@link #stopOnDrift}), and a column the source added with a default ({@link
 * #checkNoDefault}). A plain class: the gate holds one.
 */
final class DriftRules implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(DriftRules.class);

    /** Source tables with a contract (the others are checked against their Iceberg table). */
    private final Set<String> contracted;

    /** Source table to the column its event-time ordering reads. */
    private final Map<String, String> orderingColumns;

    private final ColumnDefaults.Lookup columnDefaults;

    /** What was logged once, as table.column with its kind. */
    private transient Set<String> logged;

    DriftRules(
            Set<String> contracted,
            Map<String, String> orderingColumns,
            ColumnDefaults.Lookup columnDefaults) {
        this.contracted = Set.copyOf(contracted);
        this.orderingColumns = Map.copyOf(orderingColumns);
        this.columnDefaults = columnDefaults;
    }

    private boolean firstTime(String what) {
        if (logged == null) {
            logged = new HashSet<>();
        }
        return logged.add(what);
    }

    /** Columns added in the source whose default was checked, as table.column. */
    private transient Set<String> defaultsChecked;

    /**
     * Before a column the source added reaches the writers (which add it to the Iceberg table,
     * where the table's existing rows read null): if the source added it with a default, its
     * existing rows hold that default, which no change will carry. Where the table can be re-read
     * while running ({@link ColumnDefaults.Lookup#backfill}: a re-snapshot) it is; otherwise the
     * job stops (no restart would help), naming the column, its default and the fix.
     */
    private void checkNoDefault(ChangeEvent change, String column, Contract contract) {
        if (defaultsChecked == null) {
            defaultsChecked = new HashSet<>();
        }
        if (!defaultsChecked.add(change.table() + "." + column)) {
            return;
        }
        columnDefaults
                .defaultOf(change.source(), change.table(), column)
                .ifPresent(
                        value -> {
                            if (columnDefaults.backfill(change.source(), change.table(), column)) {
                                LOG.warn(
                                        "Table {} gained column '{}' with DEFAULT {}: the rows that existed "
                                                + "before hold it in the source and null in Iceberg until the "
                                                + "re-snapshot requested for it has read them again",
                                        change.table(),
                                        column,
                                        value);
                                return;
                            }
                            throw new SuppressRestartsException(
                                    new IllegalStateException(
                                            String.format(
                                                    "schema drift: table %s has column '%s', added with DEFAULT %s: the rows "
                                                            + "that existed before hold it in the source but would read null in "
                                                            + "Iceberg (schema-evolution: evolve adds columns only as null). Add "
                                                            + "the column to the Iceberg table and set it in the existing rows "
                                                            + "(in Trino: ALTER TABLE ... ADD COLUMN %s ...; UPDATE ... SET %s = "
                                                            + "<the default>), then restart from the last checkpoint; or %s",
                                                    change.table(),
                                                    column,
                                                    value,
                                                    column,
                                                    column,
                                                    contracted.contains(change.table())
                                                            ? "deploy a contract version with the column and run the pipeline with --fresh"
                                                            : "run the pipeline with --fresh")));
                        });
    }

    /** Source table to the column its event-time ordering reads (tables ordered so only). */

    /** How messages name what a change is checked against: a contract, or an Iceberg table. */
    private String describe(Contract contract) {
        return contracted.contains(contract.table())
                ? "contract " + contract.id()
                : "its Iceberg table";
    }

    /**
     * Under {@code schema-evolution: evolve}: the violations the writers resolve by evolving the
     * target are lifted, their values pass as they came (see {@link Evolution}): a column the
     * contract does not declare whose value names its type (or is null), and a value wider than its
     * contract column ({@code Long} for {@code int}, {@code Double} for {@code float}). Every other
     * violation stays.
     */
    Checked lift(Contract contract, ChangeEvent change, Checked checked) {
        Map<String, Object> after = change.after() == null ? Map.of() : change.after();
        Map<String, Object> row = new LinkedHashMap<>(checked.row());
        List<Violation> left = new ArrayList<>();
        for (Violation violation : checked.violations()) {
            String column = violation.column();
            Object value = column == null ? null : after.get(column);
            boolean lifted = false;
            if (violation.reason() == ReasonCode.UNKNOWN_COLUMN) {
                lifted = value == null || Evolution.typeOf(value).isPresent();
                if (lifted) {
                    checkNoDefault(change, column, contract);
                }
                if (!lifted && firstTime(contract.table() + "." + column)) {
                    LOG.warn(
                            "Table {} has column '{}', which {} does not declare; its type does not"
                                    + " follow from its values ({}), so schema-evolution: evolve cannot add it"
                                    + " while running: its changes are quarantined until {}",
                            contract.table(),
                            column,
                            describe(contract),
                            value.getClass().getSimpleName(),
                            contracted.contains(contract.table())
                                    ? "a contract version declares it"
                                    : "the column is added to the Iceberg table (with its precision"
                                            + " and scale; ALTER TABLE in Trino or Spark) and the job"
                                            + " restarted");
                }
            } else if (violation.reason() == ReasonCode.MISSING_COLUMN
                    && contract.evolution() == EvolutionPolicy.LENIENT
                    && column != null
                    && change.after() != null
                    && !after.containsKey(column)
                    && !column.equals(orderingColumns.get(change.table()))) {
                // dropped in the source: the writers make the Iceberg column optional
                lifted = true;
                if (firstTime("dropped/" + contract.table() + "." + column)) {
                    LOG.info(
                            "Table {} column '{}' is no longer in the source's rows "
                                    + "(schema-evolution: lenient): the writers make it optional in "
                                    + "the Iceberg table and write null",
                            contract.table(),
                            column);
                }
            } else if (violation.reason() == ReasonCode.WRONG_TYPE && value != null) {
                lifted =
                        contract.column(column)
                                .flatMap(c -> Evolution.widened(c.type(), value))
                                .isPresent();
            }
            if (lifted) {
                row.put(column, value);
                if (value != null
                        && firstTime(violation.reason() + "/" + contract.table() + "." + column)) {
                    LOG.info(
                            "Table {} column '{}' {} {} (schema-evolution: evolve): the writers"
                                    + " apply it to the Iceberg table",
                            contract.table(),
                            column,
                            violation.reason() == ReasonCode.UNKNOWN_COLUMN
                                    ? "is new to"
                                    : "is wider than in",
                            describe(contract));
                }
            } else {
                left.add(violation);
            }
        }
        return new Checked(row, left);
    }

    /**
     * Applies the contract's schema-evolution policy to drift that is still a violation: a column
     * the contract does not declare ({@link ReasonCode#UNKNOWN_COLUMN}, e.g. added in the source
     * while running). Under {@code fail} the job stops for good (no restart would help) with a
     * message naming the column, the table and the contract version; under {@code quarantine} (and
     * {@code evolve}, for what it cannot apply) the change is quarantined like any other.
     */
    void stopOnDrift(Contract contract, List<Violation> violations) {
        if (contract.evolution() != EvolutionPolicy.FAIL) {
            return;
        }
        for (Violation violation : violations) {
            if (violation.reason() == ReasonCode.UNKNOWN_COLUMN) {
                throw new SuppressRestartsException(
                        new IllegalStateException(
                                String.format(
                                        "schema drift: table %s has column '%s', which contract %s does not"
                                                + " declare (schema-evolution: fail). Deploy a contract version"
                                                + " with the column and restart from a savepoint, or set"
                                                + " schema-evolution: quarantine or evolve",
                                        contract.table(), violation.column(), contract.id())));
            }
        }
    }

    /**
     * A change of a table without a contract that does not fit its Iceberg table, under {@code
     * schema-evolution: fail}: the job stops for good, naming the first violation and the fixes.
     */
    static void stopOnImplicitDrift(
            Contract implicit, ChangeEvent change, List<Violation> violations) {
        if (implicit.evolution() != EvolutionPolicy.FAIL) {
            return;
        }
        throw new SuppressRestartsException(
                new IllegalStateException(
                        String.format(
                                "schema drift: a %s of table %s does not fit its Iceberg table (%s; "
                                        + "schema-evolution: fail). Change the Iceberg table to match the "
                                        + "source (ALTER TABLE in Trino or Spark) and restart from the last "
                                        + "checkpoint, or set schema-evolution: evolve (or quarantine) on the "
                                        + "table's entry or as pipeline.schema-evolution",
                                change.operation(), change.table(), violations.get(0))));
    }
}
