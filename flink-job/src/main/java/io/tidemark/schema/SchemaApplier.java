package io.tidemark.schema;

import io.tidemark.metrics.SchemaMetrics;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.LiveTables;
import java.io.Closeable;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.flink.CatalogLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The schema stage: the one place the job changes an Iceberg table's schema while running, on one
 * subtask. A writer that meets a change its table's schema cannot take (one the contract gate
 * admitted under {@code schema-evolution: evolve} or {@code lenient}) sends what it needs ({@link
 * SchemaChange#needed}) here and waits until the table holds it; this applies each change the table
 * does not hold yet, one schema commit each. Writers read schemas; they never change them.
 *
 * <p>It also makes the Iceberg tables of tables created in the source while the job runs, asked by
 * the stage after the source ({@link LiveTableStage}) before their first change passes it ({@link
 * LiveTableCreation}): the one place such a table's columns and key are read from the source.
 *
 * <p>Applying is idempotent (a change the table holds is skipped), so the same change sent by
 * several writer subtasks, or again after a restore, is applied once. A schema change is not part
 * of a checkpoint: after a failure the table keeps it and the replayed changes find it in place.
 */
public final class SchemaApplier extends ProcessFunction<String, Void> {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(SchemaApplier.class);

    /** Attempts at one schema commit that loses to another commit (the committer's). */
    private static final int ATTEMPTS = 10;

    /** How long a writer, or the stage after the source, waits for this stage before it fails. */
    public static final java.time.Duration WAIT = java.time.Duration.ofMinutes(5);

    private final RunContext run;
    private final CatalogLoader catalogLoader;
    private final LiveTables live;

    private transient Catalog catalog;
    private transient SchemaMetrics metrics;

    public SchemaApplier(RunContext run, CatalogLoader catalogLoader) {
        this(run, catalogLoader, LiveTables.NONE);
    }

    /** The stage, also making the Iceberg tables of {@code live} tables when asked. */
    public SchemaApplier(RunContext run, CatalogLoader catalogLoader, LiveTables live) {
        this.run = run;
        this.catalogLoader = catalogLoader;
        this.live = live;
    }

    @Override
    public void open(OpenContext openContext) {
        run.enterLogContext();
        catalog = catalogLoader.loadCatalog();
        metrics = new SchemaMetrics(getRuntimeContext());
    }

    @Override
    public void processElement(String encoded, Context ctx, Collector<Void> out) {
        SchemaChange change = SchemaChange.decode(encoded);
        if (change.kind() == SchemaChange.Kind.CREATE) {
            if (LiveTableCreation.ensure(catalog, live, change.sourceTable())) {
                metrics.applied(change.sourceTable(), 1);
            }
            return;
        }
        // each request looks at the table again (requests are rare: a writer sends one when a
        // change needs what its schema lacks), so one the table lost since is applied again
        if (apply(catalog.loadTable(TableIdentifier.parse(change.target())), change)) {
            metrics.applied(change.sourceTable(), 1);
        }
    }

    /**
     * Applies {@code change} to {@code table} unless it holds it; true when this call committed it.
     */
    public static boolean apply(Table table, SchemaChange change) {
        for (int attempt = 1; ; attempt++) {
            table.refresh();
            if (change.heldBy(table.schema())) {
                return false;
            }
            UpdateSchema update = table.updateSchema();
            String what =
                    switch (change.kind()) {
                        case CREATE ->
                                throw new IllegalArgumentException(
                                        "a table is made by LiveTableCreation, not evolved: "
                                                + change);
                        case ADD -> {
                            update.addColumn(change.column(), change.type());
                            yield "added " + change.column() + " " + change.type();
                        }
                        case WIDEN -> {
                            update.updateColumn(change.column(), change.type());
                            yield "widened " + change.column() + " to " + change.type();
                        }
                        case OPTIONAL -> {
                            update.makeColumnOptional(change.column());
                            yield "made " + change.column() + " optional (no longer in the source)";
                        }
                    };
            try {
                update.commit();
                LOG.info("Evolved {} while running (schema-evolution): {}", table.name(), what);
                return true;
            } catch (CommitFailedException e) {
                // the committer committed meanwhile: look again
                if (attempt >= ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    @Override
    public void close() throws Exception {
        if (catalog instanceof Closeable closeable) {
            closeable.close();
        }
    }
}
