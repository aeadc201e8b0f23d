package io.tidemark.job;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.HistoryTable;
import io.tidemark.testing.GroundTruth;
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
import org.apache.flink.core.execution.SavepointFormatType;
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

                savepoint =
                        Path.of(
                                java.net.URI.create(
                                        job.stopWithSavepoint(
                                                        false,
                                                        DATABASE.dir()
                                                                .resolve("savepoint")
                                                                .toUri()
                                                                .toString(),
                                                        SavepointFormatType.CANONICAL)
                                                .get()));
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
            sql.execute("UPDATE public.accounts SET owner = owner || ' moved' WHERE id % 7 = 0");
            sql.execute("INSERT INTO public.accounts VALUES (90001, 'while stopped', 3.25)");
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
        List<String> problems = new ArrayList<>();
        try {
            Awaitility.await("history table equal to the recorded changes")
                    .atMost(TIMEOUT)
                    .pollInterval(Duration.ofMillis(500))
                    .until(
                            () -> {
                                problems.clear();
                                problems.addAll(problems(catalog, sql, expected));
                                return problems.isEmpty();
                            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("history differs: " + problems, e);
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
        return problems;
    }

    private static List<Long> numbers(List<Record> versions) {
        return versions.stream().map(r -> (Long) r.getField(HistoryTable.VERSION)).toList();
    }
}
