package io.tidemark.source;

import io.debezium.connector.mysql.MySqlPartition;
import io.debezium.jdbc.JdbcConnection;
import io.debezium.relational.TableId;
import io.tidemark.decode.BinlogOrder;
import io.tidemark.decode.BinlogPosition;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import io.tidemark.decode.SourcePosition;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.flink.cdc.connectors.mysql.debezium.DebeziumUtils;
import org.apache.flink.cdc.connectors.mysql.debezium.reader.SnapshotSplitReader;
import org.apache.flink.cdc.connectors.mysql.schema.MySqlSchema;
import org.apache.flink.cdc.connectors.mysql.source.assigners.MySqlChunkSplitter;
import org.apache.flink.cdc.connectors.mysql.source.config.MySqlSourceConfig;
import org.apache.flink.cdc.connectors.mysql.source.offset.BinlogOffset;
import org.apache.flink.cdc.connectors.mysql.source.split.MySqlSnapshotSplit;
import org.apache.flink.cdc.connectors.mysql.source.split.SourceRecords;
import org.apache.flink.cdc.connectors.mysql.source.utils.RecordUtils;
import org.apache.flink.cdc.connectors.mysql.source.utils.hooks.SnapshotPhaseHooks;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;

/**
 * Re-reads one MySQL or MariaDB table while the pipeline runs ({@link Reread}): the log position is
 * the binlog's current end ({@code SHOW MASTER STATUS}); chunks are read exactly as the pipeline's
 * snapshot reads them (Flink CDC's chunk splitter and snapshot split reader: each chunk's rows are
 * merged with the binlog between its low and high watermarks, read with a binlog client id of its
 * own, {@link MySqlCdcSource#rereadServerId}), their rows placed at the chunk's high watermark less
 * one ({@link SourcePosition#resnapshotOfBinlog}). The binlog is written in commit order, so the
 * reconciler orders them against their keys' binlog changes by binlog place. A source placed by
 * GTID is refused before ({@code ResnapshotSource#refusal}): a GTID ordinal does not compare with a
 * binlog place.
 */
final class MySqlReread {

    private MySqlReread() {}

    /** The chunks of {@link Reread#read} of a MySQL or MariaDB table ({@code database.table}). */
    static Reread.Chunks readChunks(Reread.Request read) throws Exception {
        MySqlSourceConfig config = MySqlCdcSource.rereadConfig(read.source(), read.sourceTable());
        String[] parts = read.sourceTable().split("\\.", 2);
        TableId tableId = new TableId(parts[0], null, parts[1]);
        long lowWatermark;
        boolean caseSensitive;
        try (JdbcConnection jdbc = DebeziumUtils.openJdbcConnection(config)) {
            lowWatermark = place(DebeziumUtils.currentBinlogOffset(jdbc));
            caseSensitive = DebeziumUtils.isTableIdCaseSensitive(jdbc);
        }
        DebeziumDecoder decoder =
                new DebeziumDecoder(
                        read.source().id(),
                        read.primaryKeys(),
                        LiveTables.NONE,
                        BinlogOrder.BINLOG_POSITION);
        Reread.Chunks chunks =
                new Reread.Chunks(
                        SourcePosition.resnapshotOfBinlog(lowWatermark - 1, read.number()),
                        describe(lowWatermark));
        MySqlPartition partition =
                new MySqlPartition(config.getMySqlConnectorConfig().getLogicalName());
        MySqlSchema schema = new MySqlSchema(config, caseSensitive);
        MySqlChunkSplitter splitter = new MySqlChunkSplitter(schema, config);
        try {
            splitter.open();
            do {
                for (MySqlSnapshotSplit split : splitter.splitChunks(partition, tableId)) {
                    read.checkRunning();
                    readChunk(config, split, decoder, read, chunks);
                }
            } while (splitter.hasNextChunk());
        } finally {
            splitter.close();
            schema.close();
        }
        return chunks;
    }

    /**
     * Reads one chunk with a reader of its own (Flink CDC 3.5's reader backfills one chunk only:
     * its binlog task's context, once stopped, stays stopped); emits its rows placed at its high
     * watermark less one.
     */
    private static void readChunk(
            MySqlSourceConfig config,
            MySqlSnapshotSplit split,
            DebeziumDecoder decoder,
            Reread.Request read,
            Reread.Chunks chunks)
            throws Exception {
        List<ChangeEvent> chunk = new ArrayList<>();
        long highWatermark = SourcePosition.UNKNOWN;
        SnapshotSplitReader reader = new SnapshotSplitReader(config, 0, SnapshotPhaseHooks.empty());
        try {
            reader.submitSplit(split);
            Iterator<SourceRecords> batches;
            // one batch: [low watermark][the chunk's rows, merged with the backfill][high
            // watermark]
            while ((batches = reader.pollSplitRecords()) != null) {
                while (batches.hasNext()) {
                    for (SourceRecord record : batches.next().getSourceRecordList()) {
                        if (RecordUtils.isHighWatermarkEvent(record)) {
                            highWatermark = place(RecordUtils.getWatermark(record));
                        } else if (!RecordUtils.isWatermarkEvent(record)) {
                            ChangeEvent change = decoder.decode(record);
                            if (read.keeps(change)) {
                                chunk.add(change);
                            }
                        }
                    }
                }
            }
        } finally {
            reader.close();
        }
        if (highWatermark == SourcePosition.UNKNOWN) {
            throw new IllegalStateException(
                    "the re-read of chunk " + split.splitId() + " ended without a high watermark");
        }
        read.emit(chunk, SourcePosition.resnapshotOfBinlog(highWatermark - 1, read.number()));
        chunks.add(chunk.size(), describe(highWatermark));
    }

    private static long place(BinlogOffset offset) {
        return BinlogPosition.place(offset.getFilename(), offset.getPosition());
    }

    private static String describe(long place) {
        return BinlogPosition.describe(new SourcePosition(place, 0, SourcePosition.UNKNOWN));
    }
}
