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
        // limited to keys: chunks without backfills (see Reread)
        MySqlSourceConfig config =
                MySqlCdcSource.rereadConfig(read.source(), read.sourceTable(), read.byKeys());
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
        // no event starts at the two bytes below the low watermark (a binlog event is longer)
        Reread.Chunks chunks =
                new Reread.Chunks(
                        SourcePosition.resnapshotOfBinlog(
                                lowWatermark - (read.byKeys() ? 2 : 1), read.number()),
                        read.byKeys()
                                ? SourcePosition.resnapshotOfBinlog(lowWatermark - 1, read.number())
                                : null,
                        describe(lowWatermark));
        MySqlPartition partition =
                new MySqlPartition(config.getMySqlConnectorConfig().getLogicalName());
        MySqlSchema schema = new MySqlSchema(config, caseSensitive);
        if (read.byKeys()) {
            try {
                for (MySqlSnapshotSplit split :
                        keyChunks(config, schema, partition, tableId, read)) {
                    read.checkRunning();
                    readChunk(config, split, decoder, read, chunks);
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
                    readChunk(config, split, decoder, read, chunks);
                }
            } while (splitter.hasNextChunk());
        } finally {
            splitter.close();
            schema.close();
        }
        return chunks;
    }

    /** The chunks of a re-read limited to keys ({@link Reread#keyChunks}). */
    private static List<MySqlSnapshotSplit> keyChunks(
            MySqlSourceConfig config,
            MySqlSchema schema,
            MySqlPartition partition,
            TableId tableId,
            Reread.Request read)
            throws Exception {
        try (JdbcConnection jdbc = DebeziumUtils.openJdbcConnection(config)) {
            TableChanges.TableChange table = schema.getTableSchema(partition, jdbc, tableId);
            return Reread.keyChunks(
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
            Reread.Chunks chunks)
            throws Exception {
        List<ChangeEvent> chunk = new ArrayList<>();
        long highWatermark = SourcePosition.UNKNOWN;
        long rows = 0;
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
                            rows++;
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
        read.emit(
                chunk,
                chunks.rowsAt(SourcePosition.resnapshotOfBinlog(highWatermark - 1, read.number())));
        chunks.add(chunk.size(), rows, describe(highWatermark));
    }

    private static long place(BinlogOffset offset) {
        return BinlogPosition.place(offset.getFilename(), offset.getPosition());
    }

    private static String describe(long place) {
        return BinlogPosition.describe(new SourcePosition(place, 0, SourcePosition.UNKNOWN));
    }
}
