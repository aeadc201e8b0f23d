package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.HistoryTable;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.HistoryChecks;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code history: scd2}: the history table holds every version of every row, against the full
 * sequence of source changes as a trigger in the source database recorded them (every insert,
 * update and delete, a key changed by an update as its delete and insert, several changes of one
 * key in one transaction, a truncate), through a restore from a savepoint with changes made while
 * the job was stopped, and through a start without state (the snapshot rows equal to the open
 * versions add none). Each key's versions are numbered 1, 2, ... without a gap, each closed where
 * the next begins, and the rows with {@code valid_to} null rebuild the replica and the source.
 */
class HistoryITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("hist", "iceberg_catalog");

    private static final TableIdentifier ACCOUNTS = TableIdentifier.of("hist", "accounts");
    private static final TableIdentifier HISTORY = HistoryTable.of(ACCOUNTS);
    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    /** What a version holds: the row's columns, or {@link #GONE} for a delete. */
    private static final String GONE = "<deleted>";

    @Test
    void historyHoldsEveryVersionThroughRestoreAndAFreshStart() throws Exception {
        try (Connection source = DATABASE.get().connect("hist");
                Statement sql = source.createStatement()) {
            createTables(sql);
            // a second record, of transaction ids: each version the log made names its change's
            HistoryChecks.recordChanges(sql, "public.accounts", "id");
            sql.execute(
                    "INSERT INTO public.accounts SELECT g, 'owner ' || g, g * 1.5 "
                            + "FROM generate_series(1, 100) g");
            PipelineConfig config =
                    TestPipelines.fromResource(
                            "history.yaml", DATABASE.get(), DATABASE.dir(), "hist-it");
            RunContext run = RunContext.start(config.pipelineId(), null);
            Catalog catalog = TestPipelines.catalog(config);
            Map<String, TableIdentifier> tables = Map.of("public.accounts", ACCOUNTS);
            JobClient job = TestJobs.start(config, run, CommitListener.NONE, null);
            Expected expected;
            Path savepoint;
            try {
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                // the snapshot made version 1 of every row; the trigger's record starts here
                expected = new Expected(rows(sql), lastChange(sql));
                expected.transactionsFrom = HistoryChecks.lastRecorded(sql);
                workload(source, sql, new Random(7));
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                awaitHistory(catalog, source, sql, expected);

                // a truncate and rows written after it in its transaction, then more changes
                source.setAutoCommit(false);
                sql.execute("UPDATE public.accounts SET balance = balance + 1 WHERE id <= 3");
                sql.execute("TRUNCATE public.accounts");
                sql.execute(
                        "INSERT INTO public.accounts SELECT g, 'after ' || g, g "
                                + "FROM generate_series(1, 20) g");
                source.commit();
                source.setAutoCommit(true);
                workload(source, sql, new Random(11));
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                awaitHistory(catalog, source, sql, expected);

                savepoint = TestJobs.stopWithSavepoint(job, DATABASE.dir().resolve("savepoint"));
            } catch (Throwable e) {
                GroundTruth.cancel(job);
                throw e;
            }

            // changed while the job is stopped, read from the log after the restore
            workload(source, sql, new Random(13));
            job = TestJobs.start(config, run, CommitListener.NONE, savepoint);
            try {
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                awaitHistory(catalog, source, sql, expected);
                workload(source, sql, new Random(17));
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                awaitHistory(catalog, source, sql, expected);
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("hist", config.source().slotName());
            }

            // a start without state, from a new slot: each row is read again by the snapshot. The
            // rows changed meanwhile (once each, and none deleted: the snapshot sees only the net
            // row) get a version; the others, equal to their open version, none
            expected.snapshotFrom = HistoryChecks.lastRecorded(sql);
            sql.execute("UPDATE public.accounts SET owner = owner || ' moved' WHERE id % 7 = 0");
            sql.execute("INSERT INTO public.accounts VALUES (90001, 'while stopped', 3.25)");
            expected.snapshotTo = HistoryChecks.lastRecorded(sql);
            job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null);
            try {
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                awaitHistory(catalog, source, sql, expected);
                workload(source, sql, new Random(19));
                GroundTruth.awaitEqual(job, source, catalog, tables, TIMEOUT);
                awaitHistory(catalog, source, sql, expected);
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("hist", config.source().slotName());
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
    }

    /**
     * Under an event-time ordering the history follows the ordering column: a version begins at its
     * row's {@code updated_at}, and a change whose {@code updated_at} is older than the row's
     * applied one (stale: the replica keeps the newer row) makes no version, while one newer than
     * it (committed later or not) does.
     */
    @Test
    void underAnEventTimeOrderingVersionsFollowTheOrderingColumnAndStaleChangesMakeNone()
            throws Exception {
        TableIdentifier prices = TableIdentifier.of("hist", "prices");
        try (Connection source = DATABASE.get().connect("hist");
                Statement sql = source.createStatement()) {
            sql.execute(
                    "CREATE TABLE public.prices (id bigint PRIMARY KEY, price numeric(12,2) NOT NULL, "
                            + "updated_at timestamptz NOT NULL)");
            sql.execute(
                    "INSERT INTO public.prices SELECT g, g, TIMESTAMPTZ '2026-01-01 00:00:00+00' "
                            + "FROM generate_series(1, 10) g");
            PipelineConfig config =
                    io.tidemark.testing.PipelineYaml.postgres(
                                    DATABASE.get(), "hist", DATABASE.dir(), "hist-event-time")
                            .table(
                                    "public.prices",
                                    prices.toString(),
                                    "ordering",
                                    "event-time:updated_at",
                                    "history",
                                    "scd2")
                            .config();
            Catalog catalog = TestPipelines.catalog(config);
            JobClient job = TestJobs.start(config);
            try {
                GroundTruth.awaitEqual(
                        job, source, catalog, Map.of("public.prices", prices), TIMEOUT);
                sql.execute(
                        "UPDATE public.prices SET price = 100, "
                                + "updated_at = TIMESTAMPTZ '2026-01-01 00:05:00+00' WHERE id = 1");
                // older than the row's: stale, in the replica and in the history
                sql.execute(
                        "UPDATE public.prices SET price = 99, "
                                + "updated_at = TIMESTAMPTZ '2026-01-01 00:03:00+00' WHERE id = 1");
                sql.execute(
                        "UPDATE public.prices SET price = 200, "
                                + "updated_at = TIMESTAMPTZ '2026-01-01 00:10:00+00' WHERE id = 1");
                sql.execute(
                        "INSERT INTO public.prices VALUES (11, 11, TIMESTAMPTZ '2026-01-02 00:00:00+00')");
                // the last change is the newest by the ordering column too: the replica ends equal
                // to the source, and its checkpoint's history (committed before it) is there
                GroundTruth.awaitEqual(
                        job, source, catalog, Map.of("public.prices", prices), TIMEOUT);
                Map<String, List<Record>> versions =
                        HistoryChecks.versions(catalog.loadTable(HistoryTable.of(prices)), "id");
                List<Record> one = versions.get("1");
                assertThat(one.stream().map(v -> ((BigDecimal) v.getField("price")).intValue()))
                        .containsExactly(1, 100, 200);
                OffsetDateTime start = OffsetDateTime.parse("2026-01-01T00:00:00Z");
                assertThat(one.stream().map(v -> v.getField(HistoryTable.VALID_FROM)))
                        .containsExactly(start, start.plusMinutes(5), start.plusMinutes(10));
                assertThat(one.stream().map(v -> v.getField(HistoryTable.VALID_TO)))
                        .containsExactly(start.plusMinutes(5), start.plusMinutes(10), null);
                assertThat(versions.get("2")).hasSize(1);
                // the replica holds the newest row by the ordering column, and so do the history's
                // open versions
                assertThat(HistoryChecks.problems(versions, catalog.loadTable(prices), "id"))
                        .isEmpty();
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("hist", config.source().slotName());
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
    }

    /** The captured table, and the trigger that records each of its changes in commit order. */
    private static void createTables(Statement sql) throws SQLException {
        sql.execute(
                "CREATE TABLE public.accounts (id bigint PRIMARY KEY, owner text NOT NULL, "
                        + "balance numeric(12,2))");
        sql.execute("CREATE SCHEMA audit");
        sql.execute(
                "CREATE TABLE audit.changes (seq bigserial PRIMARY KEY, op text NOT NULL, "
                        + "id bigint, owner text, balance numeric(12,2))");
        sql.execute(
                "CREATE FUNCTION audit.record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "IF TG_OP = 'TRUNCATE' THEN INSERT INTO audit.changes(op) VALUES ('T'); "
                        + "RETURN NULL; END IF; "
                        + "IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.id <> NEW.id) THEN "
                        + "INSERT INTO audit.changes(op, id) VALUES ('D', OLD.id); END IF; "
                        + "IF TG_OP <> 'DELETE' THEN INSERT INTO audit.changes(op, id, owner, "
                        + "balance) VALUES (left(TG_OP, 1), NEW.id, NEW.owner, NEW.balance); "
                        + "END IF; RETURN NULL; END $$");
        sql.execute(
                "CREATE TRIGGER record_rows AFTER INSERT OR UPDATE OR DELETE ON public.accounts "
                        + "FOR EACH ROW EXECUTE FUNCTION audit.record()");
        sql.execute(
                "CREATE TRIGGER record_truncate AFTER TRUNCATE ON public.accounts "
                        + "FOR EACH STATEMENT EXECUTE FUNCTION audit.record()");
    }

    /**
     * Transactions from one session (so the trigger's order is the commit order): updates, some of
     * one key twice in one transaction, inserts, deletes, a key deleted and inserted again, a key
     * changed by an update, and an update that changes nothing.
     */
    private static void workload(Connection source, Statement sql, Random random)
            throws SQLException {
        long next = 1000L + random.nextInt(1_000_000) * 10L;
        for (int tx = 0; tx < 25; tx++) {
            source.setAutoCommit(false);
            List<Long> ids = ids(sql);
            for (int change = 0; change < 4 && !ids.isEmpty(); change++) {
                long id = ids.get(random.nextInt(ids.size()));
                switch (random.nextInt(6)) {
                    case 0, 1 ->
                            sql.execute(
                                    "UPDATE public.accounts SET balance = balance + "
                                            + (1 + random.nextInt(50))
                                            + " WHERE id = "
                                            + id);
                    case 2 -> {
                        sql.execute(
                                "UPDATE public.accounts SET owner = 'o"
                                        + tx
                                        + "' WHERE id = "
                                        + id);
                        sql.execute("UPDATE public.accounts SET balance = 0 WHERE id = " + id);
                    }
                    case 3 ->
                            sql.execute(
                                    "INSERT INTO public.accounts VALUES ("
                                            + next++
                                            + ", 'new', "
                                            + random.nextInt(100)
                                            + ")");
                    case 4 -> {
                        sql.execute("DELETE FROM public.accounts WHERE id = " + id);
                        ids.remove(id);
                    }
                    default ->
                            sql.execute(
                                    "UPDATE public.accounts SET owner = owner WHERE id = " + id);
                }
            }
            source.commit();
        }
        source.setAutoCommit(true);
        List<Long> ids = ids(sql);
        long id = ids.get(random.nextInt(ids.size()));
        sql.execute("DELETE FROM public.accounts WHERE id = " + id);
        sql.execute("INSERT INTO public.accounts VALUES (" + id + ", 'back', 1)");
        sql.execute("UPDATE public.accounts SET id = " + next++ + " WHERE id = " + id);
    }

    private static List<Long> ids(Statement sql) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (ResultSet rs = sql.executeQuery("SELECT id FROM public.accounts ORDER BY id")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }

    private static Map<Long, String> rows(Statement sql) throws SQLException {
        Map<Long, String> rows = new TreeMap<>();
        try (ResultSet rs = sql.executeQuery("SELECT id, owner, balance FROM public.accounts")) {
            while (rs.next()) {
                rows.put(rs.getLong(1), image(rs.getString(2), rs.getBigDecimal(3)));
            }
        }
        return rows;
    }

    private static long lastChange(Statement sql) throws SQLException {
        try (ResultSet rs = sql.executeQuery("SELECT coalesce(max(seq), 0) FROM audit.changes")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String image(String owner, BigDecimal balance) {
        return owner
                + "|"
                + (balance == null ? null : balance.setScale(2, RoundingMode.UNNECESSARY));
    }

    /**
     * What each key's history must hold: its row when the record starts, then one entry per
     * recorded change since (a truncate adds none: it closes the open versions). A start without
     * state reads the rows changed while it was stopped as one version each, which the test's
     * changes then make (one change per row).
     */
    private static final class Expected {
        final Map<Long, List<String>> versions = new TreeMap<>();
        long through;

        /** Where the record of transaction ids starts, and the changes a snapshot read. */
        long transactionsFrom;

        long snapshotFrom;
        long snapshotTo;

        Expected(Map<Long, String> start, long through) {
            start.forEach((id, row) -> versions.put(id, new ArrayList<>(List.of(row))));
            this.through = through;
        }

        /** Adds the changes the trigger recorded since the last call. */
        void catchUp(Statement sql) throws SQLException {
            try (ResultSet rs =
                    sql.executeQuery(
                            "SELECT seq, op, id, owner, balance FROM audit.changes WHERE seq > "
                                    + through
                                    + " ORDER BY seq")) {
                while (rs.next()) {
                    through = rs.getLong(1);
                    String op = rs.getString(2);
                    if (op.equals("T")) {
                        continue;
                    }
                    long id = rs.getLong(3);
                    versions.computeIfAbsent(id, k -> new ArrayList<>())
                            .add(
                                    op.equals("D")
                                            ? GONE
                                            : image(rs.getString(4), rs.getBigDecimal(5)));
                }
            }
        }
    }

    /** Waits until the history table holds exactly what {@code expected} says, and checks it. */
    private static void awaitHistory(
            Catalog catalog, Connection source, Statement sql, Expected expected) throws Exception {
        expected.catchUp(sql);
        // the last poll's findings, whole (the poll runs on Awaitility's thread)
        java.util.concurrent.atomic.AtomicReference<List<String>> problems =
                new java.util.concurrent.atomic.AtomicReference<>(List.of());
        try {
            Awaitility.await("history table equal to the recorded changes")
                    .atMost(TIMEOUT)
                    .pollInterval(Duration.ofMillis(500))
                    .until(
                            () -> {
                                List<String> found = problems(catalog, sql, expected);
                                problems.set(found);
                                return found.isEmpty();
                            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("history differs: " + problems.get(), e);
        }
    }

    /** Every way the history table differs from the recorded changes and the source. */
    private static List<String> problems(Catalog catalog, Statement sql, Expected expected)
            throws Exception {
        Map<Long, List<Record>> history = new TreeMap<>();
        try (CloseableIterable<Record> rows =
                IcebergGenerics.read(catalog.loadTable(HISTORY)).build()) {
            for (Record row : rows) {
                history.computeIfAbsent((Long) row.getField("id"), k -> new ArrayList<>())
                        .add(row.copy());
            }
        }
        List<String> problems = new ArrayList<>();
        Map<Long, String> current = new TreeMap<>();
        for (Map.Entry<Long, List<Record>> key : history.entrySet()) {
            List<Record> versions = key.getValue();
            versions.sort(Comparator.comparing(r -> (Long) r.getField(HistoryTable.VERSION)));
            List<String> images = new ArrayList<>();
            for (int i = 0; i < versions.size(); i++) {
                Record version = versions.get(i);
                if ((Long) version.getField(HistoryTable.VERSION) != i + 1) {
                    problems.add(key.getKey() + ": versions " + numbers(versions));
                    break;
                }
                String operation = (String) version.getField(HistoryTable.OPERATION);
                boolean gone = operation.equals("delete");
                images.add(
                        gone
                                ? GONE
                                : image(
                                        (String) version.getField("owner"),
                                        (BigDecimal) version.getField("balance")));
                OffsetDateTime from = (OffsetDateTime) version.getField(HistoryTable.VALID_FROM);
                OffsetDateTime to = (OffsetDateTime) version.getField(HistoryTable.VALID_TO);
                if (from.getYear() < 2026) {
                    problems.add(key.getKey() + " v" + (i + 1) + ": begins at " + from);
                }
                if (to != null && to.isBefore(from)) {
                    problems.add(key.getKey() + " v" + (i + 1) + ": ends before it begins");
                }
                if (i + 1 < versions.size()) {
                    OffsetDateTime next =
                            (OffsetDateTime) versions.get(i + 1).getField(HistoryTable.VALID_FROM);
                    if (to == null || to.isAfter(next)) {
                        problems.add(
                                key.getKey() + " v" + (i + 1) + ": open or overlapping the next");
                    }
                } else if (to == null && !gone) {
                    current.put(key.getKey(), images.get(i));
                }
            }
            List<String> wanted = expected.versions.getOrDefault(key.getKey(), List.of());
            if (!images.equals(wanted)) {
                problems.add(
                        key.getKey() + ": history " + images + " but the source made " + wanted);
            }
        }
        for (Map.Entry<Long, List<String>> key : expected.versions.entrySet()) {
            if (!history.containsKey(key.getKey())) {
                problems.add(key.getKey() + ": no history, the source made " + key.getValue());
            }
        }
        Map<Long, String> source = rows(sql);
        if (!current.equals(source)) {
            problems.add("the current versions differ from the source's rows");
        }
        // every version the log made names its change's transaction, also once closed
        Map<String, List<Long>> log =
                HistoryChecks.logVersions(HistoryChecks.versions(catalog.loadTable(HISTORY), "id"));
        Map<String, List<Long>> recorded =
                HistoryChecks.recordedSince(
                        sql, expected.transactionsFrom, expected.snapshotFrom, expected.snapshotTo);
        if (!log.equals(recorded)) {
            problems.add("transactions of the log's versions " + log + " but recorded " + recorded);
        }
        return problems;
    }

    private static List<Long> numbers(List<Record> versions) {
        return versions.stream().map(r -> (Long) r.getField(HistoryTable.VERSION)).toList();
    }
}
