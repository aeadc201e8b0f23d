package io.tidemark.commit;

import io.tidemark.contract.Evolution;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.metrics.WriterMetrics;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.RowDataConverter;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.flink.CatalogLoader;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Writes reconciled changes into their target tables with upsert semantics. Runs right after the
 * reconciler on the same partitioning (by table and key), so all changes of a key meet one writer
 * in reconciled order without another exchange.
 *
 * <ul>
 *   <li>a change for a configured table becomes that table's rows ({@link RowDataConverter});
 *   <li>a change for any other table fails the job with the table's name (the source only captures
 *       configured tables, so this is a bug, not data);
 *   <li>under {@code schema-evolution: evolve}, a change with a column the target lacks, or a value
 *       wider than its column, first evolves the target ({@link FilesWriter#evolve}, {@link
 *       Evolution}); a null value of a column the target lacks is nothing to keep and is left out.
 *       Without {@code evolve} such a change fails naming the column (the contract gate quarantines
 *       drift before it gets here).
 * </ul>
 */
public final class ChangeWriter extends FilesWriter<ChangeEvent> {

    private static final long serialVersionUID = 1L;

    /**
     * Where the changes of one source table go.
     *
     * @param evolve its contract's schema-evolution policy is {@code evolve}, so columns the source
     *     adds or widens are applied to the target
     * @param snapshotRowsAreNewKeys every snapshot row is the first change of its key this job
     *     writes, once: the table is fed by one source whose snapshot reads each key once and
     *     before any log change of it (Flink CDC's incremental snapshot), under commit order. Then,
     *     while the target {@linkplain FilesWriter#startedEmpty started empty}, snapshot rows are
     *     appended without equality deletes.
     */
    public record Route(
            String sourceTable,
            String target,
            RowDataConverter converter,
            boolean evolve,
            boolean snapshotRowsAreNewKeys)
            implements Serializable {

        /** A route whose target's schema changes only through a deployment. */
        public Route(String sourceTable, String target, RowDataConverter converter) {
            this(sourceTable, target, converter, false, false);
        }
    }

    private final RunContext run;
    private final Map<String, Route> routes;

    private transient Map<String, WriterMetrics> metrics;

    /** The converter of each source table for its target's current schema. */
    private transient Map<String, RowDataConverter> converters;

    public ChangeWriter(RunContext run, CatalogLoader catalogLoader, List<Route> routes) {
        super(catalogLoader, targets(routes));
        this.run = run;
        this.routes = new HashMap<>();
        for (Route route : routes) {
            this.routes.put(route.sourceTable(), route);
        }
    }

    private static List<Target> targets(List<Route> routes) {
        List<Target> targets = new ArrayList<>();
        for (Route route : routes) {
            targets.add(new Target(route.target(), route.converter().primaryKey()));
        }
        return targets;
    }

    @Override
    public void open() throws Exception {
        run.enterLogContext();
        super.open();
        metrics = new HashMap<>();
        converters = new HashMap<>();
        for (Route route : routes.values()) {
            metrics.put(
                    route.sourceTable(),
                    new WriterMetrics(getRuntimeContext(), route.sourceTable()));
            // the schema as this writer opened the table: it may have evolved since the job was
            // built
            converters.put(
                    route.sourceTable(),
                    new RowDataConverter(
                            route.sourceTable(),
                            schema(route.target()),
                            route.converter().primaryKey()));
        }
    }

    @Override
    protected void route(ChangeEvent change, RowSink sink) throws Exception {
        Route route = routes.get(change.table());
        if (route == null) {
            throw new IllegalStateException(
                    "change for table '"
                            + change.table()
                            + "' which the pipeline does not capture");
        }
        WriterMetrics tableMetrics = metrics.get(change.table());
        tableMetrics.changeIn(change.sourceTimeMillis());
        String target = route.target();
        if (route.evolve() && change.after() != null) {
            change = evolve(route, change, tableMetrics);
        }
        // a snapshot row of a key this job has not written, into a table that held no row: nothing
        // to delete (a READ converts to one insert row)
        boolean newKey =
                change.operation() == Operation.READ
                        && route.snapshotRowsAreNewKeys()
                        && startedEmpty(target);
        converters
                .get(change.table())
                .convert(
                        change,
                        row -> {
                            tableMetrics.rowOut();
                            try {
                                if (newKey) {
                                    sink.append(target, row);
                                } else {
                                    sink.write(target, row);
                                }
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                        });
    }

    /** Evolves the target to take {@code change}; returns the change as the target takes it. */
    private ChangeEvent evolve(Route route, ChangeEvent change, WriterMetrics tableMetrics)
            throws IOException {
        Schema schema = schema(route.target());
        // per change: allocate only when the change needs the table to evolve (rare)
        Map<String, Type> added = null;
        Map<String, Type> widened = null;
        boolean nullsToDrop = false;
        for (Map.Entry<String, Object> column : change.after().entrySet()) {
            Types.NestedField field = schema.findField(column.getKey());
            Object value = column.getValue();
            if (field == null) {
                if (value == null) {
                    nullsToDrop = true;
                    continue;
                }
                if (added == null) {
                    added = new LinkedHashMap<>();
                }
                added.put(
                        column.getKey(),
                        Evolution.typeOf(value)
                                .orElseThrow(
                                        () ->
                                                new IllegalStateException(
                                                        String.format(
                                                                "table '%s' column '%s': no Iceberg type follows from a %s "
                                                                        + "(the contract gate lets only such columns through)",
                                                                route.sourceTable(),
                                                                column.getKey(),
                                                                value.getClass()
                                                                        .getSimpleName()))));
            } else if (value != null) {
                Type wider = Evolution.widened(field.type(), value).orElse(null);
                if (wider != null) {
                    if (widened == null) {
                        widened = new LinkedHashMap<>();
                    }
                    widened.put(column.getKey(), wider);
                }
            }
        }
        if (added != null || widened != null) {
            tableMetrics.schemaChangesApplied(
                    evolve(
                            route.target(),
                            added == null ? Map.of() : added,
                            widened == null ? Map.of() : widened));
            schema = schema(route.target());
            converters.put(
                    route.sourceTable(),
                    new RowDataConverter(
                            route.sourceTable(), schema, route.converter().primaryKey()));
        }
        if (!nullsToDrop) {
            return change;
        }
        Map<String, Object> after = new LinkedHashMap<>();
        for (Map.Entry<String, Object> column : change.after().entrySet()) {
            if (column.getValue() != null || schema.findField(column.getKey()) != null) {
                after.put(column.getKey(), column.getValue());
            }
        }
        return change.with(change.operation(), change.key(), change.before(), after);
    }
}
