package io.tidemark.commit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ConsistentPoints} on a real Iceberg table: a point per checkpoint that changed a table,
 * published once across a restore, its id continuing across a new lineage, the points of another
 * pipeline in the same table left alone, and old points removed beyond {@code retain}.
 */
class ConsistentPointsTest {

    private static final TableIdentifier POINTS = TableIdentifier.of("ns", "tidemark_points");

    @TempDir Path warehouse;

    private HadoopCatalog catalog;

    @BeforeEach
    void createTable() {
        catalog =
                new HadoopCatalog(
                        new org.apache.hadoop.conf.Configuration(), warehouse.toUri().toString());
        ConsistentPoints.ensure(catalog, POINTS);
    }

    /** {@code pipeline -> point id -> (checkpoint, table -> snapshot)}, as rows say. */
    private Map<Long, Map<String, Long>> points(String pipeline) throws IOException {
        Map<Long, Map<String, Long>> points = new TreeMap<>();
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(catalog.loadTable(POINTS)).build()) {
            for (Record row : rows) {
                if (row.getField("pipeline_id").equals(pipeline)) {
                    points.computeIfAbsent((Long) row.getField("point_id"), id -> new HashMap<>())
                            .put(
                                    (String) row.getField("table_name"),
                                    (Long) row.getField("snapshot_id"));
                }
            }
        }
        return points;
    }

    private static Map<String, Long> snapshots(Long a, Long b) {
        Map<String, Long> snapshots = new TreeMap<>();
        snapshots.put("ns.a", a);
        snapshots.put("ns.b", b);
        return snapshots;
    }

    @Test
    void aPointPerCheckpointThatChangedATableOnceAcrossARestore() throws IOException {
        ConsistentPoints points = new ConsistentPoints(catalog, POINTS, "p", 1_000);
        points.publish("l1", 1, snapshots(null, 10L), "{}", "none");
        points.publish("l1", 2, snapshots(11L, 10L), "{}", "none");
        // a checkpoint that changed nothing: the last point holds
        points.publish("l1", 3, snapshots(11L, 10L), "{}", "none");
        assertThat(points("p")).containsOnlyKeys(1L, 2L);
        assertThat(points("p").get(1L)).isEqualTo(snapshots(null, 10L));
        assertThat(catalog.loadTable(POINTS).properties())
                .containsEntry(ConsistentPoints.throughKey("p"), "l1 2 2")
                .containsEntry(TableProperties.DEFAULT_WRITE_METRICS_MODE, "full");

        // a restore commits checkpoint 2 again: its point is there already
        ConsistentPoints restored = new ConsistentPoints(catalog, POINTS, "p", 1_000);
        restored.publish("l1", 2, snapshots(11L, 10L), "{}", "none");
        restored.publish("l1", 4, snapshots(12L, 10L), "{}", "none");
        // a fresh start: a new lineage whose checkpoint ids begin again, the point ids go on
        ConsistentPoints fresh = new ConsistentPoints(catalog, POINTS, "p", 1_000);
        fresh.publish("l2", 1, snapshots(20L, 21L), "{}", "none");
        assertThat(points("p")).containsOnlyKeys(1L, 2L, 3L, 4L);
        assertThat(points("p").get(4L)).isEqualTo(snapshots(20L, 21L));
    }

    @Test
    void pointsBeyondRetainGoOtherPipelinesStay() throws IOException {
        ConsistentPoints other = new ConsistentPoints(catalog, POINTS, "other-pipeline-id", 5);
        other.publish("o", 1, snapshots(1L, 1L), "{}", "none");
        ConsistentPoints points = new ConsistentPoints(catalog, POINTS, "p", 5);
        for (long checkpoint = 1; checkpoint <= ConsistentPoints.TIDY_EVERY; checkpoint++) {
            points.publish("l", checkpoint, snapshots(checkpoint, 1L), "{}", "none");
        }
        List<Long> kept = new ArrayList<>(points("p").keySet());
        assertThat(kept).containsExactly(96L, 97L, 98L, 99L, 100L);
        assertThat(points("other-pipeline-id")).containsOnlyKeys(1L);
        Table table = catalog.loadTable(POINTS);
        int snapshots = 0;
        for (var ignored : table.snapshots()) {
            snapshots++;
        }
        assertThat(snapshots).isLessThanOrEqualTo(10);
    }
}
