package io.tidemark.schema;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.LiveTables;
import java.io.InterruptedIOException;
import java.util.HashSet;
import java.util.Set;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stage after the source when patterns capture tables created while the job runs ({@link
 * LiveTables}): the first change of such a table waits here until its Iceberg table is made, which
 * it asks the schema stage for ({@link SchemaApplier}, through {@link #REQUESTS}). So every
 * operator after it (the contract gate, the key splitter, the writers) finds the table's columns
 * and key in the catalog, and none reads them from the source. Other changes pass untouched; a
 * table is waited for once per subtask.
 */
public final class LiveTableStage extends ProcessFunction<ChangeEvent, ChangeEvent> {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(LiveTableStage.class);

    /** The tables to make, to the schema stage. */
    public static final OutputTag<String> REQUESTS = new OutputTag<>("live-tables", Types.STRING);

    private final RunContext run;
    private final LiveTables live;

    /** The live tables whose Iceberg tables this subtask found made. */
    private transient Set<String> made;

    public LiveTableStage(RunContext run, LiveTables live) {
        this.run = run;
        this.live = live;
    }

    @Override
    public void open(OpenContext openContext) {
        run.enterLogContext();
        made = new HashSet<>();
    }

    @Override
    public void processElement(ChangeEvent change, Context ctx, Collector<ChangeEvent> out)
            throws Exception {
        String table = change.table();
        // a malformed change (a keyless table's among them) goes to quarantine as it is
        if (change.operation() != Operation.MALFORMED
                && table != null
                && !made.contains(table)
                && live.captures(table)) {
            await(table, ctx);
            made.add(table);
        }
        out.collect(change);
    }

    /**
     * Asks for live table {@code table}'s Iceberg table and waits until it is made (re-reading the
     * catalog with a growing pause, up to {@link SchemaApplier#WAIT}).
     */
    private void await(String table, Context ctx) throws InterruptedIOException {
        if (live.table(table).isPresent()) {
            return;
        }
        ctx.output(REQUESTS, SchemaChange.create(live.target(table).toString(), table).encode());
        LOG.info(
                "Table {}, created in the source while the job runs: waiting for its Iceberg "
                        + "table {}",
                table,
                live.target(table));
        long deadline = System.nanoTime() + SchemaApplier.WAIT.toNanos();
        long pauseMillis = 5;
        while (live.table(table).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(
                        String.format(
                                "table %s, created in the source while the job runs: the schema "
                                        + "stage did not make its Iceberg table %s within %s; its "
                                        + "log (operator 'schema changes') says why",
                                table, live.target(table), SchemaApplier.WAIT));
            }
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("waiting for the Iceberg table of " + table);
            }
            pauseMillis = Math.min(pauseMillis * 2, 500);
        }
    }
}
