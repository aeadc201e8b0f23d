package io.tidemark.source;

import io.tidemark.catalog.verify.CanonicalValues;
import io.tidemark.catalog.verify.KeyFingerprints;
import io.tidemark.catalog.verify.TableRows;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.nio.ByteBuffer;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A re-read of one table while the pipeline runs (a re-snapshot), whatever its source: {@link
 * PostgresReread} reads a Postgres table, {@link MySqlReread} a MySQL or MariaDB one, both the same
 * way:
 *
 * <ol>
 *   <li>the target table's current snapshot is noted, then the log's current position {@code LW};
 *   <li>the table is read in chunks exactly as the pipeline's snapshot reads it, each chunk holding
 *       every change of its keys below the chunk's high watermark {@code HW}; its rows are emitted
 *       as upserts placed at {@code HW - 1};
 *   <li>every key of the noted snapshot is emitted as a delete placed at {@code LW - 1}: a key the
 *       re-read found is stale against its row (placed later), a key it did not find was deleted in
 *       the source, so its delete stands unless the log has a newer change of it.
 * </ol>
 *
 * <p>The reconciler orders each of these against its key's log changes (by the place their
 * positions give them in the source's log), so a re-read never overwrites a newer change and a
 * change the re-read holds is dropped as stale when it arrives later. Rows go out chunk by chunk;
 * deletes stream from the table's key column(s): memory is one chunk.
 *
 * <p>A re-read limited to some keys ({@code tidemark verify --repair}) names them by fingerprint
 * ({@link CanonicalValues#keyFingerprint}): the source's primary key is scanned in order (its key
 * columns only), and each run of those keys becomes a chunk of its own ({@link #keyRanges}); only
 * those chunks' rows are read. Such chunks are many and small, so they are read without a backfill
 * (Flink CDC's backfill costs a replication slot per Postgres chunk, a binlog client per MySQL
 * one), and placed otherwise: every row at {@code LW - 1}, every delete at {@code LW - 2} (no
 * change starts there). That is exact because every change below {@code LW} is committed before the
 * chunks are read (on Postgres the re-read first waits for the transactions open at {@code LW} to
 * end; MySQL writes a transaction to its binlog as it commits), so a chunk holds them all, and the
 * changes at or after {@code LW} follow each row in its key's order: each carries its whole row (or
 * deletes it), so applying again one the chunk already held ends in the same row. Limited to key
 * buckets instead (when many keys differ), every chunk is read and only rows of the buckets go out.
 */
public final class Reread {

    private static final Logger LOG = LoggerFactory.getLogger(Reread.class);

    private Reread() {}

    /**
     * What a re-read did: rows sent, of {@code read} the chunks held; {@code first} and {@code
     * last} are its chunks' high watermarks.
     */
    public record Result(
            long rows, long read, long deletes, int chunks, String first, String last) {}

    /**
     * One re-read as a source's chunk reader sees it: what to read, where its rows go, and whether
     * to go on.
     */
    record Request(
            SourceConfig source,
            String sourceTable,
            Map<String, List<String>> primaryKeys,
            long number,
            RereadKeys.KeyFilter only,
            Consumer<ChangeEvent> sink,
            BooleanSupplier running) {

        /** Stops the re-read (with an exception) once the reader is closing. */
        void checkRunning() throws InterruptedException {
            if (!running.getAsBoolean()) {
                throw new InterruptedException("the re-snapshot was stopped");
            }
        }

        /**
         * Whether the re-read is limited to keys named by fingerprint: read by {@link #keyRanges}.
         */
        boolean byKeys() {
            return only != null && only.byKeys();
        }

        /** Whether a decoded row goes out: every change but a snapshot row of another key. */
        boolean keeps(ChangeEvent change) {
            return change != null
                    && (only == null
                            || change.operation() != Operation.READ
                            || only.contains(change.after()));
        }

        /** Emits one chunk's rows as upserts placed at {@code place}. */
        void emit(List<ChangeEvent> rows, SourcePosition place) {
            long now = System.currentTimeMillis();
            for (ChangeEvent change : rows) {
                sink.accept(placed(change, place, now));
            }
        }
    }

    /**
     * What a source's chunk reader read: where the deletes of the table's keys are placed (before
     * every chunk), and its chunks, by their high watermarks as the source writes them.
     */
    static final class Chunks {
        final SourcePosition deletesAt;

        /** Where every row is placed (a re-read limited to keys), or null: at its chunk's. */
        final SourcePosition rowsAt;

        final String lowWatermark;
        long rows;
        long read;
        int count;
        String first = "-";
        String last = "-";

        Chunks(SourcePosition deletesAt, SourcePosition rowsAt, String lowWatermark) {
            this.deletesAt = deletesAt;
            this.rowsAt = rowsAt;
            this.lowWatermark = lowWatermark;
        }

        /** Where a chunk's rows are placed, given its high watermark's place less one. */
        SourcePosition rowsAt(SourcePosition chunkPlace) {
            return rowsAt != null ? rowsAt : chunkPlace;
        }

        void add(long chunkRows, long chunkRead, String highWatermark) {
            rows += chunkRows;
            read += chunkRead;
            first = count++ == 0 ? highWatermark : first;
            last = highWatermark;
        }
    }

    /**
     * Re-reads {@code sourceTable} of {@code source} into {@code sink}; the keys of {@code target}
     * as of now are the candidates for deletion. Limited to the keys whose fingerprints are {@code
     * keys} ({@link CanonicalValues#keyFingerprint}) when there are any, else to those in {@code
     * buckets} ({@link CanonicalValues#bucket}) when there are any. Stops early (with an exception)
     * when {@code running} turns false.
     */
    public static Result read(
            SourceConfig source,
            String sourceTable,
            Map<String, List<String>> primaryKeys,
            Table target,
            long request,
            List<Integer> buckets,
            KeyFingerprints keys,
            Consumer<ChangeEvent> sink,
            BooleanSupplier running)
            throws Exception {
        target.refresh();
        Snapshot before = target.currentSnapshot();
        Request read =
                new Request(
                        source,
                        sourceTable,
                        primaryKeys,
                        request,
                        RereadKeys.KeyFilter.of(target.schema(), buckets, keys),
                        sink,
                        running);
        // the log position is taken after the snapshot was noted, the chunks read after both
        Chunks chunks = SourceDialect.of(source).readChunks(read);
        long deletes = deleteCandidates(target, before, chunks.deletesAt, read);
        LOG.info(
                "Re-snapshot {} of {}: {} rows in {} chunks of {} source rows (high watermarks"
                        + " {}..{}), {} keys of the table's snapshot {} checked (placed at {})",
                request,
                sourceTable,
                chunks.rows,
                chunks.count,
                chunks.read,
                chunks.first,
                chunks.last,
                deletes,
                before == null ? "none" : before.snapshotId(),
                chunks.lowWatermark);
        return new Result(
                chunks.rows, chunks.read, deletes, chunks.count, chunks.first, chunks.last);
    }

    /** A re-read row as an upsert placed at {@code place}. */
    private static ChangeEvent placed(ChangeEvent change, SourcePosition place, long now) {
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
                place,
                now);
    }

    /**
     * Emits a delete of every key of {@code snapshot} (in the request's buckets) at {@code place}.
     */
    private static long deleteCandidates(
            Table target, Snapshot snapshot, SourcePosition place, Request read) throws Exception {
        if (snapshot == null) {
            return 0;
        }
        Schema schema = target.schemas().get(snapshot.schemaId());
        if (schema == null) {
            schema = target.schema();
        }
        // in the decoder's key order (the primary key's), which names the reconciler's key
        List<String> primaryKey = read.primaryKeys().get(read.sourceTable());
        List<Types.NestedField> keyColumns = new ArrayList<>();
        for (String column : primaryKey) {
            keyColumns.add(schema.findField(column));
        }
        long now = System.currentTimeMillis();
        long deletes = 0;
        long seen = 0;
        try (CloseableIterable<Record> keys =
                TableRows.read(target, snapshot.snapshotId(), List.copyOf(primaryKey))) {
            for (Record record : keys) {
                if ((seen++ & 0xFFF) == 0) {
                    read.checkRunning();
                }
                List<Object> key = new ArrayList<>(keyColumns.size());
                Map<String, Object> image = new LinkedHashMap<>();
                for (Types.NestedField column : keyColumns) {
                    Object value = keyValue(record.getField(column.name()));
                    key.add(value);
                    image.put(column.name(), value);
                }
                if (read.only() != null && !read.only().contains(image)) {
                    continue;
                }
                read.sink()
                        .accept(
                                new ChangeEvent(
                                        read.source().id(),
                                        read.sourceTable(),
                                        Operation.DELETE,
                                        key,
                                        image,
                                        null,
                                        place,
                                        now));
                deletes++;
            }
        }
        return deletes;
    }

    /** An Iceberg key value as the decoder gives it (and the reconciler names its key by). */
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
