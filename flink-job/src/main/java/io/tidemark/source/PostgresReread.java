package io.tidemark.source;

import io.debezium.connector.postgresql.connection.PostgresConnection;
import io.debezium.relational.TableId;
import io.debezium.relational.history.TableChanges;
import io.tidemark.catalog.SqlNames;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import io.tidemark.decode.SourcePosition;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.flink.cdc.connectors.base.source.assigner.splitter.ChunkSplitter;
import org.apache.flink.cdc.connectors.base.source.meta.split.SnapshotSplit;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceRecords;
import org.apache.flink.cdc.connectors.base.source.meta.wartermark.WatermarkEvent;
import org.apache.flink.cdc.connectors.base.source.reader.external.IncrementalSourceScanFetcher;
import org.apache.flink.cdc.connectors.base.source.reader.external.JdbcSourceFetchTaskContext;
import org.apache.flink.cdc.connectors.postgres.source.config.PostgresSourceConfig;
import org.apache.flink.cdc.connectors.postgres.source.utils.PostgresTypeUtils;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;

/**
 * Re-reads one Postgres table while the pipeline runs ({@link Reread}): the log position is the WAL
 * insert position; chunks are read exactly as the pipeline's snapshot reads them (Flink CDC's chunk
 * reader with Tidemark's hand-over, {@link SnapshotHandOver}, on a backfill slot of its own), their
 * rows placed at the chunk's high watermark less one ({@link SourcePosition#resnapshot}). Per key,
 * LSN order is commit order (a row's changes are written under its row lock), so the reconciler
 * orders them against the key's log changes by change LSN.
 */
final class PostgresReread {

    private PostgresReread() {}

    /**
     * The slot the re-read's chunk backfills use (with {@code _0} appended): the pipeline's own
     * name, shortened to fit Postgres' 63 characters, and {@code _resnap}.
     */
    static String slotName(SourceConfig source) {
        String slot = source.slotName();
        return (slot.length() > 54 ? slot.substring(0, 54) : slot) + "_resnap";
    }

    /** The chunks of {@link Reread#read} of a Postgres table ({@code schema.table}). */
    static Reread.Chunks readChunks(Reread.Request read) throws Exception {
        SourceConfig source = read.source();
        String sourceTable = read.sourceTable();
        // limited to keys: chunks without backfills (see Reread), so without a slot
        PostgresSourceConfig config =
                (PostgresSourceConfig)
                        PostgresCdcSource.configFactory(
                                        source, List.of(sourceTable), slotName(source))
                                .skipSnapshotBackfill(read.byKeys())
                                .create(0);
        PostgresHandOverDialect dialect = new PostgresHandOverDialect(config);
        long lowWatermark;
        TableId tableId;
        List<SnapshotSplit> keyChunks = null;
        try (PostgresConnection jdbc = (PostgresConnection) dialect.openJdbcConnection(config)) {
            lowWatermark = PostgresWal.insertPosition(jdbc.connection()).getLsn().asLong();
            tableId = tableId(dialect, config, sourceTable);
            if (read.byKeys()) {
                // every change below the low watermark committed before the key scan (Reread)
                PostgresWal.awaitTransactionsOpenNow(
                        jdbc.connection(),
                        read.running(),
                        "re-snapshot " + read.number() + " of " + sourceTable);
                keyChunks = keyChunks(dialect, jdbc, tableId, read);
            }
        }
        DebeziumDecoder decoder = new DebeziumDecoder(source.id(), read.primaryKeys());
        // no change starts at the two bytes below the low watermark (a WAL record is longer)
        Reread.Chunks chunks =
                new Reread.Chunks(
                        SourcePosition.resnapshot(
                                lowWatermark - (read.byKeys() ? 2 : 1), read.number()),
                        read.byKeys()
                                ? SourcePosition.resnapshot(lowWatermark - 1, read.number())
                                : null,
                        SourcePosition.lsn(lowWatermark));
        JdbcSourceFetchTaskContext context = dialect.createFetchTaskContext(config);
        IncrementalSourceScanFetcher fetcher = new IncrementalSourceScanFetcher(context, 0);
        if (keyChunks != null) {
            try {
                for (SnapshotSplit split : keyChunks) {
                    read.checkRunning();
                    readChunk(fetcher, dialect, split, decoder, read, chunks);
                }
            } finally {
                fetcher.close();
            }
            return chunks;
        }
        ChunkSplitter splitter = dialect.createChunkSplitter(config);
        try {
            splitter.open();
            do {
                Collection<SnapshotSplit> splits = splitter.generateSplits(tableId);
                for (SnapshotSplit split : splits) {
                    read.checkRunning();
                    readChunk(fetcher, dialect, split, decoder, read, chunks);
                }
            } while (splitter.hasNextChunk());
        } finally {
            fetcher.close();
            splitter.close();
        }
        return chunks;
    }

    private static TableId tableId(
            PostgresHandOverDialect dialect, PostgresSourceConfig config, String sourceTable) {
        return dialect.discoverDataCollections(config).stream()
                .filter(id -> (id.schema() + "." + id.table()).equals(sourceTable))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalStateException(
                                        "table "
                                                + sourceTable
                                                + " is not in the source's publication"));
    }

    /** The chunks of a re-read limited to keys ({@link RereadKeys#keyChunks}). */
    private static List<SnapshotSplit> keyChunks(
            PostgresHandOverDialect dialect,
            PostgresConnection jdbc,
            TableId tableId,
            Reread.Request read)
            throws Exception {
        TableChanges.TableChange table = dialect.queryTableSchema(jdbc, tableId);
        return RereadKeys.keyChunks(
                jdbc.connection(),
                SqlNames.DOUBLE_QUOTE,
                read,
                column ->
                        PostgresTypeUtils.fromDbzColumn(table.getTable().columnWithName(column))
                                .getLogicalType(),
                (index, keyType, start, end) ->
                        new SnapshotSplit(
                                tableId, index, keyType, start, end, null, Map.of(tableId, table)));
    }

    /** Reads one chunk; emits its rows placed at its high watermark less one. */
    private static void readChunk(
            IncrementalSourceScanFetcher fetcher,
            PostgresHandOverDialect dialect,
            SnapshotSplit split,
            DebeziumDecoder decoder,
            Reread.Request read,
            Reread.Chunks chunks)
            throws Exception {
        fetcher.submitTask(dialect.createFetchTask(split));
        List<ChangeEvent> chunk = new ArrayList<>();
        long highWatermark = -1;
        long rows = 0;
        while (true) {
            Iterator<SourceRecords> batches = fetcher.pollSplitRecords();
            if (batches == null) {
                if (fetcher.isFinished()) {
                    break;
                }
                continue;
            }
            while (batches.hasNext()) {
                for (SourceRecord record : batches.next().getSourceRecordList()) {
                    if (WatermarkEvent.isHighWatermarkEvent(record)) {
                        highWatermark =
                                Long.parseLong(String.valueOf(record.sourceOffset().get("lsn")));
                    } else if (!WatermarkEvent.isWatermarkEvent(record)) {
                        rows++;
                        ChangeEvent change = decoder.decode(record);
                        if (read.keeps(change)) {
                            chunk.add(change);
                        }
                    }
                }
            }
            if (fetcher.isFinished()) {
                break;
            }
        }
        if (highWatermark < 0) {
            throw new IllegalStateException(
                    "the re-read of chunk " + split.splitId() + " ended without a high watermark");
        }
        read.emit(
                chunk, chunks.rowsAt(SourcePosition.resnapshot(highWatermark - 1, read.number())));
        chunks.add(chunk.size(), rows, SourcePosition.lsn(highWatermark));
    }
}
