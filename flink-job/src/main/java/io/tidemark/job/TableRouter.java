package io.tidemark.job;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.metrics.RouterMetrics;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.RowDataConverter;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.table.data.RowData;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Routes each change to its target table's output as the rows that table's writer applies.
 * Stateless; chained to the source, so the order of one key's changes is kept up to the writer's
 * key-hashed exchange.
 *
 * <ul>
 *   <li>a change for a configured table goes, converted by that table's {@link RowDataConverter},
 *       to that table's side output;
 *   <li>a change for any other table fails the job with the table's name (the source only captures
 *       configured tables, so this is a bug, not data);
 *   <li>nothing is emitted on the main output.
 * </ul>
 */
public final class TableRouter extends ProcessFunction<ChangeEvent, ChangeEvent> {

    private static final long serialVersionUID = 1L;

    private final RunContext run;
    private final Map<String, Route> routes;

    private transient Map<String, RouterMetrics> metrics;

    /** Where the changes of one source table go. */
    public record Route(String sourceTable, OutputTag<RowData> output, RowDataConverter converter)
            implements java.io.Serializable {}

    public TableRouter(RunContext run, Map<String, Route> routes) {
        this.run = run;
        this.routes = Map.copyOf(routes);
    }

    @Override
    public void open(OpenContext openContext) {
        run.enterLogContext();
        metrics = new HashMap<>();
        for (String table : routes.keySet()) {
            metrics.put(table, new RouterMetrics(getRuntimeContext(), table));
        }
    }

    @Override
    public void processElement(ChangeEvent event, Context ctx, Collector<ChangeEvent> out) {
        Route route = routes.get(event.table());
        if (route == null) {
            throw new IllegalStateException(
                    "change for table '" + event.table() + "' which the pipeline does not capture");
        }
        RouterMetrics tableMetrics = metrics.get(event.table());
        tableMetrics.changeIn(event.sourceTimeMillis());
        route.converter()
                .convert(
                        event,
                        row -> {
                            tableMetrics.rowOut();
                            ctx.output(route.output(), row);
                        });
    }
}
