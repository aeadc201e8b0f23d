package io.tidemark.source;

import io.debezium.connector.postgresql.connection.PostgresConnection;
import io.debezium.relational.TableId;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import io.tidemark.decode.SourcePosition;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import org.apache.flink.cdc.connectors.base.source.assigner.splitter.ChunkSplitter;
import org.apache.flink.cdc.connectors.base.source.meta.split.SnapshotSplit;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceRecords;
import org.apache.flink.cdc.connectors.base.source.meta.wartermark.WatermarkEvent;
import org.apache.flink.cdc.connectors.base.source.reader.external.IncrementalSourceScanFetcher;
import org.apache.flink.cdc.connectors.base.source.reader.external.JdbcSourceFetchTaskContext;
import org.apache.flink.cdc.connectors.postgres.source.config.PostgresSourceConfig;
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
        PostgresSourceConfig config =
                PostgresCdcSource.configFactory(source, List.of(sourceTable), slotName(source))
                        .create(0);
        PostgresHandOverDialect dialect = new PostgresHandOverDialect(config);
        long lowWatermark;
        try (PostgresConnection jdbc = (PostgresConnection) dialect.openJdbcConnection(config)) {
            lowWatermark = PostgresWal.insertPosition(jdbc.connection()).getLsn().asLong();
        }
        TableId tableId =
                dialect.discoverDataCollections(config).stream()
                        .filter(id -> (id.schema() + "." + id.table()).equals(sourceTable))
                        .findFirst()
                        .orElseThrow(
                                () ->
                                        new IllegalStateException(
                                                "table "
                                                        + sourceTable
                                                        + " is not in the source's publication"));
        DebeziumDecoder decoder = new DebeziumDecoder(source.id(), read.primaryKeys());
        Reread.Chunks chunks =
                new Reread.Chunks(
                        SourcePosition.resnapshot(lowWatermark - 1, read.number()),
                        SourcePosition.lsn(lowWatermark));
        ChunkSplitter splitter = dialect.createChunkSplitter(config);
        JdbcSourceFetchTaskContext context = dialect.createFetchTaskContext(config);
        IncrementalSourceScanFetcher fetcher = new IncrementalSourceScanFetcher(context, 0);
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
        read.emit(chunk, SourcePosition.resnapshot(highWatermark - 1, read.number()));
        chunks.add(chunk.size(), SourcePosition.lsn(highWatermark));
    }
}
