package io.tidemark.job;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.runtime.RunContext;
import java.util.List;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Before a job that removes orphan files ({@code maintenance.orphan-files.every}): an empty
 * snapshot on every table it maintains that has none. Iceberg's orphan-file removal (1.11.0, {@code
 * ListMetadataFiles}) names a table's metadata files as used only for a table with a snapshot, so
 * of a table without one, such as the quarantine of unrouted changes while nothing is quarantined,
 * it removed the only {@code metadata.json} once older than the minimum age, and the table could no
 * longer be loaded. A table that has a snapshot keeps one: expiry always keeps the current one.
 */
final class FirstSnapshots {

    private static final Logger LOG = LoggerFactory.getLogger(FirstSnapshots.class);

    private FirstSnapshots() {}

    /** Commits an empty snapshot to each of {@code tables} that has none. */
    static void giveEach(Catalog catalog, List<TableIdentifier> tables, RunContext run) {
        for (TableIdentifier name : tables) {
            Table table = catalog.loadTable(name);
            if (table.currentSnapshot() != null) {
                continue;
            }
            table.newAppend()
                    .set(
                            Provenance.FIRST_SNAPSHOT,
                            "empty: orphan-file removal keeps the metadata of tables with a"
                                    + " snapshot only")
                    .set(Provenance.RUN_ID, run.runId())
                    .set(Provenance.CODE_VERSION, run.codeVersion())
                    .commit();
            LOG.info(
                    "{} had no snapshot: committed an empty one, so that orphan-file removal keeps"
                            + " its metadata",
                    name);
        }
    }
}
