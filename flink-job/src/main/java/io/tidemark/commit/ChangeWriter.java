package io.tidemark.commit;

import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.config.PipelineConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.metrics.WriterMetrics;
import io.tidemark.protocol.CommitMessage;
import io.tidemark.runtime.RunContext;
import io.tidemark.schema.SchemaChange;
import io.tidemark.sink.RowDataConverter;
import io.tidemark.source.LiveTables;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.flink.CatalogLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
            boolean lenient,
            boolean snapshotRowsAreNewKeys)
            implements Serializable {

        /** A route whose target's schema changes only through a deployment. */
        public Route(String sourceTable, String target, RowDataConverter converter) {
            this(sourceTable, target, converter, false, false, false);
        }

        /** A route that is not lenient. */
        public Route(
                String sourceTable,
                String target,
                RowDataConverter converter,
                boolean evolve,
                boolean snapshotRowsAreNewKeys) {
            this(sourceTable, target, converter, evolve, false, snapshotRowsAreNewKeys);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(ChangeWriter.class);

    /** What the writers need of their tables' schemas, to the schema stage. */
    public static final OutputTag<String> SCHEMA_CHANGES =
            new OutputTag<>("schema-changes", org.apache.flink.api.common.typeinfo.Types.STRING);

    /** How long a writer waits for the schema stage before it fails. */
    static final java.time.Duration SCHEMA_WAIT = io.tidemark.schema.SchemaApplier.WAIT;

    private final RunContext run;
    private final Map<String, Route> routes;
    private final LiveTables live;

    private transient Map<String, WriterMetrics> metrics;

    /** The converter of each source table for its target's current schema. */
    private transient Map<String, RowDataConverter> converters;

    public ChangeWriter(RunContext run, CatalogLoader catalogLoader, List<Route> routes) {
        this(run, catalogLoader, routes, LiveTables.NONE);
    }

    /**
     * A writer that also writes tables created in the source while the job runs ({@code live}),
     * whose Iceberg tables the schema stage made before their first change got here.
     */
    public ChangeWriter(
            RunContext run, CatalogLoader catalogLoader, List<Route> routes, LiveTables live) {
        super(catalogLoader, targets(routes));
        this.run = run;
        this.live = live;
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
            route = liveRoute(change.table());
        }
        WriterMetrics tableMetrics = metrics.get(change.table());
        tableMetrics.changeIn(change.sourceTimeMillis(), change.position().commitLsn());
        String target = route.target();
        if (change.operation() == Operation.TRUNCATE) {
            // every reconciler subtask sends its copy in its place: what this writer wrote of the
            // table before it is emptied with the table, what follows is kept
            truncate(
                    target,
                    CommitMessage.FilesWritten.truncatedAt(
                            change.source() + "/" + change.position(),
                            change.truncateDuringSnapshot()));
            return;
        }
        if (route.evolve() && change.after() != null) {
            change = fit(route, change);
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

    /**
     * The route of a table created in the source while the job runs: its Iceberg table was made by
     * the schema stage before its first change passed the stage after the source ({@code
     * LiveTableStage}); written like any other.
     */
    private Route liveRoute(String sourceTable) throws IOException {
        PipelineConfig.TableConfig entry =
                live.entryFor(sourceTable)
                        .orElseThrow(
                                () ->
                                        new IllegalStateException(
                                                "change for table '"
                                                        + sourceTable
                                                        + "' which the pipeline does not capture"));
        // its pattern's schema-evolution, as for the tables known at the start
        EvolutionPolicy evolution = entry.schemaEvolution();
        LiveTables.LiveTable made =
                live.table(sourceTable)
                        .orElseThrow(
                                () ->
                                        new IllegalStateException(
                                                "table '"
                                                        + sourceTable
                                                        + "', created while the job runs, has no "
                                                        + "Iceberg table: the schema stage makes it "
                                                        + "before its first change is let through"));
        Table table = catalog().loadTable(made.identifier());
        Route route =
                new Route(
                        sourceTable,
                        made.identifier().toString(),
                        new RowDataConverter(sourceTable, table.schema(), made.primaryKey()),
                        evolution.evolves(),
                        evolution == EvolutionPolicy.LENIENT,
                        false);
        addTarget(new Target(route.target(), made.primaryKey()));
        routes.put(sourceTable, route);
        metrics.put(sourceTable, new WriterMetrics(getRuntimeContext(), sourceTable));
        converters.put(sourceTable, route.converter());
        return route;
    }

    /**
     * {@code change} as the target takes it: when the target's schema lacks what the change needs
     * (a column, a wider type, an optional column: {@link SchemaChange#needed}), asks the schema
     * stage for it and waits until the table holds it; a new column whose value is null is left out
     * (nothing to add it for).
     */
    private ChangeEvent fit(Route route, ChangeEvent change) throws IOException {
        Schema schema = schema(route.target());
        List<SchemaChange> needed = needed(route, schema, change);
        if (!needed.isEmpty()) {
            schema = awaitSchema(route, change, needed);
        }
        boolean nullsToDrop = false;
        for (Map.Entry<String, Object> column : change.after().entrySet()) {
            if (column.getValue() == null && schema.findField(column.getKey()) == null) {
                nullsToDrop = true;
                break;
            }
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

    /** What {@code schema} lacks to take {@code change} of {@code route}'s table. */
    private static List<SchemaChange> needed(Route route, Schema schema, ChangeEvent change) {
        return SchemaChange.needed(
                route.target(), route.sourceTable(), schema, change.after(), route.lenient());
    }

    /**
     * Sends {@code needed} to the schema stage and waits until the target's schema takes {@code
     * change} (re-reading it with a growing pause, up to {@link #SCHEMA_WAIT}); from then on the
     * table's rows are written with that schema. Returns it.
     */
    private Schema awaitSchema(Route route, ChangeEvent change, List<SchemaChange> needed)
            throws IOException {
        long deadline = System.nanoTime() + SCHEMA_WAIT.toNanos();
        long pauseMillis = 5;
        List<SchemaChange> sent = List.of();
        while (true) {
            if (!needed.equals(sent)) {
                for (SchemaChange schemaChange : needed) {
                    output.collect(SCHEMA_CHANGES, new StreamRecord<>(schemaChange.encode()));
                }
                sent = needed;
            }
            Schema schema = refreshSchema(route.target());
            needed = needed(route, schema, change);
            if (needed.isEmpty()) {
                converters.put(
                        route.sourceTable(),
                        new RowDataConverter(
                                route.sourceTable(), schema, route.converter().primaryKey()));
                return schema;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        String.format(
                                "table %s: the schema stage did not apply %s to %s within %s;"
                                        + " its log (operator 'schema changes') says why",
                                route.sourceTable(), needed, route.target(), SCHEMA_WAIT));
            }
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException(
                        "waiting for the schema of " + route.target());
            }
            pauseMillis = Math.min(pauseMillis * 2, 500);
        }
    }
}
