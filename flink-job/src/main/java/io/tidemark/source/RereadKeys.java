package io.tidemark.source;

import io.tidemark.catalog.SqlNames;
import io.tidemark.catalog.verify.CanonicalValues;
import io.tidemark.catalog.verify.KeyFingerprints;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;

/**
 * A re-read limited to some keys ({@code verify --repair}): which keys ({@link KeyFilter}) and the
 * source chunks that hold them ({@link #keyChunks}), found by a scan of the table's key columns.
 */
final class RereadKeys {

    private RereadKeys() {}

    /**
     * The keys a re-snapshot is limited to: those of some fingerprints, or those in some buckets,
     * by {@link CanonicalValues}'s hashing of the key's canonical values in the table's column
     * order.
     */
    static final class KeyFilter {
        private final List<Types.NestedField> keyColumns = new ArrayList<>();
        private final BitSet buckets = new BitSet();
        private final KeyFingerprints keys;

        /** Null when {@code buckets} and {@code keys} are empty: every key. */
        static KeyFilter of(Schema schema, List<Integer> buckets, KeyFingerprints keys) {
            return buckets.isEmpty() && keys.isEmpty()
                    ? null
                    : new KeyFilter(schema, buckets, keys);
        }

        private KeyFilter(Schema schema, List<Integer> buckets, KeyFingerprints keys) {
            for (Types.NestedField column : schema.columns()) {
                if (schema.identifierFieldIds().contains(column.fieldId())) {
                    keyColumns.add(column);
                }
            }
            buckets.forEach(this.buckets::set);
            this.keys = keys.isEmpty() ? null : keys;
        }

        boolean byKeys() {
            return keys != null;
        }

        /** Whether the key of {@code row} (column name to value) is one of the filter's. */
        boolean contains(Map<String, Object> row) {
            List<Object> key = new ArrayList<>(keyColumns.size());
            for (Types.NestedField column : keyColumns) {
                key.add(CanonicalValues.canonical(row.get(column.name()), column.type()));
            }
            return containsCanonical(key);
        }

        /** Whether {@code key} (canonical values, in the table's column order) is one of them. */
        boolean containsCanonical(List<Object> key) {
            return keys != null
                    ? keys.contains(CanonicalValues.keyFingerprint(key))
                    : buckets.get(CanonicalValues.bucket(key));
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
            Reread.Request read,
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
            Connection jdbc, String quote, Reread.Request read, int maxRows) throws Exception {
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
                    CanonicalValues.canonical(
                            CanonicalValues.readColumn(rs, scanIndex[i], type), type));
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
}
