package io.tidemark.schema;

import io.tidemark.catalog.TableLayout;
import io.tidemark.catalog.TableManager;
import io.tidemark.catalog.TableSpec;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.source.LiveTables;
import io.tidemark.source.SourceDialect;
import java.sql.Connection;
import java.sql.SQLException;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the Iceberg table of a table created in the source while the job runs ({@link LiveTables}),
 * on the schema stage ({@link SchemaApplier}), the one place its columns and key are read from the
 * source: from its columns as the source has them then, laid out as its pattern says (unpartitioned
 * and unsorted where the pattern names a column it lacks), its key in the source's order recorded
 * as {@link LiveTables#KEY_PROPERTY}. Every operator after the stage that follows the source
 * ({@link LiveTableStage}) reads the table from the catalog.
 */
final class LiveTableCreation {

    private static final Logger LOG = LoggerFactory.getLogger(LiveTableCreation.class);

    private LiveTableCreation() {}

    /**
     * Makes live table {@code sourceTable}'s Iceberg table unless it is made and its key recorded;
     * true when this call did either.
     */
    static boolean ensure(Catalog catalog, LiveTables live, String sourceTable) {
        if (catalog.tableExists(live.target(sourceTable))
                && catalog.loadTable(live.target(sourceTable))
                                .properties()
                                .get(LiveTables.KEY_PROPERTY)
                        != null) {
            return false;
        }
        TableConfig entry = live.entry(sourceTable);
        TableSpec spec = read(live.source(sourceTable), entry, sourceTable);
        TableLayout layout = entry.layout().fitting(spec.schema(), spec.primaryKey());
        if (!layout.equals(entry.layout())) {
            LOG.warn(
                    "Table {}, created in the source while the job runs, lacks a column its pattern's "
                            + "partition-by or sort-order names among its key {} or columns: made unpartitioned "
                            + "and unsorted ({})",
                    sourceTable,
                    spec.primaryKey(),
                    entry.layout());
        }
        // its columns may lag the source's (a column added since the table was made, by an
        // earlier attempt of this): the schema evolution adds them when a change carries them,
        // or the gate holds such changes back (quarantine, fail)
        Table table = new TableManager(catalog).ensure(spec, layout, true);
        table.updateProperties()
                .set(LiveTables.KEY_PROPERTY, LiveTables.encodeKey(spec.primaryKey()))
                .commit();
        LOG.info(
                "Table {}, created in the source while the job runs, is captured into {} (key {})",
                sourceTable,
                spec.identifier(),
                spec.primaryKey());
        return true;
    }

    private static TableSpec read(SourceConfig source, TableConfig entry, String sourceTable) {
        SourceDialect dialect = SourceDialect.of(source);
        try (Connection connection = dialect.connect()) {
            return dialect.readSchema(connection, entry);
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "cannot read the schema of table '"
                            + sourceTable
                            + "', created while the job runs, from source '"
                            + source.id()
                            + "': "
                            + e.getMessage(),
                    e);
        }
    }
}
