package io.tidemark.testing;

import io.tidemark.sink.HistoryTable;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;

/**
 * Checks of a history table ({@code history: scd2}) against its source and its replica: each key's
 * versions numbered 1, 2, ... without a gap or a repeat, each closed where (or before) the next
 * begins, at most one open; the open versions that hold a row equal to the replica's rows, every
 * column; and, against a trigger's record of the source's changes in commit order, one version per
 * change, in the change's transaction.
 */
public final class HistoryChecks {

    private HistoryChecks() {}

    /**
     * Records every row change of {@code table} (key column {@code key}) in {@code
     * history_audit.changes}: its order, operation ({@code I}, {@code U}, {@code D}; an update of
     * the key as {@code D} of the old key and {@code U} of the new), key and transaction id (the
     * 32-bit id the log carries).
     */
    public static void recordChanges(Statement sql, String table, String key) throws SQLException {
        sql.execute("CREATE SCHEMA IF NOT EXISTS history_audit");
        sql.execute(
                "CREATE TABLE IF NOT EXISTS history_audit.changes (seq bigserial PRIMARY KEY, "
                        + "op text NOT NULL, row_key text NOT NULL, tx bigint NOT NULL)");
        sql.execute(
                "CREATE OR REPLACE FUNCTION history_audit.record() RETURNS trigger "
                        + "LANGUAGE plpgsql AS $$ BEGIN "
                        + "IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD."
                        + key
                        + " <> NEW."
                        + key
                        + ") THEN INSERT INTO history_audit.changes(op, row_key, tx) "
                        + "VALUES ('D', OLD."
                        + key
                        + "::text, txid_current() % 4294967296); END IF; "
                        + "IF TG_OP <> 'DELETE' THEN INSERT INTO history_audit.changes(op, "
                        + "row_key, tx) VALUES (left(TG_OP, 1), NEW."
                        + key
                        + "::text, txid_current() % 4294967296); END IF; RETURN NULL; END $$");
        sql.execute(
                "CREATE TRIGGER record_history AFTER INSERT OR UPDATE OR DELETE ON "
                        + table
                        + " FOR EACH ROW EXECUTE FUNCTION history_audit.record()");
    }

    /** The newest recorded change's order (0: none). */
    public static long lastRecorded(Statement sql) throws SQLException {
        try (ResultSet rs =
                sql.executeQuery("SELECT coalesce(max(seq), 0) FROM history_audit.changes")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Per key, the transaction ids of the changes recorded after {@code after}, in order. */
    public static Map<String, List<Long>> recordedSince(Statement sql, long after)
            throws SQLException {
        return recordedSince(sql, after, 0, 0);
    }

    /**
     * As {@link #recordedSince(Statement, long)}, without those after {@code skipFrom} through
     * {@code skipTo} (changes a snapshot read as one row each, not as versions of the log).
     */
    public static Map<String, List<Long>> recordedSince(
            Statement sql, long after, long skipFrom, long skipTo) throws SQLException {
        Map<String, List<Long>> changes = new TreeMap<>();
        try (ResultSet rs =
                sql.executeQuery(
                        "SELECT row_key, tx FROM history_audit.changes WHERE seq > "
                                + after
                                + " AND NOT (seq > "
                                + skipFrom
                                + " AND seq <= "
                                + skipTo
                                + ") ORDER BY seq")) {
            while (rs.next()) {
                changes.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getLong(2));
            }
        }
        return changes;
    }

    /** Each key's versions ({@code key}: the key column), in version order. */
    public static Map<String, List<Record>> versions(Table history, String key) throws Exception {
        Map<String, List<Record>> versions = new TreeMap<>();
        try (CloseableIterable<Record> rows = IcebergGenerics.read(history).build()) {
            for (Record row : rows) {
                versions.computeIfAbsent(String.valueOf(row.getField(key)), k -> new ArrayList<>())
                        .add(row.copy());
            }
        }
        versions.values()
                .forEach(
                        list ->
                                list.sort(
                                        Comparator.comparing(
                                                r -> (Long) r.getField(HistoryTable.VERSION))));
        return versions;
    }

    /**
     * Per key, the transaction ids of the versions the log made (every version but the snapshot's),
     * in version order.
     */
    public static Map<String, List<Long>> logVersions(Map<String, List<Record>> versions) {
        Map<String, List<Long>> log = new TreeMap<>();
        versions.forEach(
                (key, list) -> {
                    for (Record version : list) {
                        if (!"snapshot".equals(version.getField(HistoryTable.OPERATION))) {
                            log.computeIfAbsent(key, k -> new ArrayList<>())
                                    .add((Long) version.getField(HistoryTable.TX_ID));
                        }
                    }
                });
        return log;
    }

    /**
     * What is wrong with {@code versions} (of the history of {@code replica}, keyed by {@code
     * key}): numbering, the chain of {@code valid_from}/{@code valid_to}, and the open versions
     * against the replica's rows, every column. Empty when nothing is.
     */
    public static List<String> problems(
            Map<String, List<Record>> versions, Table replica, String key) throws Exception {
        List<String> problems = new ArrayList<>();
        Map<String, Record> current = new TreeMap<>();
        for (Map.Entry<String, List<Record>> entry : versions.entrySet()) {
            List<Record> list = entry.getValue();
            for (int i = 0; i < list.size(); i++) {
                Record version = list.get(i);
                String at = entry.getKey() + " v" + (i + 1);
                if ((Long) version.getField(HistoryTable.VERSION) != i + 1) {
                    problems.add(
                            entry.getKey()
                                    + ": versions "
                                    + list.stream()
                                            .map(r -> r.getField(HistoryTable.VERSION))
                                            .toList());
                    break;
                }
                OffsetDateTime from = (OffsetDateTime) version.getField(HistoryTable.VALID_FROM);
                OffsetDateTime to = (OffsetDateTime) version.getField(HistoryTable.VALID_TO);
                if (from.getYear() < 2026) {
                    problems.add(at + ": begins at " + from);
                }
                if (to != null && to.isBefore(from)) {
                    problems.add(at + ": ends before it begins");
                }
                if (i + 1 < list.size()) {
                    OffsetDateTime next =
                            (OffsetDateTime) list.get(i + 1).getField(HistoryTable.VALID_FROM);
                    if (to == null || to.isAfter(next)) {
                        problems.add(at + ": open, or overlapping the next version");
                    }
                } else if (to == null
                        && !"delete".equals(version.getField(HistoryTable.OPERATION))) {
                    current.put(entry.getKey(), version);
                }
            }
        }
        Map<String, Record> rows = new TreeMap<>();
        try (CloseableIterable<Record> read = IcebergGenerics.read(replica).build()) {
            for (Record row : read) {
                rows.put(String.valueOf(row.getField(key)), row.copy());
            }
        }
        if (!rows.keySet().equals(current.keySet())) {
            List<String> missing = new ArrayList<>(rows.keySet());
            missing.removeAll(current.keySet());
            List<String> extra = new ArrayList<>(current.keySet());
            extra.removeAll(rows.keySet());
            problems.add(
                    "current versions: missing keys "
                            + head(missing)
                            + ", keys the replica lacks "
                            + head(extra));
        }
        for (Map.Entry<String, Record> row : rows.entrySet()) {
            Record version = current.get(row.getKey());
            if (version == null) {
                continue;
            }
            for (Types.NestedField column : replica.schema().columns()) {
                Object want = row.getValue().getField(column.name());
                Object got = version.getField(column.name());
                if (!Objects.deepEquals(want, got)
                        && !(want instanceof java.nio.ByteBuffer && want.equals(got))) {
                    problems.add(
                            row.getKey()
                                    + " column "
                                    + column.name()
                                    + ": history "
                                    + got
                                    + ", replica "
                                    + want);
                    break;
                }
            }
        }
        return problems;
    }

    private static List<String> head(List<String> keys) {
        return keys.size() <= 10 ? keys : keys.subList(0, 10);
    }
}
