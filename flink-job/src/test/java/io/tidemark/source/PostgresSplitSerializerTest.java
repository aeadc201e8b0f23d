package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.debezium.relational.TableId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.cdc.connectors.base.source.meta.split.FinishedSnapshotSplitInfo;
import org.apache.flink.cdc.connectors.base.source.meta.split.SnapshotSplit;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceSplitBase;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceSplitSerializer;
import org.apache.flink.cdc.connectors.base.source.meta.split.StreamSplit;
import org.apache.flink.cdc.connectors.postgres.source.offset.PostgresOffsetFactory;
import org.junit.jupiter.api.Test;

/**
 * Flink CDC 3.5 writes a finished chunk's table unquoted and cannot read back a name with a space
 * or a dot; {@link PostgresSplitSerializer} reads the same bytes back to the same tables, and the
 * chunks of such tables are named by split ids Flink CDC's enumerator can parse.
 */
class PostgresSplitSerializerTest {

    private static final PostgresOffsetFactory OFFSETS = new PostgresOffsetFactory();

    private static final List<TableId> TABLES =
            List.of(
                    new TableId(null, "public", "orders"),
                    new TableId(null, "public", "line items"),
                    new TableId(null, "public", "line.items"),
                    new TableId(null, "Shop Floor", "Q\"s"),
                    new TableId(null, "Sales", "Order-Lines"));

    private static final SourceSplitSerializer FLINK_CDC =
            new SourceSplitSerializer() {
                @Override
                public PostgresOffsetFactory getOffsetFactory() {
                    return OFFSETS;
                }
            };

    private static org.apache.flink.cdc.connectors.base.source.meta.offset.Offset lsn(long lsn) {
        return OFFSETS.newOffset(Map.of("lsn", Long.toString(lsn)));
    }

    /** A table id's parts (Debezium's {@code TableId.equals} compares the unquoted name). */
    private static List<String> parts(TableId table) {
        return java.util.Arrays.asList(table.catalog(), table.schema(), table.table());
    }

    private static List<FinishedSnapshotSplitInfo> finished() {
        return TABLES.stream()
                .map(
                        t ->
                                new FinishedSnapshotSplitInfo(
                                        t,
                                        t + ":0",
                                        new Object[] {1L},
                                        new Object[] {250L},
                                        lsn(12_345L),
                                        OFFSETS))
                .toList();
    }

    @Test
    void theLogSplitsFinishedChunksReadBackToTheirTables() throws Exception {
        StreamSplit split =
                new StreamSplit(
                        "stream-split",
                        lsn(100L),
                        OFFSETS.createNoStoppingOffset(),
                        finished(),
                        new HashMap<>(),
                        TABLES.size(),
                        false,
                        true);
        byte[] bytes = FLINK_CDC.serialize(split);
        // Flink CDC's own reading fails on the space
        assertThatThrownBy(() -> FLINK_CDC.deserialize(FLINK_CDC.getVersion(), bytes))
                .hasMessageContaining("Unexpected input");

        PostgresSplitSerializer tidemark = new PostgresSplitSerializer(OFFSETS);
        SourceSplitBase read = tidemark.deserialize(tidemark.getVersion(), bytes);
        assertThat(read.asStreamSplit().getFinishedSnapshotSplitInfos())
                .extracting(info -> parts(info.getTableId()))
                .containsExactlyElementsOf(TABLES.stream().map(t -> parts(t)).toList());
        assertThat(read.asStreamSplit().getFinishedSnapshotSplitInfos()).isEqualTo(finished());
        assertThat(read.asStreamSplit().getStartingOffset()).isEqualTo(lsn(100L));
        assertThat(read.asStreamSplit().isSnapshotCompleted()).isTrue();
        // and writes the same bytes Flink CDC writes
        assertThat(tidemark.serialize(read)).isEqualTo(bytes);
    }

    @Test
    void aFinishedChunkSentToAReaderReadsBackToItsTable() {
        PostgresSplitSerializer tidemark = new PostgresSplitSerializer(OFFSETS);
        for (FinishedSnapshotSplitInfo info : finished()) {
            FinishedSnapshotSplitInfo read = tidemark.deserialize(info.serialize());
            assertThat(read).isEqualTo(info);
            assertThat(parts(read.getTableId())).isEqualTo(parts(info.getTableId()));
        }
    }

    @Test
    void chunksOfTablesFlinkCdcCannotParseAreNamedQuoted() {
        Map<TableId, Boolean> readsBack = new HashMap<>();
        for (TableId table : TABLES) {
            readsBack.put(table, PostgresWholeTableSplitter.readsBack(table));
        }
        assertThat(readsBack)
                .containsEntry(TABLES.get(0), true)
                .containsEntry(TABLES.get(1), false)
                .containsEntry(TABLES.get(2), false)
                .containsEntry(TABLES.get(3), false)
                .containsEntry(TABLES.get(4), true);
        for (TableId table : TABLES.subList(1, 4)) {
            String id = PostgresWholeTableSplitter.splitId(table, 7);
            // what Flink CDC's enumerator does with a split id (its metrics)
            assertThat(SnapshotSplit.extractChunkId(id)).isEqualTo(7);
            TableId parsed = SnapshotSplit.extractTableId(id);
            assertThat(List.of(parsed.catalog(), parsed.table()))
                    .containsExactly(table.schema(), table.table());
            // Flink CDC's own split id does not read back: it fails, or names another table
            Object own;
            try {
                own = SnapshotSplit.extractTableId(SnapshotSplit.generateSplitId(table, 7));
            } catch (IllegalArgumentException e) {
                own = e;
            }
            assertThat(own instanceof TableId other ? parts(other) : own)
                    .isNotEqualTo(parts(table));
        }
    }
}
