package io.tidemark.source.resnapshot;

import io.tidemark.source.ColumnDefaults;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.flink.CatalogLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source's column defaults, and their backfill by a re-snapshot: when a column is added with a
 * default to a table of one source, a re-snapshot of it is requested, so the rows that existed
 * before get the default in Iceberg too. A request made by several gate subtasks at once is read
 * once: the coordinator takes a table's newest request at each look.
 */
public final class ResnapshotBackfill implements ColumnDefaults.Lookup {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(ResnapshotBackfill.class);

    private final ColumnDefaults.Lookup defaults;
    private final Map<String, String> targets;
    private final CatalogLoader catalog;

    /**
     * @param targets source table to target, of the tables fed by one source
     */
    public ResnapshotBackfill(
            ColumnDefaults.Lookup defaults, Map<String, String> targets, CatalogLoader catalog) {
        this.defaults = defaults;
        this.targets = Map.copyOf(targets);
        this.catalog = catalog;
    }

    @Override
    public Optional<String> defaultOf(String source, String table, String column) {
        return defaults.defaultOf(source, table, column);
    }

    @Override
    public boolean rereadable(String table) {
        return targets.containsKey(table);
    }

    @Override
    public boolean backfill(String source, String table, String column) {
        String target = targets.get(table);
        if (target == null) {
            return false;
        }
        Catalog loaded = null;
        try {
            loaded = catalog.loadCatalog();
            long request =
                    ResnapshotRequests.request(loaded.loadTable(TableIdentifier.parse(target)));
            LOG.info(
                    "Re-snapshot {} of {} requested: column '{}' was added with a default",
                    request,
                    target,
                    column);
            return true;
        } catch (RuntimeException e) {
            // then the job stops and says how to fix the rows: never a restart loop
            LOG.warn("Could not request a re-snapshot of {}: {}", target, e.toString());
            return false;
        } finally {
            if (loaded instanceof java.io.Closeable closeable) {
                try {
                    closeable.close();
                } catch (java.io.IOException e) {
                    LOG.debug("Closing the catalog failed", e);
                }
            }
        }
    }
}
