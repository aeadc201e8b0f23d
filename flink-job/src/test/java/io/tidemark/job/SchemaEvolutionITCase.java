package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.config.PipelineConfig;
import io.tidemark.sink.HistoryTable;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.HistoryChecks;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Schema changes of tables without a contract while the job runs, on PostgreSQL and MariaDB: under
 * the default {@code schema-evolution: evolve} columns added in the source (an integer, a text) and
 * a widened column reach the Iceberg table without a restart and the table equals the source in
 * every column; a new {@code numeric} column (its precision does not follow from values) and any
 * new column under {@code quarantine} go to the unrouted quarantine table with their reason; under
 * {@code fail} the job stops once, naming the fix. Before, each of these made the writer fail and
 * the job restart in a loop. ({@code TRUNCATE TABLE} on MariaDB: {@code MySqlTruncateITCase}.)
 */
class SchemaEvolutionITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @TempDir static Path dir;

    private static EmbeddedDatabase postgres;
    private static EmbeddedMariaDb mariadb;

    @BeforeAll
    static void startDatabases() throws Exception {
        postgres = EmbeddedDatabase.start(dir.resolve("postgres"));
        postgres.createDatabase("drift");
        postgres.createDatabase("iceberg_catalog");
        mariadb = EmbeddedMariaDb.start(dir.resolve("mariadb"));
        mariadb.createDatabase("drift");
    }

    @AfterAll
    static void stopDatabases() throws Exception {
        if (mariadb != null) {
            mariadb.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @ParameterizedTest(name = "from {0}")
    @ValueSource(strings = {"postgres", "mariadb"})
    void columnsAddedAndWidenedInTheSourceEvolveTheTargetOrAreQuarantined(String kind)
            throws Exception {
        boolean mysql = kind.equals("mariadb");
        String schema = mysql ? "drift" : "public";
        String id = "drift-" + kind;
        try (Connection source = mysql ? mariadb.connect("drift") : postgres.connect("drift");
                Statement sql = source.createStatement()) {
            for (String table : List.of("items", "held", "priced")) {
                sql.execute(
                        "CREATE TABLE "
                                + schema
                                + "."
                                + table
                                + " (id bigint PRIMARY KEY, name varchar(40) NOT NULL, qty integer)");
                sql.execute(
                        "INSERT INTO "
                                + schema
                                + "."
                                + table
                                + " (id, name, qty) "
                                + (mysql
                                        ? "SELECT seq, CONCAT('n', seq), seq FROM seq_1_to_200"
                                        : "SELECT g, 'n' || g, g FROM generate_series(1, 200) g"));
            }
            if (mysql) {
                // zero dates, legal under a lax sql_mode (common in old schemas)
                sql.execute("SET SESSION sql_mode = ''");
                sql.execute(
                        "CREATE TABLE drift.zeroes (id bigint PRIMARY KEY, d date, dt datetime)");
                sql.execute(
                        "INSERT INTO drift.zeroes VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), "
                                + "(2, '2024-01-02', '2024-01-02 03:04:05')");
                // a BINARY(16) key, in several chunks, read at parallelism 2
                sql.execute("CREATE TABLE drift.bins (id binary(16) PRIMARY KEY, v varchar(20))");
                sql.execute(
                        "INSERT INTO drift.bins SELECT UNHEX(MD5(seq)), CONCAT('v', seq) "
                                + "FROM seq_1_to_600");
            }
            PipelineConfig config = pipeline(kind, schema, id, "");
            JobClient job = TestJobs.start(config);
            Catalog catalog = io.tidemark.testing.TestPipelines.catalog(config);
            TableIdentifier items = TableIdentifier.of(ns(kind), "items");
            try {
                // the whole snapshot first: Flink CDC's MySQL reader fails a chunk read after an
                // ALTER TABLE of its table (DBZ-4350; see docs/sources.md, "MySQL and MariaDB
                // source")
                Map<String, TableIdentifier> snapshotted = new java.util.HashMap<>();
                for (String table : List.of("items", "held", "priced")) {
                    snapshotted.put(schema + "." + table, TableIdentifier.of(ns(kind), table));
                }
                if (mysql) {
                    // (zeroes is diffed below, through the pipeline's own source URL)
                    snapshotted.put("drift.bins", TableIdentifier.of(ns(kind), "bins"));
                }
                GroundTruth.awaitEqual(job, source, catalog, snapshotted, TIMEOUT);
                // evolve (the default): two columns added, one widened
                sql.execute("ALTER TABLE " + schema + ".items ADD COLUMN color varchar(20)");
                sql.execute("ALTER TABLE " + schema + ".items ADD COLUMN rank_no integer");
                sql.execute(
                        "INSERT INTO "
                                + schema
                                + ".items (id, name, qty, color, rank_no) VALUES "
                                + "(1001, 'new', 1, 'red', 3), (1002, 'new', 2, NULL, 4)");
                sql.execute("UPDATE " + schema + ".items SET color = 'blue' WHERE id <= 10");
                sql.execute("DELETE FROM " + schema + ".items WHERE id BETWEEN 11 AND 15");
                sql.execute(
                        mysql
                                ? "ALTER TABLE drift.items MODIFY qty bigint"
                                : "ALTER TABLE public.items ALTER COLUMN qty TYPE bigint");
                sql.execute("UPDATE " + schema + ".items SET qty = 5000000000 WHERE id = 1001");
                // quarantine: a new column of any type
                sql.execute("ALTER TABLE " + schema + ".held ADD COLUMN note varchar(20)");
                sql.execute(
                        "INSERT INTO "
                                + schema
                                + ".held (id, name, qty, note) VALUES (1001, 'h', 1, 'x'), (1002, 'h', 2, 'y')");
                // evolve cannot add a numeric column while running: quarantined
                sql.execute("ALTER TABLE " + schema + ".priced ADD COLUMN price decimal(10,2)");
                sql.execute(
                        "INSERT INTO "
                                + schema
                                + ".priced (id, name, qty, price) VALUES (1001, 'p', 1, 9.99)");

                // the diff reads the source by the Iceberg types: first the widening
                Awaitility.await("qty widened in the target")
                        .atMost(TIMEOUT)
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    return Types.LongType.get()
                                            .equals(
                                                    catalog.loadTable(items)
                                                            .schema()
                                                            .findType("qty"));
                                });
                if (mysql) {
                    sql.execute(
                            "INSERT INTO drift.zeroes VALUES (3, '0000-00-00', '0000-00-00 00:00:00')");
                    sql.execute("UPDATE drift.bins SET v = CONCAT(v, '!') WHERE v LIKE '%3'");
                    sql.execute("DELETE FROM drift.bins WHERE v LIKE '%5'");
                    sql.execute(
                            "INSERT INTO drift.bins SELECT UNHEX(MD5(seq)), 'new' "
                                    + "FROM seq_1001_to_1020");
                    sql.execute(
                            "UPDATE drift.bins SET id = UNHEX('00FF') WHERE id = UNHEX(MD5(1))");
                    // the checker reads zero dates as the pipeline wrote them: null (before, the
                    // driver's SQLException stopped `verify`)
                    try (Connection verifier =
                            java.sql.DriverManager.getConnection(
                                    config.source().jdbcUrl(),
                                    config.source().username(),
                                    config.source().password())) {
                        GroundTruth.awaitEqual(
                                job,
                                verifier,
                                catalog,
                                Map.of(
                                        "drift.zeroes",
                                        TableIdentifier.of(ns(kind), "zeroes"),
                                        "drift.bins",
                                        TableIdentifier.of(ns(kind), "bins")),
                                TIMEOUT);
                    }
                    // and `tidemark verify` itself: equal (exit 0), where the driver's "Zero date
                    // value prohibited" made it exit as if the tables differed
                    Path file = dir.resolve(id + ".yaml");
                    java.nio.file.Files.writeString(
                            file, pipelineYaml(kind, schema, id, "").text());
                    assertThat(
                                    io.tidemark.cli.Tidemark.execute(
                                            "verify",
                                            "--config",
                                            file.toString(),
                                            "--table",
                                            ns(kind) + ".zeroes"))
                            .isZero();
                }
                GroundTruth.awaitEqual(
                        job, source, catalog, Map.of(schema + ".items", items), TIMEOUT);
                Table table = catalog.loadTable(items);
                assertThat(table.schema().findType("color")).isEqualTo(Types.StringType.get());
                assertThat(table.schema().findType("rank_no")).isEqualTo(Types.IntegerType.get());
                assertThat(table.schema().findType("qty")).isEqualTo(Types.LongType.get());
                // both writer subtasks met the new shape; the schema stage applied each change
                // once: one schema per change after the table's first
                assertThat(table.schemas()).hasSize(4);
                // its history: every version chained, the current ones equal to the replica in
                // every column, the added and widened ones included
                Table history = catalog.loadTable(HistoryTable.of(items));
                assertThat(history.schema().findType("color")).isEqualTo(Types.StringType.get());
                assertThat(history.schema().findType("qty")).isEqualTo(Types.LongType.get());
                assertThat(
                                HistoryChecks.problems(
                                        HistoryChecks.versions(history, "id"), table, "id"))
                        .isEmpty();
                Awaitility.await("the new shapes quarantined")
                        .atMost(TIMEOUT)
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    return quarantined(catalog, kind).size() >= 3;
                                });
                List<String> expected =
                        new ArrayList<>(
                                List.of(
                                        schema + ".held UNKNOWN_COLUMN",
                                        schema + ".held UNKNOWN_COLUMN",
                                        schema + ".priced UNKNOWN_COLUMN"));
                assertThat(quarantined(catalog, kind))
                        .containsExactlyInAnyOrderElementsOf(expected);
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                        .as("no restart")
                        .isEmpty();
            } finally {
                cleanUp(job, mysql, config, catalog);
            }
        }
    }

    /**
     * {@code schema-evolution: lenient}: a required column dropped in the source is made optional
     * in Iceberg and written as null from then on (under {@code evolve} such changes are
     * quarantined); rows written before keep their values; the table equals the source in every
     * column the source still has, and {@code verify} names the one it does not compare.
     */
    @ParameterizedTest(name = "from {0}")
    @ValueSource(strings = {"postgres", "mariadb"})
    void lenientKeepsADroppedRequiredColumnAsOptional(String kind) throws Exception {
        boolean mysql = kind.equals("mariadb");
        String table = (mysql ? "drift" : "public") + ".notes";
        try (Connection source = mysql ? mariadb.connect("drift") : postgres.connect("drift");
                Statement sql = source.createStatement()) {
            sql.execute(
                    "CREATE TABLE "
                            + table
                            + " (id bigint PRIMARY KEY, note varchar(40) NOT NULL, qty integer)");
            sql.execute(
                    "INSERT INTO "
                            + table
                            + " (id, note, qty) "
                            + (mysql
                                    ? "SELECT seq, CONCAT('n', seq), seq FROM seq_1_to_100"
                                    : "SELECT g, 'n' || g, g FROM generate_series(1, 100) g"));
            PipelineConfig config =
                    pipeline(
                            kind,
                            mysql ? "drift" : "public",
                            "drift-lenient-" + kind,
                            "notes",
                            "lenient");
            JobClient job = TestJobs.start(config);
            Catalog catalog = io.tidemark.testing.TestPipelines.catalog(config);
            TableIdentifier notes = TableIdentifier.of(ns(kind + "-fail"), "notes");
            Map<String, TableIdentifier> targets = Map.of(table, notes);
            try {
                // a change made after the snapshot, committed, before the DDL (a MySQL binlog
                // reader must have started: see docs/sources.md)
                sql.execute("UPDATE " + table + " SET qty = qty + 1 WHERE id <= 10");
                GroundTruth.awaitEqual(job, source, catalog, targets, TIMEOUT);
                sql.execute("ALTER TABLE " + table + " DROP COLUMN note");
                sql.execute("INSERT INTO " + table + " (id, qty) VALUES (101, 1), (102, 2)");
                sql.execute("UPDATE " + table + " SET qty = -1 WHERE id BETWEEN 20 AND 29");
                sql.execute("DELETE FROM " + table + " WHERE id BETWEEN 30 AND 34");
                List<io.tidemark.catalog.verify.DiffReport> reports =
                        GroundTruth.awaitEqual(job, source, catalog, targets, TIMEOUT);
                assertThat(reports.get(0).columnsNotInSource()).containsExactly("note");
                assertThat(reports.get(0).scope())
                        .contains("columns not in the source, not compared: [note]");
                Table iceberg = catalog.loadTable(notes);
                assertThat(iceberg.schema().findField("note").isOptional()).isTrue();
                // (field() reads a null as "null"; an absent row as null)
                assertThat(TestJobs.field(iceberg, 101, "note")).isEqualTo("null");
                assertThat(TestJobs.field(iceberg, 25, "note"))
                        .as("updated after the drop: the source has no value")
                        .isEqualTo("null");
                assertThat(TestJobs.field(iceberg, 50, "note")).isEqualTo("n50");
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                        .as("no restart")
                        .isEmpty();
            } finally {
                cleanUp(job, mysql, config, catalog);
            }
        }
    }

    /**
     * A column added in the source while the pipeline is stopped: the start from its savepoint
     * takes the Iceberg table as it is (it used to refuse: "exists but does not match the source
     * table: column 'qty' is missing"). Under {@code evolve} the schema evolution adds the column
     * when a change carries it, and the table ends equal to the source in every column; under
     * {@code quarantine} the changes in the new shape go to the quarantine table, as when the
     * column is added while the job runs, and the table keeps its columns.
     */
    @ParameterizedTest(name = "under {0}")
    @ValueSource(strings = {"evolve", "quarantine"})
    void aColumnAddedWhileStoppedIsTakenAfterTheRestartByTheTablesSchemaEvolution(String evolution)
            throws Exception {
        boolean evolve = evolution.equals("evolve");
        try (Connection source = postgres.connect("drift");
                Statement sql = source.createStatement()) {
            sql.execute("DROP TABLE IF EXISTS public.later");
            sql.execute(
                    "CREATE TABLE public.later (id bigint PRIMARY KEY, name varchar(40) NOT NULL)");
            sql.execute(
                    "INSERT INTO public.later SELECT g, 'n' || g FROM generate_series(1, 80) g");
            PipelineConfig config =
                    pipeline(
                            "postgres", "public", "drift-stopped-" + evolution, "later", evolution);
            io.tidemark.runtime.RunContext run =
                    io.tidemark.runtime.RunContext.start(config.pipelineId(), null);
            Catalog catalog = io.tidemark.testing.TestPipelines.catalog(config);
            TableIdentifier later = TableIdentifier.of(ns("postgres-fail"), "later");
            if (catalog.tableExists(later)) {
                catalog.dropTable(later);
            }
            Map<String, TableIdentifier> targets = Map.of("public.later", later);
            try {
                JobClient job =
                        TestJobs.start(config, run, io.tidemark.commit.CommitListener.NONE, null);
                String savepoint;
                try {
                    GroundTruth.awaitEqual(job, source, catalog, targets, TIMEOUT);
                    savepoint =
                            job.stopWithSavepoint(
                                            false,
                                            dir.resolve("savepoints-stopped-" + evolution)
                                                    .toUri()
                                                    .toString(),
                                            org.apache.flink.core.execution.SavepointFormatType
                                                    .CANONICAL)
                                    .get();
                } catch (Throwable e) {
                    GroundTruth.cancel(job);
                    throw e;
                }
                sql.execute("ALTER TABLE public.later ADD COLUMN qty integer");
                sql.execute("UPDATE public.later SET qty = id * 2 WHERE id <= 30");
                sql.execute("INSERT INTO public.later VALUES (81, 'new', 5)");
                JobClient restarted =
                        TestJobs.start(
                                config,
                                run,
                                io.tidemark.commit.CommitListener.NONE,
                                Path.of(java.net.URI.create(savepoint)));
                try {
                    if (evolve) {
                        GroundTruth.awaitEqual(restarted, source, catalog, targets, TIMEOUT);
                        assertThat(catalog.loadTable(later).schema().findField("qty")).isNotNull();
                    } else {
                        // 30 updates and the insert carry the new column: held back
                        Awaitility.await("the changes in the new shape quarantined")
                                .atMost(TIMEOUT)
                                .until(
                                        () -> {
                                            GroundTruth.assertJobRunning(restarted);
                                            return quarantinedOf(catalog, later, "public.later")
                                                            .size()
                                                    == 31;
                                        });
                        assertThat(quarantinedOf(catalog, later, "public.later"))
                                .containsOnly("UNKNOWN_COLUMN");
                        assertThat(catalog.loadTable(later).schema().findField("qty")).isNull();
                        assertThat(io.tidemark.testing.CommitHistory.ids(catalog.loadTable(later)))
                                .hasSize(80)
                                .doesNotContain(81L);
                    }
                    assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, restarted))
                            .as("no restart")
                            .isEmpty();
                } finally {
                    GroundTruth.cancel(restarted);
                }
            } finally {
                postgres.dropSlot("drift", config.source().slotName());
                sql.execute("DROP TABLE IF EXISTS public.later");
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    @Test
    void failStopsTheJobOnceNamingTheFix() throws Exception {
        assertStopsOnceAfter(
                "drift-fail",
                "strict",
                "fail",
                "CREATE TABLE public.strict (id bigint PRIMARY KEY, name varchar(40) NOT NULL)",
                "INSERT INTO public.strict VALUES (1, 'a')",
                List.of(
                        "ALTER TABLE public.strict ADD COLUMN extra integer",
                        "INSERT INTO public.strict VALUES (2, 'b', 7)"),
                "does not fit its Iceberg table",
                "extra",
                "schema-evolution: fail");
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "mariadb"})
    void aColumnAddedWithADefaultIsBackfilledByAReSnapshot(String kind) throws Exception {
        // the 50 rows hold 7 in the source after the ALTER, without a change of their own: the
        // job re-reads the table while it runs, and they hold 7 in Iceberg too
        boolean mysql = kind.equals("mariadb");
        String schema = mysql ? "drift" : "public";
        try (Connection source = mysql ? mariadb.connect("drift") : postgres.connect("drift");
                Statement sql = source.createStatement()) {
            sql.execute(
                    "CREATE TABLE "
                            + schema
                            + ".flags (id bigint PRIMARY KEY, name varchar(40) NOT NULL)");
            sql.execute(
                    mysql
                            ? "INSERT INTO drift.flags SELECT seq, CONCAT('n', seq) FROM seq_1_to_50"
                            : "INSERT INTO public.flags SELECT g, 'n' || g FROM generate_series(1, 50) g");
            PipelineConfig config =
                    pipeline(kind, schema, "drift-default-" + kind, "flags", "evolve");
            JobClient job = TestJobs.start(config);
            Catalog catalog = io.tidemark.testing.TestPipelines.catalog(config);
            TableIdentifier flags = TableIdentifier.of(ns(kind + "-fail"), "flags");
            try {
                GroundTruth.awaitFirstCommit(job, catalog, flags);
                sql.execute("ALTER TABLE " + schema + ".flags ADD COLUMN flag integer DEFAULT 7");
                sql.execute("INSERT INTO " + schema + ".flags VALUES (51, 'new', 8)");
                GroundTruth.awaitEqual(
                        job, source, catalog, Map.of(schema + ".flags", flags), TIMEOUT);
                Table table = catalog.loadTable(flags);
                assertThat(table.schema().findField("flag")).isNotNull();
                // recorded once the checkpoint holding the re-read completed, maybe just after
                // the commit the diff saw
                org.awaitility.Awaitility.await("the re-snapshot's outcome recorded")
                        .atMost(TIMEOUT)
                        .until(
                                () -> {
                                    table.refresh();
                                    return table.properties().get(ResnapshotRequests.COMPLETED)
                                            != null;
                                });
                // each gate subtask that meets the column asks (a second re-read is harmless); the
                // rows from before the ALTER can hold 7 above only through a re-read
                assertThat(table.properties().get(ResnapshotRequests.COMPLETED))
                        .matches("\\d+ done: \\d+ rows re-read .*");
            } finally {
                cleanUp(job, mysql, config, catalog);
            }
        }
    }

    /**
     * Captures Postgres table {@code table} (made by {@code create} and {@code seed}) under {@code
     * evolution}, runs {@code changes} after its first commit, and asserts that the job stops once,
     * without a restart, with every one of {@code messages} in its failure.
     */
    private static void assertStopsOnceAfter(
            String id,
            String table,
            String evolution,
            String create,
            String seed,
            List<String> changes,
            String... messages)
            throws Exception {
        assertStopsOnceAfter("postgres", id, table, evolution, create, seed, changes, messages);
    }

    /** As above, on the {@code kind} source ({@code postgres} or {@code mariadb}). */
    private static void assertStopsOnceAfter(
            String kind,
            String id,
            String table,
            String evolution,
            String create,
            String seed,
            List<String> changes,
            String... messages)
            throws Exception {
        boolean mysql = kind.equals("mariadb");
        try (Connection source = mysql ? mariadb.connect("drift") : postgres.connect("drift");
                Statement sql = source.createStatement()) {
            sql.execute(create);
            sql.execute(seed);
            PipelineConfig config =
                    pipeline(kind, mysql ? "drift" : "public", id, table, evolution);
            JobClient job = TestJobs.start(config);
            Catalog catalog = io.tidemark.testing.TestPipelines.catalog(config);
            try {
                GroundTruth.awaitFirstCommit(
                        job, catalog, TableIdentifier.of(ns(kind + "-fail"), table));
                for (String change : changes) {
                    sql.execute(change);
                }
                var failure = assertThatThrownBy(() -> job.getJobExecutionResult().get());
                for (String message : messages) {
                    failure.hasStackTraceContaining(message);
                }
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                        .as("no restart")
                        .hasSize(1);
            } finally {
                cleanUp(job, mysql, config, catalog);
            }
        }
    }

    /** Cancels {@code job}, drops its Postgres slot, closes the test's catalog. */
    private static void cleanUp(
            JobClient job, boolean mysql, PipelineConfig config, Catalog catalog) throws Exception {
        GroundTruth.cancel(job);
        if (!mysql) {
            postgres.dropSlot("drift", config.source().slotName());
        }
        if (catalog instanceof Closeable) {
            ((Closeable) catalog).close();
        }
    }

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private static String ns(String kind) {
        return "drift_" + kind.replace('-', '_');
    }

    /** Reasons of the quarantined changes of {@code sourceTable} in {@code target}'s namespace. */
    private static List<String> quarantinedOf(
            Catalog catalog, TableIdentifier target, String sourceTable) throws Exception {
        TableIdentifier unrouted = QuarantineTable.unrouted(target);
        List<String> reasons = new ArrayList<>();
        if (!catalog.tableExists(unrouted)) {
            return reasons;
        }
        Table table = catalog.loadTable(unrouted);
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                if (sourceTable.equals(record.getField("source_table"))) {
                    reasons.add(String.valueOf(record.getField("reasons")));
                }
            }
        }
        return reasons;
    }

    /** Source table and reasons of the quarantined changes of {@code kind}'s pipeline. */
    private static List<String> quarantined(Catalog catalog, String kind) throws Exception {
        TableIdentifier unrouted = QuarantineTable.unrouted(TableIdentifier.of(ns(kind), "items"));
        List<String> rows = new ArrayList<>();
        Table table = catalog.loadTable(unrouted);
        table.refresh();
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                rows.add(record.getField("source_table") + " " + record.getField("reasons"));
            }
        }
        return rows;
    }

    /**
     * The pipeline of {@code kind}: tables items, held ({@code schema-evolution: quarantine}) and
     * priced, or only {@code only} under {@code schema-evolution: fail} (pipeline-wide).
     */
    private static PipelineConfig pipeline(String kind, String schema, String id, String only) {
        return pipeline(kind, schema, id, only, "fail");
    }

    /** {@code only} under the pipeline's {@code schema-evolution: evolution}. */
    private static PipelineConfig pipeline(
            String kind, String schema, String id, String only, String evolution) {
        return pipelineYaml(kind, schema, id, only, evolution).config();
    }

    private static PipelineYaml pipelineYaml(String kind, String schema, String id, String only) {
        return pipelineYaml(kind, schema, id, only, "fail");
    }

    private static PipelineYaml pipelineYaml(
            String kind, String schema, String id, String only, String evolution) {
        boolean mysql = kind.equals("mariadb");
        String ns = ns(only.isEmpty() ? kind : kind + "-fail");
        PipelineYaml yaml =
                mysql
                        ? PipelineYaml.mariaDb(mariadb, "drift", postgres, dir, id)
                                .set("source.scan.incremental.snapshot.chunk.size", 100)
                        : PipelineYaml.postgres(postgres, "drift", dir, id);
        yaml.set("pipeline.parallelism", 2);
        if (!only.isEmpty()) {
            return yaml.set("pipeline.schema-evolution", evolution)
                    .table(schema + "." + only, ns + "." + only);
        }
        // items keeps a history table: the columns added and widened reach it too
        yaml.table(schema + ".items", ns + ".items", "history", "scd2")
                .table(schema + ".held", ns + ".held", "schema-evolution", "quarantine")
                .table(schema + ".priced", ns + ".priced");
        if (mysql) {
            yaml.table("drift.zeroes", ns + ".zeroes").table("drift.bins", ns + ".bins");
        }
        return yaml;
    }
}
