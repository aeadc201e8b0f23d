package io.tidemark.catalog.contract;

import io.tidemark.catalog.contract.Contract.Column;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * Whether one contract version may replace another on a table that already holds rows of the old
 * one. Compatible: new nullable columns, Iceberg's type promotions (int to long, float to double,
 * decimal(P,S) to decimal(P',S) with P' > P), a required column made nullable, new, changed or
 * removed constraints (they apply to rows from then on), another freshness SLA or evolution policy.
 * Incompatible, each with the reason: a dropped column, any other type change, a nullable column
 * made required, a new required column, another primary key, another ordering rule, another table,
 * a version that does not increase.
 */
public final class ContractCompatibility {

    private ContractCompatibility() {}

    /** Every reason {@code next} cannot replace {@code current}; empty when it can. */
    public static List<String> problems(Contract current, Contract next) {
        List<String> problems = new ArrayList<>();
        if (!current.table().equals(next.table())) {
            problems.add(
                    "contract is for table "
                            + next.table()
                            + ", not "
                            + current.table()
                            + ": a contract never moves to another table");
        }
        if (next.version() <= current.version()) {
            problems.add(
                    "version "
                            + next.version()
                            + " does not follow "
                            + current.version()
                            + ": a new contract version must have a higher number");
        }
        if (!current.primaryKey().equals(next.primaryKey())) {
            problems.add(
                    "primary key changes from "
                            + current.primaryKey()
                            + " to "
                            + next.primaryKey()
                            + ": rows already written are merged and deleted by the old key;"
                            + " a new key needs a new table");
        }
        if (!current.ordering().equals(next.ordering())) {
            problems.add(
                    "ordering changes from "
                            + current.ordering()
                            + " to "
                            + next.ordering()
                            + ": the reconciler's state holds positions of the old rule;"
                            + " start a new pipeline (new state) for another rule");
        }
        for (Column old : current.columns()) {
            Optional<Column> now = next.column(old.name());
            if (now.isEmpty()) {
                problems.add(
                        "column '"
                                + old.name()
                                + "' is dropped: its data would silently stop being written;"
                                + " keep it (make it nullable) instead");
                continue;
            }
            Column column = now.get();
            if (!old.type().equals(column.type()) && !isPromotion(old.type(), column.type())) {
                problems.add(
                        "column '"
                                + old.name()
                                + "' changes type from "
                                + old.type()
                                + " to "
                                + column.type()
                                + ": "
                                + (isPromotion(column.type(), old.type())
                                        ? "narrowing loses values already written"
                                        : "not a widening Iceberg can apply to existing files"));
            }
            if (old.nullable() && !column.nullable()) {
                problems.add(
                        "column '"
                                + old.name()
                                + "' becomes required: rows already written may hold nulls");
            }
        }
        for (Column column : next.columns()) {
            if (current.column(column.name()).isEmpty() && !column.nullable()) {
                problems.add(
                        "new column '"
                                + column.name()
                                + "' is required: rows already written have no value; add it as"
                                + " nullable");
            }
        }
        return problems;
    }

    /** Throws a {@link ContractException} naming every problem when {@code next} cannot follow. */
    public static void check(Contract current, Contract next) {
        List<String> problems = problems(current, next);
        if (!problems.isEmpty()) {
            throw new ContractException(
                    "contract " + next.id() + " cannot replace " + current.id(), problems);
        }
    }

    /** Iceberg's own promotion rules (int to long, float to double, wider decimal). */
    static boolean isPromotion(Type from, Type to) {
        if (from.typeId() == Type.TypeID.DECIMAL && to.typeId() == Type.TypeID.DECIMAL) {
            Types.DecimalType a = (Types.DecimalType) from;
            Types.DecimalType b = (Types.DecimalType) to;
            return a.scale() == b.scale() && b.precision() > a.precision();
        }
        return !from.equals(to) && TypeUtil.isPromotionAllowed(from, to.asPrimitiveType());
    }
}
