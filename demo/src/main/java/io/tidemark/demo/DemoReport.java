package io.tidemark.demo;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.decode.SourcePosition;
import io.tidemark.deploy.TrinoServer;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.testbed.EmbeddedDatabase;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;

/**
 * What the demo prints: progress while the workload runs (what reached each table's writers and
 * what its commits hold), the ground-truth diff, where changes were last seen when a table differs,
 * the quarantine, the drift, the provenance and how to query the tables.
 */
final class DemoReport {

    /** A {@code commit_lsn} in a commit's source positions. */
    private static final Pattern COMMIT_LSN =
            Pattern.compile("\"commit_lsn\":\"([0-9A-F]+)/([0-9A-F]+)\"");

    private final DemoServers servers;
    private final List<ResolvedTable> tables;
    private final String slot;
    private final PrintStream out;

    DemoReport(DemoServers servers, List<ResolvedTable> tables, String slot, PrintStream out) {
        this.servers = servers;
        this.tables = tables;
        this.slot = slot;
        this.out = out;
    }

    /**
     * One progress line: the workload's changes, the slot's lag and per table what its writers
     * received ({@code accumulators}, as of the last TaskManager heartbeat) against what its
     * commits hold.
     */
    void printProgress(
            long changes, Map<String, Object> accumulators, Catalog catalog, Connection source)
            throws SQLException {
        StringBuilder line = new StringBuilder();
        line.append(
                String.format(
                        "[%s] workload %d changes | slot lag %s",
                        Instant.now().toString().substring(11, 19), changes, slotLag(source)));
        for (ResolvedTable table : tables) {
            Table iceberg = catalog.loadTable(table.target());
            Object received = accumulators.get("changes-in." + table.sourceTable());
            long commits = 0;
            long rows = 0;
            for (Snapshot snapshot : iceberg.snapshots()) {
                commits++;
                rows += Long.parseLong(snapshot.summary().getOrDefault("added-records", "0"));
            }
            Snapshot last = iceberg.currentSnapshot();
            line.append(
                    String.format(
                            " | %s: received %s changes through %s, committed %d rows in %d commits through %s, last commit %s",
                            table.target().name(),
                            received == null ? 0 : received,
                            receivedThrough(accumulators, table),
                            rows,
                            commits,
                            last == null ? "-" : committedThrough(last),
                            last == null ? "none" : age(last) + "s ago"));
        }
        out.println(line);
    }

    private static long age(Snapshot snapshot) {
        return Duration.between(Instant.ofEpochMilli(snapshot.timestampMillis()), Instant.now())
                .toSeconds();
    }

    private static String receivedThrough(Map<String, Object> accumulators, ResolvedTable table) {
        return accumulators.get("position-in." + table.sourceTable()) instanceof Long position
                ? SourcePosition.lsn(position)
                : "-";
    }

    /** The newest source position a commit names (its sources' highest {@code commit_lsn}). */
    static String committedThrough(Snapshot snapshot) {
        String positions = snapshot.summary().get(Provenance.SOURCE_POSITIONS);
        if (positions == null) {
            return "-";
        }
        String newest = "-";
        long highest = Long.MIN_VALUE;
        Matcher m = COMMIT_LSN.matcher(positions);
        while (m.find()) {
            long value = (Long.parseLong(m.group(1), 16) << 32) | Long.parseLong(m.group(2), 16);
            if (value > highest) {
                highest = value;
                newest = m.group(1) + "/" + m.group(2);
            }
        }
        return newest;
    }

    private String slotLag(Connection source) throws SQLException {
        if (servers.mysql()) {
            return "n/a (binlog)";
        }
        try (Statement s = source.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) FROM pg_replication_slots WHERE slot_name = '"
                                        + slot
                                        + "'")) {
            return rs.next() && rs.getObject(1) != null ? rs.getLong(1) / 1024 + " KiB" : "n/a";
        }
    }

    /** Each table against its source; shop.orders against the orders the contract admits. */
    List<DiffReport> diff(Connection source, Catalog catalog) throws SQLException {
        List<DiffReport> reports = new ArrayList<>();
        for (ResolvedTable table : tables) {
            String truth =
                    table.sourceTable().equals(servers.ordersTable())
                            ? servers.admittedView()
                            : table.sourceTable();
            reports.add(GroundTruthDiff.diff(source, truth, catalog.loadTable(table.target())));
        }
        return reports;
    }

    /**
     * The diff, then (when a table differs) where its changes were last seen, the provenance of
     * each table's last commit and how to query the tables.
     */
    void printReport(
            List<DiffReport> reports,
            Catalog catalog,
            Map<String, Object> accumulators,
            Path work,
            Duration wall)
            throws IOException {
        boolean clean = reports.stream().allMatch(DiffReport::isClean);
        out.println();
        out.println("Verification report (Iceberg table vs source table, row by row)");
        out.printf(
                "%-20s %-18s %12s %12s %8s %8s %10s %8s%n",
                "source",
                "iceberg",
                "source rows",
                "iceberg rows",
                "missing",
                "extra",
                "duplicate",
                "stale");
        for (DiffReport r : reports) {
            out.printf(
                    "%-20s %-18s %12d %12d %8d %8d %10d %8d%n",
                    r.sourceTable(),
                    shortName(r.icebergTable()),
                    r.sourceRows(),
                    r.tableRows(),
                    r.missing(),
                    r.extra(),
                    r.duplicate(),
                    r.stale());
            if (!r.isClean()) {
                out.println("  examples: " + r.examples());
            }
        }
        if (!clean) {
            printWhereLastSeen(catalog, accumulators);
        }
        out.println(
                clean
                        ? "RESULT: every table equals its source (0 missing, 0 extra, 0 duplicate, 0 stale)"
                        : "RESULT: DIFFERENCES FOUND (see above)");
        out.println();
        out.println(
                "Provenance of the last commit of each table (tidemark provenance --config "
                        + work.resolve("pipeline.yaml")
                        + " prints more):");
        for (ResolvedTable table : tables) {
            Provenance.print(
                    table.target().toString(),
                    Provenance.lastCommits(catalog.loadTable(table.target()), 1),
                    out);
        }
        printQueries(work);
        out.printf("Demo wall time: %ds%n", wall.toSeconds());
    }

    private void printQueries(Path work) throws IOException {
        Path trinoCatalog = work.resolve("trino/catalog/iceberg.properties");
        Files.createDirectories(trinoCatalog.getParent());
        Files.writeString(
                trinoCatalog,
                TrinoServer.propertiesFile(DemoFiles.trinoCatalog(servers, work)),
                StandardCharsets.UTF_8);
        out.println();
        out.println("Query the tables:");
        out.println(
                "  Iceberg catalog properties (Java/Flink/Spark): name="
                        + DemoFiles.CATALOG_NAME
                        + ", type=jdbc, uri="
                        + servers.catalogUrl()
                        + ", jdbc.user="
                        + EmbeddedDatabase.USER
                        + ", warehouse="
                        + work.resolve("warehouse").toUri());
        out.println(
                "  Trino catalog file: "
                        + trinoCatalog
                        + " (copy into a Trino etc/catalog/ directory)");
        out.println(
                "  e.g. SELECT * FROM iceberg.shop.orders; SELECT * FROM iceberg.shop.\"orders$snapshots\";");
        out.println(
                "  (the embedded database stops when the demo exits; both files point at it while it runs)");
    }

    /**
     * For a failed run, per table, what each stage counted, so a difference can be placed: changes
     * the writers received (accumulators; null when the job's are gone) against what the commits
     * say went in, and what the gate and the reconciler set aside. When every change the writers
     * received was committed, a missing row was never delivered to them: lost at the source or
     * before the reconciler.
     */
    private void printWhereLastSeen(Catalog catalog, Map<String, Object> accumulators) {
        if (accumulators == null) {
            out.println("  (no counts: the job's accumulators are gone)");
            return;
        }
        out.println("Where the changes were last seen (counts per stage):");
        for (ResolvedTable table : tables) {
            long in = 0;
            long quarantined = 0;
            long stale = 0;
            long late = 0;
            Snapshot last = catalog.loadTable(table.target()).currentSnapshot();
            for (Snapshot snapshot : catalog.loadTable(table.target()).snapshots()) {
                in += summaryCount(snapshot, Provenance.ROWS_IN);
                quarantined += summaryCount(snapshot, Provenance.ROWS_QUARANTINED);
                stale += summaryCount(snapshot, Provenance.ROWS_STALE);
                late += summaryCount(snapshot, Provenance.ROWS_LATE);
            }
            Object received = accumulators.get("changes-in." + table.sourceTable());
            out.printf(
                    "  %-18s commits: %d changes in, %d quarantined, %d stale, %d late, through %s; writers received %d (through %s)%n",
                    table.target().name(),
                    in,
                    quarantined,
                    stale,
                    late,
                    last == null ? "-" : committedThrough(last),
                    received instanceof Long count ? count : -1,
                    receivedThrough(accumulators, table));
        }
        out.println(
                "  (a missing row whose table was committed through a position after the row's "
                        + "change was never delivered by the source; the gate's and reconciler's "
                        + "counts say what they set aside)");
    }

    private static long summaryCount(Snapshot snapshot, String key) {
        String value = snapshot.summary().get(key);
        return value == null ? 0 : Long.parseLong(value);
    }

    private static String shortName(String icebergName) {
        int dot = icebergName.indexOf('.');
        return dot < 0 ? icebergName : icebergName.substring(dot + 1);
    }

    void printDrift(String type) {
        out.printf(
                "Schema drift: shop.orders %s%n",
                type == null
                        ? "does not have column " + DemoFaults.DRIFT_COLUMN + "  <-- MISMATCH"
                        : "gained column "
                                + DemoFaults.DRIFT_COLUMN
                                + " ("
                                + type
                                + ") without a restart (contract "
                                + servers.ordersTable()
                                + " v1, schema-evolution: evolve); its values are in the diff above");
    }

    /** The orders quarantine table's changes by reason code. */
    static Map<String, Long> quarantined(Catalog catalog) throws IOException {
        Map<String, Long> byReason = new TreeMap<>();
        TableIdentifier id = QuarantineTable.of(TableIdentifier.of("shop", "orders"));
        if (!catalog.tableExists(id)) {
            return byReason;
        }
        Table table = catalog.loadTable(id);
        if (table.currentSnapshot() == null) {
            return byReason;
        }
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
            for (Record row : rows) {
                byReason.merge(String.valueOf(row.getField("reasons")), 1L, Long::sum);
            }
        }
        return byReason;
    }

    void printQuarantine(Map<String, Long> quarantined) {
        long total = quarantined.values().stream().mapToLong(l -> l).sum();
        int bad = DemoFaults.BAD_STATUS + DemoFaults.BAD_NOTE;
        out.printf(
                "Quarantine: shop.orders__quarantine holds %d change(s) %s; %d bad orders were injected"
                        + " (%d with status 'lost', %d with a 150-character note)%s%n",
                total,
                quarantined,
                bad,
                DemoFaults.BAD_STATUS,
                DemoFaults.BAD_NOTE,
                total == bad ? "" : "  <-- MISMATCH");
        out.println(
                "  (tidemark quarantine --config <pipeline.yaml> --list 5 lists them; the orders contract"
                        + " is in the work directory's contracts/)");
    }
}
