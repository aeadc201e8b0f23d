package io.tidemark.commit;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.metrics.WriterMetrics;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.RowDataConverter;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.flink.CatalogLoader;

/**
 * Writes reconciled changes into their target tables with upsert semantics. Runs right after the
 * reconciler on the same partitioning (by table and key), so all changes of a key meet one writer
 * in reconciled order without another exchange.
 *
 * <ul>
 *   <li>a change for a configured table becomes that table's rows ({@link RowDataConverter});
 *   <li>a change for any other table fails the job with the table's name (the source only captures
 *       configured tables, so this is a bug, not data).
 * </ul>
 */
public final class ChangeWriter extends FilesWriter<ChangeEvent> {

    private static final long serialVersionUID = 1L;

    /** Where the changes of one source table go. */
    public record Route(String sourceTable, String target, RowDataConverter converter)
            implements Serializable {}

    private final RunContext run;
    private final Map<String, Route> routes;

    private transient Map<String, WriterMetrics> metrics;

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
        for (String table : routes.keySet()) {
            metrics.put(table, new WriterMetrics(getRuntimeContext(), table));
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
        route.converter()
                .convert(
                        change,
                        row -> {
                            tableMetrics.rowOut();
                            try {
                                sink.write(target, row);
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        });
    }
}
