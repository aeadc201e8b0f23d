package io.tidemark.source;

import io.debezium.relational.TableId;
import io.tidemark.decode.DebeziumDecoder;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.cdc.connectors.mysql.source.metrics.MySqlSourceReaderMetrics;
import org.apache.flink.cdc.connectors.mysql.source.offset.BinlogOffset;
import org.apache.flink.cdc.connectors.mysql.source.reader.MySqlRecordEmitter;
import org.apache.flink.cdc.connectors.mysql.source.split.FinishedSnapshotSplitInfo;
import org.apache.flink.cdc.connectors.mysql.source.split.MySqlSplitState;
import org.apache.flink.cdc.connectors.mysql.source.utils.RecordUtils;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;
import org.apache.flink.cdc.debezium.DebeziumDeserializationSchema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flink CDC's MySQL record emitter, with two corrections of what the reader hands it.
 *
 * <p>A snapshot row gets back the sign of a negative {@code TIME} under an hour that the snapshot
 * reader dropped ({@link MySqlTimeSigns}).
 *
 * <p>A binlog {@code TRUNCATE TABLE} that came while the table's snapshot chunks were being read is
 * marked. Flink CDC emits a DDL statement whatever the chunks read around it, so a truncate before
 * the high watermark of one of the table's chunks (that chunk read after it, its rows already
 * passed on) cannot simply empty the target: it gets the {@link
 * DebeziumDecoder#TRUNCATE_DURING_SNAPSHOT} header, as the Postgres reader gives one (see {@code
 * PostgresHandOverContext}), and the pipeline decides. A truncate after every chunk's high
 * watermark is applied in its place.
 */
final class MySqlEmitter<T> extends MySqlRecordEmitter<T> {

    private static final Logger LOG = LoggerFactory.getLogger(MySqlEmitter.class);

    private final MySqlTimeSigns timeSigns;

    /** Where this reader stands in the binlog, for the lag gauge. */
    private final MySqlBinlogLag lag;

    MySqlEmitter(
            DebeziumDeserializationSchema<T> deserializer,
            MySqlSourceReaderMetrics metrics,
            boolean includeSchemaChanges,
            MySqlTimeSigns timeSigns,
            MySqlBinlogLag lag) {
        super(deserializer, metrics, includeSchemaChanges);
        this.timeSigns = timeSigns;
        this.lag = lag;
        lag.register(metrics);
    }

    @Override
    protected void processElement(
            SourceRecord element, SourceOutput<T> output, MySqlSplitState splitState)
            throws Exception {
        if (splitState.isSnapshotSplitState() && MySqlTimeSigns.pending()) {
            String chunk = splitState.asSnapshotSplitState().toMySqlSplit().splitId();
            if (RecordUtils.isHighWatermarkEvent(element)) {
                timeSigns.forget(chunk);
            } else if (RecordUtils.isDataChangeRecord(element)) {
                timeSigns.restore(chunk, element);
            }
        }
        if (splitState.isBinlogSplitState()
                && RecordUtils.isSchemaChangeEvent(element)
                && element.value() instanceof Struct value) {
            String table = DebeziumDecoder.binlogTruncatedTable(value);
            if (table != null) {
                mark(element, table, splitState);
            }
        }
        super.processElement(element, output, splitState);
        if (splitState.isBinlogSplitState()) {
            // every change and heartbeat moves the reader's offset
            BinlogOffset read = splitState.asBinlogSplitState().getStartingOffset();
            if (read != null && read.getFilename() != null) {
                lag.readTo(read.getFilename(), read.getPosition());
            }
        }
    }

    private static void mark(SourceRecord truncate, String table, MySqlSplitState splitState) {
        BinlogOffset at = RecordUtils.getBinlogPosition(truncate);
        BinlogOffset newest = null;
        for (FinishedSnapshotSplitInfo chunk :
                splitState
                        .asBinlogSplitState()
                        .toMySqlSplit()
                        .asBinlogSplit()
                        .getFinishedSnapshotSplitInfos()) {
            if (table.equals(name(chunk.getTableId()))
                    && chunk.getHighWatermark() != null
                    && (newest == null || chunk.getHighWatermark().isAfter(newest))) {
                newest = chunk.getHighWatermark();
            }
        }
        if (newest == null || !at.isBefore(newest)) {
            return;
        }
        truncate.headers()
                .addString(
                        DebeziumDecoder.TRUNCATE_DURING_SNAPSHOT,
                        "binlog " + at.getFilename() + ":" + at.getPosition());
        LOG.error(
                "TRUNCATE TABLE {} at {}:{} came while the table's snapshot was being read (its last "
                        + "chunk ended at {}:{})",
                table,
                at.getFilename(),
                at.getPosition(),
                newest.getFilename(),
                newest.getPosition());
    }

    private static String name(TableId table) {
        return (table.catalog() != null ? table.catalog() : table.schema()) + "." + table.table();
    }
}
