package io.tidemark.source;

import io.debezium.connector.mysql.MySqlPartition;
import io.debezium.jdbc.JdbcConnection;
import io.debezium.relational.TableId;
import io.debezium.relational.history.TableChanges;
import io.tidemark.catalog.SqlNames;
import io.tidemark.decode.BinlogOrder;
import io.tidemark.decode.BinlogPosition;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import io.tidemark.decode.GtidPosition;
import io.tidemark.decode.SourcePosition;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.flink.cdc.connectors.mysql.debezium.DebeziumUtils;
import org.apache.flink.cdc.connectors.mysql.debezium.reader.SnapshotSplitReader;
import org.apache.flink.cdc.connectors.mysql.schema.MySqlSchema;
import org.apache.flink.cdc.connectors.mysql.schema.MySqlTypeUtils;
import org.apache.flink.cdc.connectors.mysql.source.assigners.MySqlChunkSplitter;
import org.apache.flink.cdc.connectors.mysql.source.config.MySqlSourceConfig;
import org.apache.flink.cdc.connectors.mysql.source.offset.BinlogOffset;
import org.apache.flink.cdc.connectors.mysql.source.split.MySqlSnapshotSplit;
import org.apache.flink.cdc.connectors.mysql.source.split.SourceRecords;
import org.apache.flink.cdc.connectors.mysql.source.utils.RecordUtils;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;

/**
 * Re-reads one MySQL or MariaDB table while the pipeline runs ({@link Reread}): the log position is
 * the binlog's current end ({@code SHOW MASTER STATUS}); chunks are read exactly as the pipeline's
 * snapshot reads them (Flink CDC's chunk splitter and snapshot split reader: each chunk's rows are
 * merged with the binlog between its low and high watermarks, read with a binlog client id of its
 * own, {@link MySqlCdcSource#rereadServerId}), their rows placed at the chunk's high watermark less
 * one ({@link SourcePosition#resnapshotOfBinlog}). The binlog is written in commit order, so the
 * reconciler orders them against their keys' binlog changes by binlog place. On a source placed by
 * GTID ({@link BinlogOrder#GTID}) the same watermarks are read as GTID ordinals, the size of the
 * server's executed GTID set at each ({@link SourcePosition#resnapshotOfGtid}): a chunk holds every
 * transaction of that ordinal or below.
 */
final class MySqlReread {

    private MySqlReread() {}

    /** The chunks of {@link Reread#read} of a MySQL or MariaDB table ({@code database.table}). */
    static Reread.Chunks readChunks(Reread.Request read) throws Exception {
        // limited to keys: chunks without backfills (see Reread)
        MySqlSourceConfig config =
                MySqlCdcSource.rereadConfig(read.source(), read.sourceTable(), read.byKeys());
        String[] parts = read.sourceTable().split("\\.", 2);
        TableId tableId = new TableId(parts[0], null, parts[1]);
        Placement placement = new Placement(MySqlCdcSource.binlogOrder(read.source()));
        long lowWatermark;
        boolean caseSensitive;
        try (JdbcConnection jdbc = DebeziumUtils.openJdbcConnection(config)) {
            lowWatermark = placement.of(DebeziumUtils.currentBinlogOffset(jdbc));
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
                        placement.deletes(lowWatermark, read.byKeys(), read.number()),
                        read.byKeys() ? placement.rows(lowWatermark, read.number()) : null,
                        placement.describe(lowWatermark));
        MySqlPartition partition =
                new MySqlPartition(config.getMySqlConnectorConfig().getLogicalName());
        MySqlSchema schema = new MySqlSchema(config, caseSensitive);
        if (read.byKeys()) {
            try {
                for (MySqlSnapshotSplit split :
                        keyChunks(config, schema, partition, tableId, read)) {
                    read.checkRunning();
                    readChunk(config, split, decoder, read, chunks, placement);
                }
            } finally {
                schema.close();
            }
            return chunks;
        }
        MySqlChunkSplitter splitter = new MySqlChunkSplitter(schema, config);
        try {
            splitter.open();
            do {
                for (MySqlSnapshotSplit split : splitter.splitChunks(partition, tableId)) {
                    read.checkRunning();
                    readChunk(config, split, decoder, read, chunks, placement);
                }
            } while (splitter.hasNextChunk());
        } finally {
            splitter.close();
            schema.close();
        }
        return chunks;
    }

    /** The chunks of a re-read limited to keys ({@link RereadKeys#keyChunks}). */
    private static List<MySqlSnapshotSplit> keyChunks(
            MySqlSourceConfig config,
            MySqlSchema schema,
            MySqlPartition partition,
            TableId tableId,
            Reread.Request read)
            throws Exception {
        try (JdbcConnection jdbc = DebeziumUtils.openJdbcConnection(config)) {
            TableChanges.TableChange table = schema.getTableSchema(partition, jdbc, tableId);
            return RereadKeys.keyChunks(
                    jdbc.connection(),
                    SqlNames.BACKTICK,
                    read,
                    column ->
                            MySqlTypeUtils.fromDbzColumn(
                                            table.getTable().columnWithName(column),
                                            config.isTreatTinyInt1AsBoolean())
                                    .getLogicalType(),
                    (index, keyType, start, end) ->
                            new MySqlSnapshotSplit(
                                    tableId,
                                    index,
                                    keyType,
                                    start,
                                    end,
                                    null,
                                    Map.of(tableId, table)));
        }
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
            Reread.Chunks chunks,
            Placement placement)
            throws Exception {
        List<ChangeEvent> chunk = new ArrayList<>();
        long highWatermark = SourcePosition.UNKNOWN;
        long rows = 0;
        // a negative TIME under an hour gets back the sign the reader drops (MySqlTimeSigns)
        MySqlTimeSigns timeSigns = new MySqlTimeSigns();
        SnapshotSplitReader reader = new SnapshotSplitReader(config, 0, timeSigns.hooks());
        try {
            reader.submitSplit(split);
            Iterator<SourceRecords> batches;
            // one batch: [low watermark][the chunk's rows, merged with the backfill][high
            // watermark]
            while ((batches = reader.pollSplitRecords()) != null) {
                while (batches.hasNext()) {
                    for (SourceRecord record : batches.next().getSourceRecordList()) {
                        if (RecordUtils.isHighWatermarkEvent(record)) {
                            highWatermark = placement.of(RecordUtils.getWatermark(record));
                        } else if (!RecordUtils.isWatermarkEvent(record)) {
                            rows++;
                            timeSigns.restore(split.splitId(), record);
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
            timeSigns.forget(split.splitId());
        }
        if (highWatermark == SourcePosition.UNKNOWN) {
            throw new IllegalStateException(
                    "the re-read of chunk " + split.splitId() + " ended without a high watermark");
        }
        read.emit(chunk, chunks.rowsAt(placement.rows(highWatermark, read.number())));
        chunks.add(chunk.size(), rows, placement.describe(highWatermark));
    }

    /**
     * Where a re-read's changes stand in its source's order, from the binlog offsets of its
     * watermarks: by binlog place (file number and position), or by GTID ordinal (the size of the
     * executed GTID set). A re-read holds every change before its watermark: its rows are placed
     * just below the watermark's place, its deletes of keys the source no longer holds below them.
     */
    record Placement(BinlogOrder order) {

        /** The place of a watermark. */
        long of(BinlogOffset offset) {
            if (order != BinlogOrder.GTID) {
                return BinlogPosition.place(offset.getFilename(), offset.getPosition());
            }
            String executed = offset.getGtidSet();
            if (executed == null || executed.isBlank()) {
                throw new IllegalStateException(
                        "the source places changes by GTID, but the binlog offset "
                                + offset
                                + " read for a re-snapshot has no GTID set (gtid_mode turned off?)");
            }
            return GtidPosition.size(executed);
        }

        /**
         * Where the rows of a chunk whose high watermark is at {@code place} stand (or every row of
         * a re-read limited to keys, {@code place} being its low watermark): no binlog event starts
         * at the byte below a watermark; a GTID watermark holds its ordinal's transaction.
         */
        SourcePosition rows(long place, long request) {
            return order == BinlogOrder.GTID
                    ? SourcePosition.resnapshotOfGtid(place, 2, request)
                    : SourcePosition.resnapshotOfBinlog(place - 1, request);
        }

        /** Where the deletes of a re-read whose low watermark is at {@code place} stand. */
        SourcePosition deletes(long place, boolean byKeys, long request) {
            return order == BinlogOrder.GTID
                    ? SourcePosition.resnapshotOfGtid(place, 1, request)
                    // no binlog event starts at the two bytes below a watermark either
                    : SourcePosition.resnapshotOfBinlog(place - (byKeys ? 2 : 1), request);
        }

        String describe(long place) {
            return order == BinlogOrder.GTID
                    ? "gtid:" + place
                    : BinlogPosition.describe(new SourcePosition(place, 0, SourcePosition.UNKNOWN));
        }
    }
}
