package io.tidemark.commit;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.runtime.RunContext;
import io.tidemark.schema.SchemaApplier;
import io.tidemark.schema.SchemaChange;
import io.tidemark.sink.HistoryTable;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.runtime.typeutils.RowDataSerializer;
import org.apache.flink.table.types.logical.RowType;
import org.apache.iceberg.CombinedScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.flink.FlinkSchemaUtil;
import org.apache.iceberg.flink.source.DataIterator;
import org.apache.iceberg.flink.source.RowDataFileScanTaskReader;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the history tables ({@code history: scd2}, {@link HistoryTable}): one row per version of
 * each source row. Keyed like the reconciler, on its partitioning (no exchange), fed by the
 * reconciler's {@link io.tidemark.reconcile.Reconciler#HISTORY} output: every change it applied, in
 * the table's declared order, before an emit delay collapses them. A stale change was never
 * applied, so a version is only ever added after its key's newest one.
 *
 * <ul>
 *   <li>An applied change closes the key's open version ({@code valid_to} set: the version written
 *       again, an upsert by key and version number) and opens the next one, from the change's
 *       source commit time (its event time under an event-time ordering), never before the version
 *       it closes. A delete opens a {@code delete} version holding the key only.
 *   <li>A snapshot row equal to the key's open version adds nothing (a job started without state
 *       reading the table again); one that differs from an open {@code snapshot} version replaces
 *       it (a chunk read again after a restore, at a newer point of the log).
 *   <li>A truncate closes every open version of its table.
 *   <li>Each key's open version is keyed state ({@link OpenVersion}). A key without state (every
 *       key, on a start without state) finds its open version among those read from the history
 *       table when this writer started: the rows with {@code valid_to} null whose {@value
 *       HistoryTable#ROW_KEY} belongs to this subtask.
 *   <li>The files go to the committer like every other table's, so a version is committed exactly
 *       once, in the checkpoint of the change that made it.
 * </ul>
 */
public final class HistoryWriter extends FilesWriter<Tuple2<Long, ChangeEvent>> {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(HistoryWriter.class);

    /**
     * The history table of one source table.
     *
     * @param evolve columns the source adds or widens are added to the history table too (the
     *     target's {@code schema-evolution} is {@code evolve} or {@code lenient})
     */
    public record Route(String sourceTable, String history, List<String> primaryKey, boolean evolve)
            implements Serializable {

        /** The history table's key: the row's key and the version number. */
        List<String> historyKey() {
            List<String> key = new ArrayList<>(primaryKey);
            key.add(HistoryTable.VERSION);
            return key;
        }
    }

    static final String SNAPSHOT = "snapshot";
    static final String TRUNCATE = "truncate";

    /** The operations of a version that holds a row (the others mark it gone). */
    private static final Set<String> LIVE = Set.of(SNAPSHOT, "insert", "update");

    static final ValueStateDescriptor<OpenVersion> OPEN =
            new ValueStateDescriptor<>("history-open", OpenVersionSerializer.INSTANCE);

    private final RunContext run;
    private final Map<String, Route> routes;

    private transient ValueState<OpenVersion> open;

    /** Whether the job started from a checkpoint or savepoint. */
    private transient boolean restored;

    /** Per source table, its history table's rows in the schema written now. */
    private transient Map<String, HistoryRows> rows;

    /**
     * Open versions read from the history tables at the start, by row key, until the key changes.
     */
    private transient Map<String, Loaded> loaded;

    /** An open version read from the table: its columns then and its fields. */
    private record Loaded(
            long version,
            long validFromMillis,
            String operation,
            List<String> names,
            Object[] values) {}

    public HistoryWriter(
            RunContext run,
            org.apache.iceberg.flink.CatalogLoader catalogLoader,
            List<Route> routes) {
        super(catalogLoader, targets(routes));
        this.run = run;
        this.routes = new LinkedHashMap<>();
        for (Route route : routes) {
            this.routes.put(route.sourceTable(), route);
        }
    }

    private static List<Target> targets(List<Route> routes) {
        return routes.stream()
                .map(route -> new Target(route.history(), route.historyKey()))
                .toList();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        open = context.getKeyedStateStore().getState(OPEN);
        restored = context.isRestored();
    }

    @Override
    public void open() throws Exception {
        run.enterLogContext();
        super.open();
        rows = new HashMap<>();
        loaded = new HashMap<>();
        for (Route route : routes.values()) {
            rows.put(
                    route.sourceTable(),
                    new HistoryRows(
                            route.sourceTable(), schema(route.history()), route.primaryKey()));
            load(route);
        }
    }

    /**
     * Reads the open versions ({@code valid_to} null) of {@code route}'s history table whose row
     * key this subtask owns.
     */
    private void load(Route route) throws IOException {
        Table table = catalog().loadTable(TableIdentifier.parse(route.history()));
        if (table.currentSnapshot() == null) {
            return;
        }
        Schema schema = table.schema();
        RowType type = FlinkSchemaUtil.convert(schema);
        RowDataSerializer copier = new RowDataSerializer(type);
        List<String> names = schema.columns().stream().map(Types.NestedField::name).toList();
        RowData.FieldGetter[] getters = new RowData.FieldGetter[names.size()];
        for (int i = 0; i < getters.length; i++) {
            getters[i] = RowData.createFieldGetter(type.getTypeAt(i), i);
        }
        int keyAt = names.indexOf(HistoryTable.ROW_KEY);
        int versionAt = names.indexOf(HistoryTable.VERSION);
        int fromAt = names.indexOf(HistoryTable.VALID_FROM);
        int toAt = names.indexOf(HistoryTable.VALID_TO);
        int operationAt = names.indexOf(HistoryTable.OPERATION);
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        int maxParallelism = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        Expression current = Expressions.isNull(HistoryTable.VALID_TO);
        RowDataFileScanTaskReader reader =
                new RowDataFileScanTaskReader(schema, schema, null, true, List.of(current));
        int count = 0;
        try (CloseableIterable<CombinedScanTask> tasks =
                table.newScan().filter(current).planTasks()) {
            for (CombinedScanTask task : tasks) {
                try (DataIterator<RowData> it =
                        new DataIterator<>(reader, task, table.io(), table.encryption())) {
                    while (it.hasNext()) {
                        RowData row = it.next();
                        if (!row.isNullAt(toAt)) {
                            continue;
                        }
                        String key = row.getString(keyAt).toString();
                        if (KeyGroupRangeAssignment.assignKeyToParallelOperator(
                                        key, maxParallelism, parallelism)
                                != subtask) {
                            continue;
                        }
                        RowData copy = copier.copy(row);
                        Object[] values = new Object[getters.length];
                        for (int i = 0; i < getters.length; i++) {
                            values[i] = getters[i].getFieldOrNull(copy);
                        }
                        loaded.put(
                                key,
                                new Loaded(
                                        row.getLong(versionAt),
                                        row.getTimestamp(fromAt, 6).getMillisecond(),
                                        row.getString(operationAt).toString(),
                                        names,
                                        values));
                        count++;
                    }
                }
            }
        }
        if (restored || count == 0) {
            LOG.info(
                    "History table {}: {} open versions of this subtask's keys read",
                    route.history(),
                    count);
        } else {
            LOG.warn(
                    "History table {}: this job started without state and the table holds {} open "
                            + "versions of this subtask's keys. A snapshot row equal to its key's open "
                            + "version adds none; a row deleted while no job ran keeps its open version: "
                            + "once the snapshot is read, close those with the query under 'History "
                            + "tables' in docs/internals.md",
                    route.history(),
                    count);
        }
    }

    @Override
    protected void route(Tuple2<Long, ChangeEvent> element, RowSink sink) throws Exception {
        ChangeEvent change = element.f1;
        Route route = routes.get(change.table());
        if (route == null) {
            throw new IllegalStateException(
                    "a version of table '" + change.table() + "', which keeps no history table");
        }
        if (change.operation() == Operation.TRUNCATE) {
            truncate(route, change, sink);
            return;
        }
        HistoryRows history = fit(route, change);
        String key = (String) getCurrentKey();
        Prior prior = prior(history, key);
        String operation =
                change.operation() == Operation.READ
                        ? SNAPSHOT
                        : change.operation().name().toLowerCase(Locale.ROOT);
        long at = validFrom(element.f0, change);
        if (prior != null) {
            at = Math.max(at, prior.validFromMillis());
        }
        if (change.operation() == Operation.DELETE && prior != null && prior.gone()) {
            // nothing to close: the row is gone already
            return;
        }
        if (change.operation() == Operation.READ && prior != null && !prior.gone()) {
            GenericRowData read =
                    history.version(
                            change, key, prior.version(), prior.validFromMillis(), operation);
            if (history.sameRow(read, prior.row())) {
                // the source's row as this history holds it already: the version stays as it
                // is, with the position of the change that made it
                return;
            }
            if (SNAPSHOT.equals(prior.operation())) {
                // a snapshot row read again at a newer point of the log replaces the first read
                sink.write(route.history(), read);
                keep(
                        key,
                        new OpenVersion(
                                prior.version(), prior.validFromMillis(), SNAPSHOT, change));
                return;
            }
        }
        if (prior != null && prior.row() != null) {
            sink.write(route.history(), history.closed(prior.row(), at));
        }
        long number = prior == null ? 1 : prior.version() + 1;
        sink.write(route.history(), history.version(change, key, number, at, operation));
        keep(key, new OpenVersion(number, at, operation, change));
    }

    /**
     * Keeps {@code version} as the key's state (taking over from the version read at the start).
     */
    private void keep(String key, OpenVersion version) throws IOException {
        ChangeEvent change = version.change();
        if (change != null && change.operation() != Operation.DELETE && change.before() != null) {
            // the row is its after image; a delete's is its before image's key
            version =
                    new OpenVersion(
                            version.version(),
                            version.validFromMillis(),
                            version.operation(),
                            change.with(change.operation(), change.key(), null, change.after()));
        }
        open.update(version);
        loaded.remove(key);
    }

    /**
     * A key's newest version: its number, start and operation, and its row in the history table's
     * schema now ({@code row} null: none open, a truncate closed it).
     */
    private record Prior(long version, long validFromMillis, String operation, GenericRowData row) {

        /** Whether the row is gone: a delete version, or no open version. */
        boolean gone() {
            return row == null || !LIVE.contains(operation);
        }
    }

    /** The key's newest version, from its state or as read from the table; null: none. */
    private Prior prior(HistoryRows history, String key) throws IOException {
        OpenVersion state = open.value();
        if (state != null) {
            return new Prior(
                    state.version(),
                    state.validFromMillis(),
                    state.operation(),
                    state.change() == null
                            ? null
                            : history.version(
                                    state.change(),
                                    key,
                                    state.version(),
                                    state.validFromMillis(),
                                    state.operation()));
        }
        Loaded version = loaded.get(key);
        return version == null
                ? null
                : new Prior(
                        version.version(),
                        version.validFromMillis(),
                        version.operation(),
                        history.relaid(version.names(), version.values()));
    }

    /**
     * When a change's version begins: its event time under an event-time ordering (the source's
     * commit time under commit order), else the source's time of the change, else now.
     */
    private static long validFrom(long eventTime, ChangeEvent change) {
        if (eventTime != OrderingRule.NO_EVENT_TIME) {
            return eventTime;
        }
        return change.sourceTimeMillis() > 0
                ? change.sourceTimeMillis()
                : System.currentTimeMillis();
    }

    /**
     * Closes every open version of the truncated table that this subtask holds, at the truncate's
     * time: the keys keep their version numbers, with no open version.
     */
    private void truncate(Route route, ChangeEvent change, RowSink sink) throws Exception {
        HistoryRows history = rows.get(route.sourceTable());
        String prefix = change.table() + '\u0000';
        // collected first: the loop below updates the state it would iterate
        Set<String> keys = new LinkedHashSet<>();
        try (Stream<Object> stored =
                getKeyedStateBackend().getKeys(OPEN.getName(), VoidNamespace.INSTANCE)) {
            stored.map(String.class::cast).filter(k -> k.startsWith(prefix)).forEach(keys::add);
        }
        for (String key : loaded.keySet()) {
            if (key.startsWith(prefix)) {
                keys.add(key);
            }
        }
        long at = validFrom(OrderingRule.NO_EVENT_TIME, change);
        Object current = getCurrentKey();
        int closed = 0;
        try {
            for (String key : keys) {
                setCurrentKey(key);
                Prior prior = prior(history, key);
                if (prior == null || prior.gone()) {
                    continue;
                }
                long to = Math.max(at, prior.validFromMillis());
                sink.write(route.history(), history.closed(prior.row(), to));
                keep(key, new OpenVersion(prior.version(), to, TRUNCATE, null));
                closed++;
            }
        } finally {
            setCurrentKey(current);
        }
        LOG.info(
                "{} truncated at {}: {} open versions of {} closed",
                change.table(),
                change.position(),
                closed,
                route.history());
    }

    /**
     * The rows of {@code route}'s history table, after adding to it what {@code change} carries and
     * it lacks (a column the source added, a wider type), when the target evolves too.
     */
    private HistoryRows fit(Route route, ChangeEvent change) throws IOException {
        HistoryRows history = rows.get(route.sourceTable());
        if (!route.evolve() || change.after() == null) {
            return history;
        }
        List<SchemaChange> needed =
                SchemaChange.needed(
                        route.history(),
                        route.sourceTable(),
                        history.dataSchema(),
                        change.after(),
                        false);
        if (needed.isEmpty()) {
            return history;
        }
        Table table = catalog().loadTable(TableIdentifier.parse(route.history()));
        for (SchemaChange schemaChange : needed) {
            SchemaApplier.apply(table, schemaChange);
        }
        history =
                new HistoryRows(
                        route.sourceTable(), refreshSchema(route.history()), route.primaryKey());
        rows.put(route.sourceTable(), history);
        return history;
    }
}
