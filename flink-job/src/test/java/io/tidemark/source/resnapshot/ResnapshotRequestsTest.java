package io.tidemark.source.resnapshot;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a re-snapshot's outcome is recorded on its table: one source, or each of several. */
class ResnapshotRequestsTest {

    @TempDir Path warehouse;

    private Table table;

    @BeforeEach
    void createTable() {
        HadoopCatalog catalog =
                new HadoopCatalog(
                        new org.apache.hadoop.conf.Configuration(), warehouse.toUri().toString());
        table =
                catalog.createTable(
                        TableIdentifier.of("ns", "t"),
                        new Schema(Types.NestedField.required(1, "id", Types.LongType.get())));
    }

    @Test
    void aTableOfOneSourceRecordsItsOutcomeAtOnce() {
        long request = ResnapshotRequests.request(table);
        String outcome = request + " done: 10 rows re-read";
        assertThat(ResnapshotRequests.record(table, outcome, "only", List.of())).isEqualTo(outcome);
        table.refresh();
        assertThat(ResnapshotRequests.completed(table)).isEqualTo(request);
        assertThat(table.properties()).doesNotContainKey(ResnapshotRequests.completedBy("only"));
    }

    @Test
    void aMergedTableIsDoneOnlyWhenEverySourceIsAndFailedWhenAnyFailed() {
        List<String> sources = List.of("shard_a", "shard_b");
        long first = ResnapshotRequests.request(table);
        assertThat(
                        ResnapshotRequests.record(
                                table, first + " done: 10 rows re-read", "shard_b", sources))
                .as("shard_a has not read its part yet")
                .isNull();
        table.refresh();
        assertThat(ResnapshotRequests.completed(table))
                .as("a merged table is not re-read until every source read it")
                .isEqualTo(-1);
        assertThat(
                        ResnapshotRequests.record(
                                table, first + " done: 7 rows re-read", "shard_a", sources))
                .isEqualTo(
                        first
                                + " done: shard_a: done: 7 rows re-read; shard_b: done: 10 rows re-read");
        table.refresh();
        assertThat(ResnapshotRequests.completed(table)).isEqualTo(first);

        // the next request: one source's part failed, so the whole failed, whatever order
        long second = ResnapshotRequests.request(table);
        assertThat(ResnapshotRequests.record(table, second + " done: 7 rows", "shard_a", sources))
                .isNull();
        String failed =
                ResnapshotRequests.record(
                        table, second + " failed: java.sql.SQLException: gone", "shard_b", sources);
        assertThat(failed)
                .isEqualTo(
                        second
                                + " failed: shard_a: done: 7 rows; shard_b: failed:"
                                + " java.sql.SQLException: gone");
        table.refresh();
        assertThat(ResnapshotRequests.completed(table)).isEqualTo(second);
    }
}
