package io.tidemark.source;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.flink.cdc.connectors.base.config.JdbcSourceConfig;
import org.apache.flink.cdc.connectors.base.source.meta.offset.Offset;
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

    @Override
    public void rewriteOutputBuffer(Map<Struct, SourceRecord> buffer, SourceRecord change) {
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
