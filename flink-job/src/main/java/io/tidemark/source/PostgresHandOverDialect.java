package io.tidemark.source;

import io.debezium.connector.postgresql.connection.PostgresConnection;
import io.debezium.jdbc.JdbcConnection;
import java.sql.SQLException;
import org.apache.flink.cdc.connectors.base.config.JdbcSourceConfig;
import org.apache.flink.cdc.connectors.base.source.assigner.splitter.ChunkSplitter;
import org.apache.flink.cdc.connectors.base.source.assigner.state.ChunkSplitterState;
import org.apache.flink.cdc.connectors.base.source.meta.offset.Offset;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceSplitBase;
import org.apache.flink.cdc.connectors.base.source.reader.external.FetchTask;
import org.apache.flink.cdc.connectors.base.source.reader.external.JdbcSourceFetchTaskContext;
import org.apache.flink.cdc.connectors.postgres.source.PostgresDialect;
import org.apache.flink.cdc.connectors.postgres.source.config.PostgresSourceConfig;
import org.apache.flink.util.FlinkRuntimeException;

/**
 * Flink CDC's Postgres dialect with Tidemark's snapshot hand-over ({@link SnapshotHandOver}):
 * watermarks are WAL insert positions, a chunk's backfill folds only the changes below its high
 * watermark and reads until the transactions open at it have ended, and the log phase emits every
 * change at or after it. A table whose chunk key Postgres cannot order by {@code min} is read as
 * one chunk ({@link PostgresWholeTableSplitter}). Everything else (connections, chunking, the log
 * reader, offset commits) is Flink CDC's.
 */
public final class PostgresHandOverDialect extends PostgresDialect {

    private static final long serialVersionUID = 1L;

    public PostgresHandOverDialect(PostgresSourceConfig sourceConfig) {
        super(sourceConfig);
    }

    @Override
    public Offset displayCurrentOffset(JdbcSourceConfig sourceConfig) {
        try (JdbcConnection jdbc = openJdbcConnection(sourceConfig)) {
            return PostgresWal.insertPosition(((PostgresConnection) jdbc).connection());
        } catch (SQLException e) {
            throw new FlinkRuntimeException("Could not read the WAL insert position", e);
        }
    }

    @Override
    public ChunkSplitter createChunkSplitter(JdbcSourceConfig sourceConfig) {
        return createChunkSplitter(sourceConfig, ChunkSplitterState.NO_SPLITTING_TABLE_STATE);
    }

    @Override
    public ChunkSplitter createChunkSplitter(
            JdbcSourceConfig sourceConfig, ChunkSplitterState chunkSplitterState) {
        return new PostgresWholeTableSplitter(sourceConfig, this, chunkSplitterState);
    }

    @Override
    public FetchTask<SourceSplitBase> createFetchTask(SourceSplitBase split) {
        if (split.isSnapshotSplit()) {
            return new PostgresHandOverScanTask(split.asSnapshotSplit());
        }
        // the dialect keeps the log task to commit offsets to the slot
        return super.createFetchTask(split);
    }

    @Override
    public JdbcSourceFetchTaskContext createFetchTaskContext(JdbcSourceConfig taskSourceConfig) {
        return new PostgresHandOverContext(taskSourceConfig, this);
    }
}
