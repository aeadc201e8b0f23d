package io.tidemark.source;

import io.debezium.connector.postgresql.PostgresConnectorConfig;
import io.debezium.connector.postgresql.connection.PostgresConnection;
import io.debezium.relational.TableId;
import io.tidemark.decode.DebeziumDecoder;
import io.tidemark.decode.SourcePosition;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.cdc.connectors.base.config.JdbcSourceConfig;
import org.apache.flink.cdc.connectors.base.source.meta.offset.Offset;
import org.apache.flink.cdc.connectors.base.source.meta.split.FinishedSnapshotSplitInfo;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceSplitBase;
import org.apache.flink.cdc.connectors.postgres.source.PostgresDialect;
import org.apache.flink.cdc.connectors.postgres.source.fetch.PostgresSourceFetchTaskContext;
import org.apache.flink.cdc.connectors.postgres.source.offset.PostgresOffset;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flink CDC's Postgres reader context with Tidemark's hand-over ({@link SnapshotHandOver}): a
 * chunk's backfill folds only the changes below its high watermark, and the log phase places a
 * change one past its LSN, so it emits every change at or after a chunk's high watermark.
 */
final class PostgresHandOverContext extends PostgresSourceFetchTaskContext {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresHandOverContext.class);

    /** The high watermark of the chunk being read (snapshot readers only). */
    private volatile long chunkHighWatermark = Long.MAX_VALUE;

    /** The audit of the chunk being read, or null (see {@link ChunkAudit}). */
    private volatile ChunkAudit audit;

    PostgresHandOverContext(JdbcSourceConfig sourceConfig, PostgresDialect dialect) {
        super(sourceConfig, dialect);
    }

    void chunkHighWatermark(long lsn) {
        this.chunkHighWatermark = lsn;
        this.audit = null;
    }

    void chunkAudit(ChunkAudit audit) {
        this.audit = audit;
    }

    /** Whether a chunk's rows are being read: {@link #getConnection} reads temporal text then. */
    private volatile boolean readingChunk;

    /** The connection chunks are read through, over the physical one it was made for. */
    private PostgresConnection chunkReader;

    private java.sql.Connection chunkReaderOver;

    void readingChunk(boolean reading) {
        this.readingChunk = reading;
    }

    /**
     * While a chunk's rows are read, a connection over the same JDBC connection whose result sets
     * give Debezium dates, times and timestamps as the log does ({@link PostgresTemporalText});
     * otherwise Flink CDC's.
     */
    @Override
    public PostgresConnection getConnection() {
        PostgresConnection connection = super.getConnection();
        if (!readingChunk) {
            return connection;
        }
        try {
            java.sql.Connection physical = connection.connection();
            if (chunkReader == null || chunkReaderOver != physical) {
                chunkReader =
                        PostgresTemporalText.connection(
                                (PostgresConnectorConfig) getDbzConnectorConfig(), physical);
                chunkReaderOver = physical;
            }
            return chunkReader;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot open the chunk reader's connection", e);
        }
    }

    /** The table of the chunk being read (snapshot readers only). */
    private volatile TableId chunkTable;

    /**
     * Per table, the newest high watermark of its chunks that the log reader knows finished (log
     * readers only): a truncate below it happened while the table's snapshot was being read.
     */
    private final Map<TableId, Long> newestChunkEnd = new ConcurrentHashMap<>();

    @Override
    public void configure(SourceSplitBase split) {
        PostgresConnectorConfig config = getDbzConnectorConfig();
        if (split.isSnapshotSplit()) {
            config = chunkPolling(config);
        }
        // the chunk's table, which Flink CDC sets as a pattern, taken as the table's name
        dbzConnectorConfig = PostgresLiteralTableList.of(config);
        super.configure(split);
        if (split.isSnapshotSplit()) {
            chunkTable = split.asSnapshotSplit().getTableId();
        } else {
            // a log read (the stream split, or a chunk's backfill): no chunk's table
            chunkTable = null;
            newestChunkEnd.clear();
            for (FinishedSnapshotSplitInfo chunk :
                    split.asStreamSplit().getFinishedSnapshotSplitInfos()) {
                Object lsn =
                        chunk.getHighWatermark() == null
                                ? null
                                : chunk.getHighWatermark().getOffset().get("lsn");
                if (lsn != null) {
                    newestChunkEnd.merge(
                            chunk.getTableId(), Long.parseLong(lsn.toString()), Math::max);
                }
            }
        }
    }

    /**
     * {@code config} for reading a snapshot chunk: Debezium's {@code poll.interval.ms} at 50 ms
     * unless the pipeline sets it. A chunk's backfill reads the slot up to the chunk's high
     * watermark and mostly finds nothing there; at Debezium's 500 ms its reader, and the queue's
     * reader after it, slept 0.5 to 1 s per chunk after the chunk's rows were read (the snapshot at
     * half the rows/s at 8,096-row chunks). The log phase keeps the pipeline's setting.
     */
    static PostgresConnectorConfig chunkPolling(PostgresConnectorConfig config) {
        if (config.getConfig().hasKey(PostgresCdcSource.POLL_INTERVAL)) {
            return config;
        }
        return new PostgresConnectorConfig(
                config.getConfig()
                        .edit()
                        .with(
                                PostgresCdcSource.POLL_INTERVAL,
                                PostgresCdcSource.CHUNK_POLL_INTERVAL)
                        .build());
    }

    /** Whether {@code record} is a {@code TRUNCATE} (it has no key: it is the whole table's). */
    static boolean isTruncate(SourceRecord record) {
        return record.value() instanceof Struct value
                && value.schema().field("op") != null
                && "t".equals(value.getString("op"));
    }

    /**
     * A truncate has no key to place in a chunk's range: it is the whole table's. A chunk's
     * backfill takes its own table's; the log reader emits it if it is after the high watermark of
     * any of the table's chunks (Flink CDC asks chunk by chunk). One before the newest of those
     * high watermarks came while the table's chunks were being read: marked, since emptying the
     * target also empties rows read after it (the pipeline then reads the table again, or
     * quarantines the truncate where it cannot).
     */
    @Override
    public boolean isRecordBetween(SourceRecord record, Object[] splitStart, Object[] splitEnd) {
        TableId table = getTableId(record);
        TableId chunk = chunkTable;
        if (!isTruncate(record)) {
            // a chunk's backfill folds its own table's changes only (Flink CDC filters them by a
            // pattern of the table's unquoted name, PostgresLiteralTableList escapes it: checked
            // again here, since a dot in it matched any character, public."line items" too)
            return (chunk == null || chunk.equals(table))
                    && super.isRecordBetween(record, splitStart, splitEnd);
        }
        if (chunk != null) {
            return chunk.equals(table);
        }
        Long newest = newestChunkEnd.get(table);
        Object lsn = record.sourceOffset().get("lsn");
        if (newest != null
                && lsn != null
                && ((Number) lsn).longValue() < newest
                && record.headers().lastWithName(DebeziumDecoder.TRUNCATE_DURING_SNAPSHOT)
                        == null) {
            record.headers()
                    .addString(
                            DebeziumDecoder.TRUNCATE_DURING_SNAPSHOT,
                            "LSN " + SourcePosition.lsn(((Number) lsn).longValue()));
            LOG.warn(
                    "TRUNCATE of {} at LSN {} came while the table's snapshot was being read (its "
                            + "last chunk ended at LSN {}): marked so, for the pipeline to read the "
                            + "table again after applying it",
                    table,
                    SourcePosition.lsn(((Number) lsn).longValue()),
                    SourcePosition.lsn(newest));
        }
        return true;
    }

    @Override
    public void rewriteOutputBuffer(Map<Struct, SourceRecord> buffer, SourceRecord change) {
        if (isTruncate(change)) {
            // the chunk's audit counted rows the truncate removed (or did not): it cannot add up
            if (audit != null) {
                LOG.info(
                        "Snapshot chunk of {} is not audited: the table was truncated while it was read",
                        chunkTable);
                audit = null;
            }
            Object lsn = change.sourceOffset().get("lsn");
            if (lsn == null
                    || SnapshotHandOver.foldedIntoChunk(
                            ((Number) lsn).longValue(), chunkHighWatermark)) {
                // folded in commit order: the rows read so far are gone, later changes re-add
                buffer.clear();
            }
            return;
        }
        Object lsn = change.sourceOffset().get("lsn");
        if (lsn == null
                || SnapshotHandOver.foldedIntoChunk(
                        ((Number) lsn).longValue(), chunkHighWatermark)) {
            super.rewriteOutputBuffer(buffer, change);
            return;
        }
        ChunkAudit chunk = audit;
        Object txId = change.sourceOffset().get("txId");
        if (chunk != null && txId != null && change.value() instanceof Struct) {
            chunk.leftToLogPhase(
                    ((Number) txId).longValue(), ((Struct) change.value()).getString("op"));
        }
    }

    @Override
    public List<SourceRecord> formatMessageTimestamp(Collection<SourceRecord> chunkRows) {
        ChunkAudit chunk = audit;
        if (chunk != null && !chunk.check(chunkRows.size())) {
            LOG.error(
                    "Snapshot chunk audit failed: the chunk emits {} rows where its key range held {} "
                            + "({}): the source delivered a change made while the chunk was read "
                            + "wrongly (lost or twice). Verify the table with `tidemark verify` and "
                            + "re-snapshot it; report this with the chunk's log lines",
                    chunkRows.size(),
                    chunk.expectedRows(),
                    chunk);
        }
        audit = null;
        return super.formatMessageTimestamp(chunkRows);
    }

    @Override
    public Offset getStreamOffset(SourceRecord record) {
        Object lsn = record.sourceOffset().get("lsn");
        if (lsn == null) {
            return super.getStreamOffset(record);
        }
        return PostgresOffset.of(
                Map.of(
                        "lsn",
                        Long.toString(
                                SnapshotHandOver.logPhasePosition(((Number) lsn).longValue()))));
    }
}
