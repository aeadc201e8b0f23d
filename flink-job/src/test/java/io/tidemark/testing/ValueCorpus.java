package io.tidemark.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.sink.QuarantineTable;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.awaitility.Awaitility;

/**
 * A value corpus: one source table per column type, {@code (id, v)}, value {@code i} written as row
 * {@code 2i} before the job starts (the snapshot reads it) and as row {@code 2i + 1} after (the log
 * reads it), each with the outcome it must have on each path.
 */
public final class ValueCorpus {

    /**
     * What must become of a value on each path (0 the snapshot, 1 the log): a null reason equal,
     * else the quarantine reason.
     */
    public record Value(String literal, String snapshotReason, String logReason) {

        public String reason(int path) {
            return path == 0 ? snapshotReason : logReason;
        }
    }

    public static Value equal(String literal) {
        return new Value(literal, null, null);
    }

    public static Value quarantined(String literal, String reason) {
        return new Value(literal, reason, reason);
    }

    /** Quarantined when the snapshot reads it, equal when the log does. */
    public static Value quarantinedFromTheSnapshot(String literal, String reason) {
        return new Value(literal, reason, null);
    }

    private final String schema;
    private final String namespace;
    private final Map<String, Map.Entry<String, List<Value>>> tables = new LinkedHashMap<>();

    /** Source tables in {@code schema}, their Iceberg tables in {@code namespace}. */
    public ValueCorpus(String schema, String namespace) {
        this.schema = schema;
        this.namespace = namespace;
    }

    /** Adds table {@code name} with column {@code v} of {@code type} and its values. */
    public ValueCorpus table(String name, String type, Value... values) {
        tables.put(name, Map.entry(type, List.of(values)));
        return this;
    }

    /** The source tables, {@code schema.table}. */
    public List<String> sourceTables() {
        return tables.keySet().stream().map(t -> schema + "." + t).toList();
    }

    /** The Iceberg tables. */
    public TableIdentifier[] targets() {
        return tables.keySet().stream()
                .map(t -> TableIdentifier.of(namespace, t))
                .toArray(TableIdentifier[]::new);
    }

    /** Creates the tables ({@code suffix} after the column list) and writes the snapshot's rows. */
    public void create(Statement sql, String suffix) throws SQLException {
        for (Map.Entry<String, Map.Entry<String, List<Value>>> table : tables.entrySet()) {
            sql.execute(
                    "CREATE TABLE "
                            + schema
                            + "."
                            + table.getKey()
                            + " (id integer PRIMARY KEY, v "
                            + table.getValue().getKey()
                            + ")"
                            + suffix);
        }
        write(sql, 0);
    }

    /** Writes value i of every table as row 2i + path. */
    public void write(Statement sql, int path) throws SQLException {
        for (Map.Entry<String, Map.Entry<String, List<Value>>> table : tables.entrySet()) {
            List<Value> values = table.getValue().getValue();
            for (int i = 0; i < values.size(); i++) {
                sql.execute(
                        "INSERT INTO "
                                + schema
                                + "."
                                + table.getKey()
                                + " VALUES ("
                                + (2 * i + path)
                                + ", "
                                + values.get(i).literal()
                                + ")");
            }
        }
    }

    /**
     * Creates, per table, a view {@code <table>_equal} of the rows that must be equal in Iceberg
     * (all but those quarantined, less {@code repaired}: {@code "<table> <id>"} of rows the test
     * changed to equal values since) and returns the views to compare with their Iceberg tables.
     */
    public Map<String, TableIdentifier> equalViews(Statement sql, Set<String> repaired)
            throws SQLException {
        Map<String, TableIdentifier> views = new TreeMap<>();
        for (Map.Entry<String, List<String>> table : expectedQuarantine().entrySet()) {
            List<String> held = new ArrayList<>();
            for (String row : table.getValue()) {
                String id = row.substring(0, row.indexOf(' '));
                if (!repaired.contains(table.getKey() + " " + id)) {
                    held.add(id);
                }
            }
            views.put(
                    view(sql, table.getKey(), held), TableIdentifier.of(namespace, table.getKey()));
        }
        for (String table : tables.keySet()) {
            if (!views.containsValue(TableIdentifier.of(namespace, table))) {
                views.put(view(sql, table, List.of()), TableIdentifier.of(namespace, table));
            }
        }
        return views;
    }

    private String view(Statement sql, String table, List<String> held) throws SQLException {
        String view = schema + "." + table + "_equal";
        sql.execute(
                "CREATE VIEW "
                        + view
                        + " AS SELECT * FROM "
                        + schema
                        + "."
                        + table
                        + (held.isEmpty()
                                ? ""
                                : " WHERE id NOT IN (" + String.join(",", held) + ")"));
        return view;
    }

    /** Per table, {@code "<id> <reason>"} of each row that must be in quarantine, sorted. */
    public Map<String, List<String>> expectedQuarantine() {
        Map<String, List<String>> expected = new TreeMap<>();
        for (Map.Entry<String, Map.Entry<String, List<Value>>> table : tables.entrySet()) {
            List<Value> values = table.getValue().getValue();
            for (int i = 0; i < values.size(); i++) {
                for (int path = 0; path < 2; path++) {
                    if (values.get(i).reason(path) != null) {
                        expected.computeIfAbsent(table.getKey(), t -> new ArrayList<>())
                                .add((2 * i + path) + " " + values.get(i).reason(path));
                    }
                }
            }
        }
        expected.values().forEach(l -> l.sort(null));
        return expected;
    }

    /** Waits until the quarantine holds exactly the rows {@link #expectedQuarantine()} names. */
    public void awaitQuarantine(Catalog catalog) {
        Awaitility.await("the quarantined values")
                .atMost(Duration.ofMinutes(2))
                .untilAsserted(
                        () -> assertThat(quarantined(catalog)).isEqualTo(expectedQuarantine()));
    }

    /** Per table, {@code "<id> <reasons>"} of each row the pipeline's unrouted quarantine holds. */
    public Map<String, List<String>> quarantined(Catalog catalog) throws Exception {
        TableIdentifier unrouted =
                QuarantineTable.unrouted(
                        TableIdentifier.of(namespace, tables.keySet().iterator().next()));
        Map<String, List<String>> rows = new TreeMap<>();
        if (!catalog.tableExists(unrouted)) {
            return rows;
        }
        Table quarantine = catalog.loadTable(unrouted);
        quarantine.refresh();
        try (CloseableIterable<Record> records = IcebergGenerics.read(quarantine).build()) {
            for (Record record : records) {
                String table = String.valueOf(record.getField("source_table"));
                String key = String.valueOf(record.getField("key"));
                rows.computeIfAbsent(
                                table.substring(table.indexOf('.') + 1), t -> new ArrayList<>())
                        .add(key.replaceAll("[\\[\\]]", "") + " " + record.getField("reasons"));
            }
        }
        rows.values().forEach(l -> l.sort(null));
        return rows;
    }
}
