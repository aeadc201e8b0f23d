package io.tidemark.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.awaitility.Awaitility;

/**
 * The check of a fresh start that keeps the tables serving ({@code run --fresh --keep-serving}):
 * noted before it starts, per target, the keys ({@code id}) the table holds that its source holds
 * too, and its newest snapshot; then every commit until each table's re-read is recorded done must
 * hold all of them (no table refills) and replace nothing.
 */
public final class KeptServing {

    private final Map<TableIdentifier, Set<Object>> served = new HashMap<>();
    private final Map<TableIdentifier, Long> last = new HashMap<>();

    private KeptServing() {}

    /** Notes {@code targets} (source table to target) before the start. */
    public static KeptServing note(
            Catalog catalog, Connection source, Map<String, TableIdentifier> targets)
            throws IOException, SQLException {
        KeptServing kept = new KeptServing();
        for (Map.Entry<String, TableIdentifier> entry : targets.entrySet()) {
            Table table = catalog.loadTable(entry.getValue());
            long current = table.currentSnapshot().snapshotId();
            Set<Object> held = keys(table, current);
            held.retainAll(sourceKeys(source, entry.getKey()));
            assertThat(held).as("rows of %s the source holds too", entry.getValue()).isNotEmpty();
            kept.served.put(entry.getValue(), held);
            kept.last.put(entry.getValue(), current);
        }
        return kept;
    }

    /**
     * Waits until every noted table's re-snapshot is recorded done, then checks each commit since
     * the note.
     */
    public void awaitRereadAndCheck(
            Catalog catalog, GroundTruth.RunningCheck running, Duration timeout)
            throws IOException {
        Awaitility.await("every table read again")
                .atMost(timeout)
                .until(
                        () -> {
                            running.assertRunning();
                            for (TableIdentifier target : served.keySet()) {
                                Table table = catalog.loadTable(target);
                                if (ResnapshotRequests.completed(table)
                                        < ResnapshotRequests.requested(table)) {
                                    return false;
                                }
                            }
                            return true;
                        });
        for (TableIdentifier target : served.keySet()) {
            Table table = catalog.loadTable(target);
            assertThat(table.properties().get(ResnapshotRequests.COMPLETED)).contains(" done: ");
            int commits = 0;
            for (Snapshot snapshot = table.currentSnapshot();
                    snapshot.snapshotId() != last.get(target);
                    snapshot = table.snapshot(snapshot.parentId())) {
                commits++;
                assertThat(snapshot.summary()).doesNotContainKey(Provenance.REPLACED_FILES);
                Set<Object> missing = new HashSet<>(served.get(target));
                missing.removeAll(keys(table, snapshot.snapshotId()));
                assertThat(missing)
                        .as(
                                "rows of %s the source holds that snapshot %d no longer served",
                                target, snapshot.snapshotId())
                        .isEmpty();
            }
            assertThat(commits).as("commits to %s while it was read again", target).isPositive();
        }
    }

    /** The {@code id}s {@code table} holds at {@code snapshot}. */
    private static Set<Object> keys(Table table, long snapshot) throws IOException {
        Set<Object> keys = new HashSet<>();
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(table).useSnapshot(snapshot).select("id").build()) {
            rows.forEach(row -> keys.add(row.getField("id")));
        }
        return keys;
    }

    /** The {@code id}s of source table {@code table}. */
    private static Set<Object> sourceKeys(Connection source, String table) throws SQLException {
        Set<Object> keys = new HashSet<>();
        try (Statement sql = source.createStatement();
                ResultSet rs = sql.executeQuery("SELECT id FROM " + table)) {
            while (rs.next()) {
                keys.add(rs.getObject(1));
            }
        }
        return keys;
    }
}
