package io.tidemark.source;

import io.debezium.connector.postgresql.connection.PostgresConnection;
import io.debezium.relational.TableId;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.nio.ByteBuffer;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.flink.cdc.connectors.base.source.assigner.splitter.ChunkSplitter;
import org.apache.flink.cdc.connectors.base.source.meta.split.SnapshotSplit;
import org.apache.flink.cdc.connectors.base.source.meta.split.SourceRecords;
import org.apache.flink.cdc.connectors.base.source.meta.wartermark.WatermarkEvent;
import org.apache.flink.cdc.connectors.base.source.reader.external.IncrementalSourceScanFetcher;
import org.apache.flink.cdc.connectors.base.source.reader.external.JdbcSourceFetchTaskContext;
import org.apache.flink.cdc.connectors.postgres.source.config.PostgresSourceConfig;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads one Postgres table while the pipeline runs (a re-snapshot), as changes the reconciler
 * orders against the live log:
 *
 * <ol>
 *   <li>the target table's current snapshot is noted, then the WAL insert position {@code LW};
 *   <li>the table is read in chunks exactly as the pipeline's snapshot reads it (Flink CDC's chunk
 *       reader with Tidemark's hand-over, {@link SnapshotHandOver}, on a backfill slot of its own):
 *       each chunk's rows hold every change of their keys below the chunk's high watermark {@code
 *       HW}, and are emitted as upserts placed at {@code HW - 1} ({@link
 *       SourcePosition#resnapshot});
 *   <li>every key of the noted snapshot is emitted as a delete placed at {@code LW - 1}: a key the
 *       re-read found is stale against its row (placed later), a key it did not find was deleted in
 *       the source, so its delete stands unless the log has a newer change of it.
 * </ol>
 *
 * <p>The reconciler orders each of these against its key's log changes by change LSN (per key, LSN
 * order is commit order), so a re-read never overwrites a newer change and a change the re-read
 * holds is dropped as stale when it arrives later. Rows go out chunk by chunk; deletes stream from
 * the table's key column(s): memory is one chunk.
 */
public final class PostgresReread {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresReread.class);

    private PostgresReread() {}

    /** What a re-read did. */
    public record Result(long rows, long deletes, int chunks, long firstLsn, long lastLsn) {}

    /**
     * The slot the re-read's chunk backfills use (with {@code _0} appended): the pipeline's own
     * name, shortened to fit Postgres' 63 characters, and {@code _resnap}.
     */
    static String slotName(SourceConfig source) {
        String slot = source.slotName();
        return (slot.length() > 54 ? slot.substring(0, 54) : slot) + "_resnap";
    }

    /**
     * Re-reads {@code sourceTable} ({@code schema.table}) of {@code source} into {@code sink}; the
     * keys of {@code target} as of now are the candidates for deletion. Stops early (with an
     * exception) when {@code running} turns false.
     */
    public static Result read(
            SourceConfig source,
            String sourceTable,
            Map<String, List<String>> primaryKeys,
            Table target,
            long request,
            List<Integer> buckets,
            Consumer<ChangeEvent> sink,
            BooleanSupplier running)
            throws Exception {
        target.refresh();
        KeyBuckets only = buckets.isEmpty() ? null : new KeyBuckets(target.schema(), buckets);
        Snapshot before = target.currentSnapshot();
        long lowWatermark;
        PostgresSourceConfig config =
                PostgresCdcSource.configFactory(source, List.of(sourceTable), slotName(source))
                        .create(0);
        PostgresHandOverDialect dialect = new PostgresHandOverDialect(config);
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
        DebeziumDecoder decoder = new DebeziumDecoder(source.id(), primaryKeys);
        long rows = 0;
        int chunks = 0;
        long firstLsn = -1;
        long lastLsn = -1;
        ChunkSplitter splitter = dialect.createChunkSplitter(config);
        JdbcSourceFetchTaskContext context = dialect.createFetchTaskContext(config);
        IncrementalSourceScanFetcher fetcher = new IncrementalSourceScanFetcher(context, 0);
        try {
            splitter.open();
            do {
                Collection<SnapshotSplit> splits = splitter.generateSplits(tableId);
                for (SnapshotSplit split : splits) {
                    if (!running.getAsBoolean()) {
                        throw new InterruptedException("the re-snapshot was stopped");
                    }
                    Chunk chunk = readChunk(fetcher, dialect, split, decoder, request, only, sink);
                    rows += chunk.rows();
                    chunks++;
                    firstLsn = firstLsn < 0 ? chunk.highWatermark() : firstLsn;
                    lastLsn = chunk.highWatermark();
                }
            } while (splitter.hasNextChunk());
        } finally {
            fetcher.close();
            splitter.close();
        }
        long deletes =
                before == null
                        ? 0
                        : deleteCandidates(
                                target,
                                before,
                                lowWatermark,
                                request,
                                only,
                                sourceTable,
                                primaryKeys.get(sourceTable),
                                source.id(),
                                sink,
                                running);
        LOG.info(
                "Re-snapshot {} of {}: {} rows in {} chunks (high watermarks {}..{}), {} keys of the table's snapshot {} checked (placed at {})",
                request,
                sourceTable,
                rows,
                chunks,
                SourcePosition.lsn(firstLsn),
                SourcePosition.lsn(lastLsn),
                deletes,
                before == null ? "none" : before.snapshotId(),
                SourcePosition.lsn(lowWatermark));
        return new Result(rows, deletes, chunks, firstLsn, lastLsn);
    }

    /** A chunk read: its high watermark and the rows it emitted. */
    private record Chunk(long highWatermark, long rows) {}

    /** Reads one chunk; emits its rows placed at its high watermark less one. */
    private static Chunk readChunk(
            IncrementalSourceScanFetcher fetcher,
            PostgresHandOverDialect dialect,
            SnapshotSplit split,
            DebeziumDecoder decoder,
            long request,
            KeyBuckets only,
            Consumer<ChangeEvent> sink)
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
                        if (change != null
                                && (only == null
                                        || change.operation() != Operation.READ
                                        || only.contains(change.after()))) {
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
        long now = System.currentTimeMillis();
        for (ChangeEvent change : chunk) {
            sink.accept(placed(change, highWatermark - 1, request, now));
        }
        return new Chunk(highWatermark, chunk.size());
    }

    /** A re-read row as an upsert holding every change of its key through {@code lsn}. */
    private static ChangeEvent placed(ChangeEvent change, long lsn, long request, long now) {
        if (change.operation() != Operation.READ) {
            // an undecodable row: quarantined as the pipeline's snapshot quarantines it
            return change;
        }
        return new ChangeEvent(
                change.source(),
                change.table(),
                Operation.UPDATE,
                change.key(),
                null,
                change.after(),
                SourcePosition.resnapshot(lsn, request),
                now);
    }

    /** Emits a delete of every key of {@code snapshot}, placed at {@code lowWatermark - 1}. */
    private static long deleteCandidates(
            Table target,
            Snapshot snapshot,
            long lowWatermark,
            long request,
            KeyBuckets only,
            String sourceTable,
            List<String> primaryKey,
            String sourceId,
            Consumer<ChangeEvent> sink,
            BooleanSupplier running)
            throws Exception {
        Schema schema = target.schemas().get(snapshot.schemaId());
        if (schema == null) {
            schema = target.schema();
        }
        // in the decoder's key order (the primary key's), which names the reconciler's key
        List<Types.NestedField> keyColumns = new ArrayList<>();
        for (String column : primaryKey) {
            keyColumns.add(schema.findField(column));
        }
        List<String> names = List.copyOf(primaryKey);
        long now = System.currentTimeMillis();
        long deletes = 0;
        long seen = 0;
        try (CloseableIterable<Record> keys =
                IcebergGenerics.read(target)
                        .useSnapshot(snapshot.snapshotId())
                        .select(names)
                        .build()) {
            for (Record record : keys) {
                if ((seen++ & 0xFFF) == 0 && !running.getAsBoolean()) {
                    throw new InterruptedException("the re-snapshot was stopped");
                }
                List<Object> key = new ArrayList<>(keyColumns.size());
                Map<String, Object> image = new LinkedHashMap<>();
                for (Types.NestedField column : keyColumns) {
                    Object value = keyValue(record.getField(column.name()));
                    key.add(value);
                    image.put(column.name(), value);
                }
                if (only != null && !only.contains(image)) {
                    continue;
                }
                sink.accept(
                        new ChangeEvent(
                                sourceId,
                                sourceTable,
                                Operation.DELETE,
                                key,
                                image,
                                null,
                                SourcePosition.resnapshot(lowWatermark - 1, request),
                                now));
                deletes++;
            }
        }
        return deletes;
    }

    /** The key buckets a re-snapshot is limited to, by {@link GroundTruthDiff}'s hashing. */
    private static final class KeyBuckets {
        private final List<Types.NestedField> keyColumns = new ArrayList<>();
        private final java.util.BitSet buckets = new java.util.BitSet();

        KeyBuckets(Schema schema, List<Integer> buckets) {
            for (Types.NestedField column : schema.columns()) {
                if (schema.identifierFieldIds().contains(column.fieldId())) {
                    keyColumns.add(column);
                }
            }
            buckets.forEach(this.buckets::set);
        }

        /** Whether the key of {@code row} (column name to value) is in one of the buckets. */
        boolean contains(Map<String, Object> row) {
            List<Object> key = new ArrayList<>(keyColumns.size());
            for (Types.NestedField column : keyColumns) {
                key.add(GroundTruthDiff.canonical(row.get(column.name()), column.type()));
            }
            return buckets.get(GroundTruthDiff.bucket(key));
        }
    }

    /** An Iceberg key value as the decoder gives it (and {@code Reconciler.keyOf} names it). */
    private static Object keyValue(Object value) {
        if (value instanceof OffsetDateTime) {
            return ((OffsetDateTime) value).toInstant();
        }
        if (value instanceof ByteBuffer) {
            ByteBuffer copy = ((ByteBuffer) value).duplicate();
            byte[] bytes = new byte[copy.remaining()];
            copy.get(bytes);
            return bytes;
        }
        if (value instanceof java.util.UUID || value instanceof CharSequence) {
            return value.toString();
        }
        return value;
    }
}
