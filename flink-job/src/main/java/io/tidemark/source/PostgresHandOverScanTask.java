package io.tidemark.source;

import io.debezium.connector.postgresql.connection.PostgresConnection;
import io.debezium.jdbc.JdbcConnection;
import java.sql.SQLException;
import org.apache.flink.cdc.connectors.base.config.JdbcSourceConfig;
import org.apache.flink.cdc.connectors.base.source.meta.offset.Offset;
import org.apache.flink.cdc.connectors.base.source.meta.split.SnapshotSplit;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceSplitBase;
import org.apache.flink.cdc.connectors.base.source.meta.split.StreamSplit;
import org.apache.flink.cdc.connectors.postgres.source.fetch.PostgresScanFetchTask;
import org.apache.flink.cdc.connectors.postgres.source.offset.PostgresOffset;
import org.apache.flink.util.FlinkRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one snapshot chunk as Flink CDC does, with Tidemark's hand-over ({@link SnapshotHandOver}):
 * the context learns the chunk's high watermark before the backfill's changes reach it, and the
 * backfill reads until every transaction open at the high watermark has ended.
 */
final class PostgresHandOverScanTask extends PostgresScanFetchTask {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresHandOverScanTask.class);

    private PostgresHandOverContext context;

    PostgresHandOverScanTask(SnapshotSplit split) {
        super(split);
    }

    @Override
    public void execute(Context context) throws Exception {
        this.context = (PostgresHandOverContext) context;
        super.execute(context);
    }

    @Override
    protected void executeDataSnapshot(Context context) throws Exception {
        // the chunk's rows: dates, times and timestamps as the log reads them
        this.context.readingChunk(true);
        try {
            super.executeDataSnapshot(context);
        } finally {
            this.context.readingChunk(false);
        }
    }

    @Override
    protected void dispatchHighWaterMarkEvent(
            Context context, SourceSplitBase split, Offset highWatermark) throws Exception {
        // before the watermark event: the backfill's changes follow it through the same queue
        this.context.chunkHighWatermark(((PostgresOffset) highWatermark).getLsn().asLong());
        super.dispatchHighWaterMarkEvent(context, split, highWatermark);
    }

    /** The chunk's audit, or null when its count cannot be read: the audit never fails a read. */
    private ChunkAudit audit(PostgresConnection postgres) {
        try {
            return PostgresWal.countChunk(postgres.connection(), snapshotSplit);
        } catch (SQLException e) {
            LOG.warn(
                    "Snapshot chunk {} is not audited: its key range could not be counted ({})",
                    snapshotSplit.splitId(),
                    e.getMessage());
            return null;
        }
    }

    @Override
    protected StreamSplit createBackfillStreamSplit(Offset lowWatermark, Offset highWatermark) {
        JdbcSourceConfig config = (JdbcSourceConfig) context.getSourceConfig();
        try {
            // the chunk's SELECT is read: end its transaction, which holds a lock on the table.
            // A session waiting for that lock with a transaction id (a TRUNCATE, an ALTER TABLE)
            // is a transaction the wait below waits for: held, the two would wait for each other
            java.sql.Connection read = context.getConnection().connection();
            if (!read.getAutoCommit()) {
                read.commit();
            }
        } catch (SQLException e) {
            throw new FlinkRuntimeException(
                    "Could not end the read of snapshot split " + snapshotSplit.splitId(), e);
        }
        if (config.isSkipSnapshotBackfill()) {
            // a re-read limited to keys (Reread): it waited for such transactions before its
            // chunks, and places their rows itself
            return super.createBackfillStreamSplit(lowWatermark, highWatermark);
        }
        try (JdbcConnection jdbc = context.getDataSourceDialect().openJdbcConnection(config)) {
            PostgresConnection postgres = (PostgresConnection) jdbc;
            PostgresWal.awaitTransactionsOpenNow(
                    postgres.connection(),
                    () -> taskRunning,
                    "snapshot split " + snapshotSplit.splitId());
            context.chunkAudit(audit(postgres));
            // past every such transaction's commit; always after the low watermark, so the
            // backfill always runs (Flink CDC skips it when the two watermarks are equal, which
            // loses a transaction open across both)
            return super.createBackfillStreamSplit(
                    lowWatermark, PostgresWal.insertPosition(postgres.connection()));
        } catch (SQLException e) {
            throw new FlinkRuntimeException(
                    "Could not find the end of the log read of snapshot split "
                            + snapshotSplit.splitId(),
                    e);
        }
    }
}
