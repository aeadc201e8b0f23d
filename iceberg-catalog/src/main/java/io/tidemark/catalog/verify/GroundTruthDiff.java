package io.tidemark.catalog.verify;

import io.tidemark.catalog.SqlNames;
import io.tidemark.catalog.provenance.Provenance;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Compares an Iceberg table with its source table row by row, by primary key (the table's
 * identifier fields), over every column of the Iceberg schema, without holding either table in
 * memory.
 *
 * <p>Values are compared in one canonical form per Iceberg type: decimals at the column's scale,
 * timestamps with zone as instants, binary as bytes.
 *
 * <p>Two phases, each a streaming read of both sides: the keys are hashed into {@link #BUCKETS}
 * buckets and each side's rows are summed per bucket as a count and an order-independent checksum
 * of their values; then only the buckets whose count or checksum differ are read again, a group of
 * at most {@link #ROWS_PER_PASS} rows at a time, row by row. Memory is the buckets' sums plus one
 * group's rows; time is two reads of each side (more when many buckets differ). Both phases read
 * the same state: the source in one {@code REPEATABLE READ} transaction, the table at one snapshot;
 * the report names both (the source's WAL position on Postgres, the snapshot's id and the source
 * positions its commit recorded). A source that moves shows its changes not yet committed as
 * differences: {@link #recheck} compares just the buckets that differed, at newer states, until
 * they settle.
 */
public final class GroundTruthDiff {

    static final int MAX_EXAMPLES = 5;

    /**
     * Differing keys a report names by fingerprint at most ({@link DiffReport#differingKeys}): what
     * a repair re-reads by their key ranges (8 bytes each in the report, 40 MB at this bound; 11 to
     * 22 while collecting); beyond it, a repair re-reads the differing buckets (with this many keys
     * differing, about the whole table).
     */
    public static final int MAX_KEYS = 5_000_000;

    /** Buckets the keys are hashed into: 16 bytes each per side, about a thousandth of a row. */
    public static final int BUCKETS = 1 << 16;

    /** Rows (of the larger side) one pass of the second phase holds in memory at most. */
    static final long ROWS_PER_PASS = 200_000;

    private GroundTruthDiff() {}

    /**
     * Diffs {@code table} with {@code sourceTable} (a possibly schema-qualified name) read through
     * {@code source}. The table is refreshed first.
     */
    public static DiffReport diff(Connection source, String sourceTable, Table table)
            throws SQLException {
        return diff(source, sourceTable, table, null, ROWS_PER_PASS);
    }

    /**
     * As {@link #diff(Connection, String, Table)}, holding at most about {@code rowsPerPass} rows
     * of the differing buckets in memory at a time (one bucket's rows at least).
     */
    public static DiffReport diff(
            Connection source, String sourceTable, Table table, long rowsPerPass)
            throws SQLException {
        return diff(source, sourceTable, table, null, rowsPerPass);
    }

    /**
     * Compares again, at the source's and the table's current states, only the buckets that
     * differed in {@code previous}: a change in flight when {@code previous} was read settles here,
     * a real difference stays. The row totals stay those of the full read of {@code previous}; the
     * differences and the states are this comparison's.
     */
    public static DiffReport recheck(
            Connection source, String sourceTable, Table table, DiffReport previous)
            throws SQLException {
        BitSet buckets = new BitSet(BUCKETS);
        previous.differingBuckets().forEach(buckets::set);
        DiffReport again = diff(source, sourceTable, table, buckets, ROWS_PER_PASS);
        return new DiffReport(
                again.sourceTable(),
                again.icebergTable(),
                previous.sourceRows(),
                previous.tableRows(),
                again.missing(),
                again.extra(),
                again.duplicate(),
                again.stale(),
                again.examples(),
                again.bucketsCompared(),
                again.differingBuckets(),
                again.sourceAt(),
                again.tableAt(),
                again.columnsNotInSource(),
                again.differingKeys());
    }

    /** What one side holds, per bucket: rows and the sum of their checksums. */
    private static final class Sums {
        final long[] rows = new long[BUCKETS];
        final long[] checksums = new long[BUCKETS];
        long total;

        void add(int bucket, long checksum) {
            rows[bucket]++;
            checksums[bucket] += checksum;
            total++;
        }
    }

    private static DiffReport diff(
            Connection source, String sourceTable, Table table, BitSet only, long rowsPerPass)
            throws SQLException {
        table.refresh();
        Schema full = table.schema();
        List<String> key = List.copyOf(full.identifierFieldNames());
        // a column dropped in the source and kept in Iceberg (schema-evolution: lenient) is not
        // compared
        List<String> inSource = sourceColumns(source, sourceTable);
        List<String> notInSource = new ArrayList<>();
        List<Types.NestedField> compared = new ArrayList<>();
        for (Types.NestedField column : full.columns()) {
            if (inSource.contains(column.name()) || key.contains(column.name())) {
                compared.add(column);
            } else {
                notInSource.add(column.name());
            }
        }
        Schema schema = notInSource.isEmpty() ? full : new Schema(compared);
        if (key.isEmpty()) {
            throw new IllegalArgumentException(
                    "table " + table.name() + " has no identifier fields: cannot diff by key");
        }
        int[] keyIndexes =
                schema.columns().stream()
                        .filter(column -> key.contains(column.name()))
                        .mapToInt(column -> schema.columns().indexOf(column))
                        .toArray();
        Snapshot snapshot = table.currentSnapshot();
        boolean ownTransaction = source.getAutoCommit();
        int isolation = source.getTransactionIsolation();
        if (ownTransaction) {
            // both phases read one state of the source
            source.setAutoCommit(false);
            source.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        }
        try {
            String sourceAt = sourcePosition(source);
            SourceRows sourceRows = new SourceRows(source, sourceTable, schema, keyIndexes);
            TargetRows tableRows = new TargetRows(table, snapshot, schema, keyIndexes);

            // phase 1: count and checksum per bucket
            Sums expected = new Sums();
            Sums actual = new Sums();
            sourceRows.scan(
                    only,
                    (bucket, rowKey, row) -> expected.add(bucket, CanonicalValues.checksum(row)));
            tableRows.scan(
                    only,
                    (bucket, rowKey, row) -> actual.add(bucket, CanonicalValues.checksum(row)));
            List<Integer> differing = new ArrayList<>();
            for (int bucket = 0; bucket < BUCKETS; bucket++) {
                if (expected.rows[bucket] != actual.rows[bucket]
                        || expected.checksums[bucket] != actual.checksums[bucket]) {
                    differing.add(bucket);
                }
            }

            // phase 2: the differing buckets row by row, a group of buckets per pass
            Comparison comparison = new Comparison();
            int next = 0;
            while (next < differing.size()) {
                BitSet group = new BitSet(BUCKETS);
                long rows = 0;
                do {
                    int bucket = differing.get(next++);
                    group.set(bucket);
                    rows += Math.max(expected.rows[bucket], actual.rows[bucket]);
                } while (next < differing.size() && rows < rowsPerPass);
                comparison.compare(sourceRows, tableRows, group);
            }
            return new DiffReport(
                    sourceTable,
                    table.name(),
                    expected.total,
                    actual.total,
                    comparison.missing,
                    comparison.extra,
                    comparison.duplicate,
                    comparison.stale,
                    comparison.examples,
                    only == null ? BUCKETS : only.cardinality(),
                    differing,
                    sourceAt,
                    snapshot == null ? "none" : snapshotText(snapshot),
                    notInSource,
                    comparison.keys.build());
        } finally {
            if (ownTransaction) {
                source.rollback();
                source.setAutoCommit(true);
                source.setTransactionIsolation(isolation);
            }
        }
    }

    /** The row-by-row comparison of groups of buckets, summed over the groups. */
    private static final class Comparison {
        long missing;
        long extra;
        long duplicate;
        long stale;
        final List<String> examples = new ArrayList<>();

        /** The differing keys' fingerprints; none once more than {@link #MAX_KEYS} differ. */
        final KeyFingerprints.Builder keys = new KeyFingerprints.Builder(MAX_KEYS);

        private void differs(List<Object> rowKey) {
            keys.add(CanonicalValues.keyFingerprint(rowKey));
        }

        void compare(SourceRows sourceRows, TargetRows tableRows, BitSet group)
                throws SQLException {
            Map<List<Object>, List<Object>> expected = new HashMap<>();
            Map<List<Object>, List<Object>> actual = new HashMap<>();
            sourceRows.scan(group, (bucket, rowKey, row) -> expected.put(rowKey, row));
            tableRows.scan(
                    group,
                    (bucket, rowKey, row) -> {
                        if (actual.putIfAbsent(rowKey, row) != null) {
                            duplicate++;
                            differs(rowKey);
                            example(examples, "duplicate", rowKey);
                        }
                    });
            for (Map.Entry<List<Object>, List<Object>> entry : expected.entrySet()) {
                List<Object> row = actual.get(entry.getKey());
                if (row == null) {
                    missing++;
                    differs(entry.getKey());
                    example(examples, "missing", entry.getKey());
                } else if (!row.equals(entry.getValue())) {
                    stale++;
                    differs(entry.getKey());
                    example(
                            examples,
                            "stale",
                            entry.getKey() + " table " + row + " source " + entry.getValue());
                }
            }
            for (List<Object> rowKey : actual.keySet()) {
                if (!expected.containsKey(rowKey)) {
                    extra++;
                    differs(rowKey);
                    example(examples, "extra", rowKey);
                }
            }
        }
    }

    /** Receives the rows of a scan: each row's bucket, key and canonical values. */
    @FunctionalInterface
    private interface RowConsumer {
        void accept(int bucket, List<Object> key, List<Object> row);
    }

    /** The names of {@code sourceTable}'s columns, as its result set names them. */
    private static List<String> sourceColumns(Connection source, String sourceTable)
            throws SQLException {
        String quote = source.getMetaData().getIdentifierQuoteString().trim();
        List<String> columns = new ArrayList<>();
        try (Statement statement = source.createStatement();
                ResultSet rs =
                        statement.executeQuery(
                                "SELECT * FROM "
                                        + SqlNames.quoteQualified(sourceTable, quote)
                                        + " WHERE 1 = 0")) {
            java.sql.ResultSetMetaData meta = rs.getMetaData();
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                columns.add(meta.getColumnName(i));
            }
        }
        return columns;
    }

    /** The source table, read in the caller's transaction, streamed. */
    private static final class SourceRows {
        private final Connection connection;
        private final String sql;
        private final List<Types.NestedField> columns;
        private final int[] keyIndexes;
        private final boolean mysql;

        SourceRows(Connection connection, String sourceTable, Schema schema, int[] keyIndexes)
                throws SQLException {
            this.connection = connection;
            this.columns = schema.columns();
            this.keyIndexes = keyIndexes;
            // '"' in Postgres, '`' in MySQL
            String quote = connection.getMetaData().getIdentifierQuoteString().trim();
            this.mysql = quote.equals("`");
            StringBuilder select = new StringBuilder("SELECT ");
            for (int i = 0; i < columns.size(); i++) {
                select.append(i == 0 ? "" : ", ")
                        .append(SqlNames.quote(columns.get(i).name(), quote));
            }
            this.sql =
                    select.append(" FROM ")
                            .append(SqlNames.quoteQualified(sourceTable, quote))
                            .toString();
        }

        void scan(BitSet buckets, RowConsumer consumer) throws SQLException {
            try (Statement statement =
                    connection.createStatement(
                            ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
                // streamed: Postgres fetches in batches inside a transaction, MySQL's driver
                // streams row by row only with this value
                statement.setFetchSize(mysql ? Integer.MIN_VALUE : 10_000);
                try (ResultSet rs = statement.executeQuery(sql)) {
                    while (rs.next()) {
                        List<Object> row = new ArrayList<>(columns.size());
                        for (int i = 0; i < columns.size(); i++) {
                            Type type = columns.get(i).type();
                            row.add(
                                    CanonicalValues.canonical(
                                            CanonicalValues.readColumn(rs, i + 1, type), type));
                        }
                        accept(row, keyIndexes, buckets, consumer);
                    }
                }
            }
        }
    }

    /** The Iceberg table at one snapshot, streamed. */
    private static final class TargetRows {
        private final Table table;
        private final Snapshot snapshot;
        private final List<Types.NestedField> columns;
        private final int[] keyIndexes;

        TargetRows(Table table, Snapshot snapshot, Schema schema, int[] keyIndexes) {
            this.table = table;
            this.snapshot = snapshot;
            this.columns = schema.columns();
            this.keyIndexes = keyIndexes;
        }

        void scan(BitSet buckets, RowConsumer consumer) {
            if (snapshot == null) {
                return;
            }
            try (CloseableIterable<Record> records = TableRows.read(table, snapshot.snapshotId())) {
                for (Record record : records) {
                    List<Object> row = new ArrayList<>(columns.size());
                    for (Types.NestedField column : columns) {
                        row.add(
                                CanonicalValues.canonical(
                                        record.getField(column.name()), column.type()));
                    }
                    accept(row, keyIndexes, buckets, consumer);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private static void accept(
            List<Object> row, int[] keyIndexes, BitSet buckets, RowConsumer consumer) {
        List<Object> rowKey = new ArrayList<>(keyIndexes.length);
        for (int index : keyIndexes) {
            rowKey.add(row.get(index));
        }
        int bucket = CanonicalValues.bucket(rowKey);
        if (buckets == null || buckets.get(bucket)) {
            consumer.accept(bucket, rowKey, row);
        }
    }

    /**
     * Where the source's read stands: the time, and on Postgres the WAL position (the replay
     * position on a standby) read in the comparison's transaction.
     */
    private static String sourcePosition(Connection source) throws SQLException {
        String at = "read at " + java.time.Instant.now();
        if (!source.getMetaData().getDatabaseProductName().equals("PostgreSQL")) {
            return at;
        }
        try (Statement statement = source.createStatement();
                ResultSet rs =
                        statement.executeQuery(
                                "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
                                        + " ELSE pg_current_wal_lsn() END")) {
            return rs.next() ? at + ", WAL " + rs.getString(1) : at;
        }
    }

    private static String snapshotText(Snapshot snapshot) {
        String positions = snapshot.summary().get(Provenance.SOURCE_POSITIONS);
        return snapshot.snapshotId()
                + (positions == null ? "" : " (committed source positions " + positions + ")");
    }

    private static void example(List<String> examples, String kind, Object detail) {
        if (examples.size() < MAX_EXAMPLES * 4) {
            long ofKind = examples.stream().filter(e -> e.startsWith(kind)).count();
            if (ofKind < MAX_EXAMPLES) {
                examples.add(kind + " " + detail);
            }
        }
    }
}
