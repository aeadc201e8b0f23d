package io.tidemark.source;

import io.tidemark.catalog.SqlNames;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
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
 * ({@link GroundTruthDiff#keyFingerprint}): the source's primary key is scanned in order (its key
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
            KeyFilter only,
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
     * keys} ({@link GroundTruthDiff#keyFingerprint}) when there are any, else to those in {@code
     * buckets} ({@link GroundTruthDiff#bucket}) when there are any. Stops early (with an exception)
     * when {@code running} turns false.
     */
    public static Result read(
            SourceConfig source,
            String sourceTable,
            Map<String, List<String>> primaryKeys,
            Table target,
            long request,
            List<Integer> buckets,
            List<Long> keys,
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
                        KeyFilter.of(target.schema(), buckets, keys),
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
                IcebergGenerics.read(target)
                        .useSnapshot(snapshot.snapshotId())
                        .select(List.copyOf(primaryKey))
                        .build()) {
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

    /**
     * The keys a re-snapshot is limited to: those of some fingerprints, or those in some buckets,
     * by {@link GroundTruthDiff}'s hashing of the key's canonical values in the table's column
     * order.
     */
    static final class KeyFilter {
        private final List<Types.NestedField> keyColumns = new ArrayList<>();
        private final BitSet buckets = new BitSet();
        private final Set<Long> keys;

        /** Null when {@code buckets} and {@code keys} are empty: every key. */
        static KeyFilter of(Schema schema, List<Integer> buckets, List<Long> keys) {
            return buckets.isEmpty() && keys.isEmpty()
                    ? null
                    : new KeyFilter(schema, buckets, keys);
        }

        private KeyFilter(Schema schema, List<Integer> buckets, List<Long> keys) {
            for (Types.NestedField column : schema.columns()) {
                if (schema.identifierFieldIds().contains(column.fieldId())) {
                    keyColumns.add(column);
                }
            }
            buckets.forEach(this.buckets::set);
            this.keys = keys.isEmpty() ? null : new HashSet<>(keys);
        }

        boolean byKeys() {
            return keys != null;
        }

        /** Whether the key of {@code row} (column name to value) is one of the filter's. */
        boolean contains(Map<String, Object> row) {
            List<Object> key = new ArrayList<>(keyColumns.size());
            for (Types.NestedField column : keyColumns) {
                key.add(GroundTruthDiff.canonical(row.get(column.name()), column.type()));
            }
            return containsCanonical(key);
        }

        /** Whether {@code key} (canonical values, in the table's column order) is one of them. */
        boolean containsCanonical(List<Object> key) {
            return keys != null
                    ? keys.contains(GroundTruthDiff.keyFingerprint(key))
                    : buckets.get(GroundTruthDiff.bucket(key));
        }
    }

    /**
     * A chunk of a re-read limited to keys, on the primary key's first {@code start.length}
     * columns: its start and end (null: the table's end).
     */
    private record KeyRange(Object[] start, Object[] end) {}

    /** Makes a source's chunk from its number, its key columns' type, its start and its end. */
    @FunctionalInterface
    interface ChunkMaker<S> {
        S chunk(int index, RowType keyType, Object[] start, Object[] end);
    }

    /**
     * The chunks of a re-read limited to keys, as the source's chunks ({@code maker}), split on the
     * primary key's columns their {@link #keyRanges} use, typed by {@code typeOf} (a column's name
     * to its Flink type).
     */
    static <S> List<S> keyChunks(
            Connection jdbc,
            String quote,
            Request read,
            Function<String, LogicalType> typeOf,
            ChunkMaker<S> maker)
            throws Exception {
        List<String> primaryKey = read.primaryKeys().get(read.sourceTable());
        List<S> chunks = new ArrayList<>();
        for (KeyRange range : keyRanges(jdbc, quote, read, read.source().splitSize())) {
            List<String> columns = primaryKey.subList(0, range.start().length);
            LogicalType[] types = columns.stream().map(typeOf).toArray(LogicalType[]::new);
            RowType keyType = RowType.of(types, columns.toArray(String[]::new));
            chunks.add(maker.chunk(chunks.size(), keyType, range.start(), range.end()));
        }
        return chunks;
    }

    /** Rows of the key scan without a key of the filter that end a run of its keys. */
    private static final int GAP = 64;

    /**
     * The chunks that hold the filter's keys in the re-read's table, read through {@code jdbc}
     * (identifiers quoted with {@code quote}). The primary key (in its own column order) is scanned
     * in order, key columns only; the filter's keys, with the few keys between them, form runs of
     * at most {@code maxRows} rows. A run is a chunk on the key columns up to the first one its
     * keys differ in (a key alone: all of them), from its first key to the next value the source
     * holds after its last ({@link #after}), bounded as Flink CDC bounds a chunk (each of those
     * columns between the bounds, the end itself excluded): the columns before that one are equal,
     * so the chunk holds the run's keys and those between them. A run of a compound key keeps its
     * first column (a chunk of many first-column values would hold the rows between them in every
     * other column). The values are the driver's, as Flink CDC's chunk splitter reads them.
     */
    private static List<KeyRange> keyRanges(
            Connection jdbc, String quote, Request read, int maxRows) throws Exception {
        List<String> primaryKey = read.primaryKeys().get(read.sourceTable());
        String table = SqlNames.quoteQualified(read.sourceTable(), quote);
        List<String> quoted = new ArrayList<>();
        for (String column : primaryKey) {
            quoted.add(SqlNames.quote(column, quote));
        }
        List<Types.NestedField> keyColumns = read.only().keyColumns;
        int[] scanIndex = new int[keyColumns.size()];
        for (int i = 0; i < scanIndex.length; i++) {
            scanIndex[i] = primaryKey.indexOf(keyColumns.get(i).name()) + 1;
        }
        String columns = String.join(", ", quoted);
        List<Run> runs = new ArrayList<>();
        boolean mysql = quote.equals(SqlNames.BACKTICK);
        boolean autoCommit = jdbc.getAutoCommit();
        // Postgres streams a result only inside a transaction
        jdbc.setAutoCommit(mysql);
        try (Statement scan =
                jdbc.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            // MySQL's driver streams row by row only with this value
            scan.setFetchSize(mysql ? Integer.MIN_VALUE : 10_000);
            try (ResultSet rs =
                    scan.executeQuery(
                            "SELECT " + columns + " FROM " + table + " ORDER BY " + columns)) {
                Run run = null;
                int gap = 0;
                long scanned = 0;
                while (rs.next()) {
                    if ((scanned++ & 0xFFF) == 0) {
                        read.checkRunning();
                    }
                    Object[] key = new Object[primaryKey.size()];
                    for (int i = 0; i < key.length; i++) {
                        key[i] = rs.getObject(i + 1);
                    }
                    List<Object> canonical = canonicalKey(rs, keyColumns, scanIndex);
                    if (run != null) {
                        run.span++;
                    }
                    if (read.only().containsCanonical(canonical)) {
                        if (run == null || !run.extend(key, maxRows)) {
                            if (run != null) {
                                runs.add(run);
                            }
                            run = new Run(key);
                        }
                        gap = 0;
                    } else if (run != null && ++gap >= GAP) {
                        runs.add(run);
                        run = null;
                    }
                }
                if (run != null) {
                    runs.add(run);
                }
            }
        } finally {
            if (!mysql) {
                jdbc.commit();
            }
            jdbc.setAutoCommit(autoCommit);
        }
        // after the scan: MySQL's driver runs nothing else on a connection while it streams
        List<KeyRange> ranges = new ArrayList<>(runs.size());
        for (Run run : runs) {
            read.checkRunning();
            int width = run.differsAt + 1;
            ranges.add(
                    new KeyRange(
                            Arrays.copyOf(run.first, width),
                            after(jdbc, table, quoted, Arrays.copyOf(run.last, width))));
        }
        return ranges;
    }

    /**
     * The scanned row's key as the filter names keys: the key columns' canonical values, in the
     * filter's column order ({@code scanIndex}: each one's place in the scan).
     */
    private static List<Object> canonicalKey(
            ResultSet rs, List<Types.NestedField> keyColumns, int[] scanIndex)
            throws java.sql.SQLException {
        List<Object> canonical = new ArrayList<>(scanIndex.length);
        for (int i = 0; i < scanIndex.length; i++) {
            org.apache.iceberg.types.Type type = keyColumns.get(i).type();
            canonical.add(
                    GroundTruthDiff.canonical(
                            GroundTruthDiff.readColumn(rs, scanIndex[i], type), type));
        }
        return canonical;
    }

    /** Keys of the filter close together in the key scan, read as one chunk. */
    private static final class Run {
        final Object[] first;
        Object[] last;

        /** The first key column the run's keys differ in (the last one for a key alone). */
        int differsAt;

        /** Rows of the scan since {@link #first}. */
        int span = 1;

        Run(Object[] key) {
            first = key;
            last = key;
            differsAt = key.length - 1;
        }

        /** Adds {@code key} when the run can hold it; false when it starts a run of its own. */
        boolean extend(Object[] key, int maxRows) {
            int shared = 0;
            while (shared < key.length - 1 && Objects.deepEquals(last[shared], key[shared])) {
                shared++;
            }
            int at = Math.min(differsAt, shared);
            if (span > maxRows || (key.length > 1 && at == 0)) {
                return false;
            }
            differsAt = at;
            last = key;
            return true;
        }
    }

    /**
     * A chunk end just after {@code key}: {@code key} with its last column replaced by the next
     * value the source holds among keys equal in the other columns; when there is none, the same
     * one column up (the columns after it keep {@code key}'s values, so the chunk holds no other
     * key of the source); null when {@code key} is the table's last.
     */
    private static Object[] after(Connection jdbc, String table, List<String> quoted, Object[] key)
            throws SQLException {
        for (int level = key.length - 1; level >= 0; level--) {
            StringBuilder sql =
                    new StringBuilder("SELECT ")
                            .append(quoted.get(level))
                            .append(" FROM ")
                            .append(table)
                            .append(" WHERE ");
            for (int i = 0; i < level; i++) {
                sql.append(quoted.get(i)).append(" = ? AND ");
            }
            sql.append(quoted.get(level))
                    .append(" > ? ORDER BY ")
                    .append(quoted.get(level))
                    .append(" LIMIT 1");
            try (PreparedStatement next = jdbc.prepareStatement(sql.toString())) {
                for (int i = 0; i <= level; i++) {
                    next.setObject(i + 1, key[i]);
                }
                try (ResultSet rs = next.executeQuery()) {
                    if (rs.next()) {
                        Object[] end = key.clone();
                        end[level] = rs.getObject(1);
                        return end;
                    }
                }
            }
        }
        return null;
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
