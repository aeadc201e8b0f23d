package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.decode.Operation;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.HistoryTable;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.HistoryChecks;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.highavailability.nonha.embedded.HaLeadershipControl;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.util.TestStreamEnvironment;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failover matrix: {TaskManager loss, JobManager failover, exception in an operator after n
 * records and m checkpoints, exception inside the commit} x {snapshot phase, streaming phase} x
 * parallelism {1, 2}, on two tables with thousands of changes including deletes, re-inserts and key
 * changes. In every case: the Iceberg tables end equal to the source (missing, extra, duplicate and
 * stale all 0), no two snapshots of a table share (pipeline id, lineage, checkpoint id), every
 * snapshot carries every provenance key, and all commits belong to one lineage (the job recovered
 * from its state rather than starting over).
 *
 * <p>The MySQL binlog source (MariaDB) runs the case that matters most for a log reader: its
 * TaskManager lost while it follows the binlog, at parallelism 2.
 *
 * <p>One embedded PostgreSQL, one MariaDB and one MiniCluster (embedded HA with leadership control,
 * so the job master can be failed over and recovers its checkpoints) serve all cases; each case has
 * its own database, replication slot, pipeline id and Iceberg namespace.
 */
class FailoverMatrixITCase {

    private static final Logger LOG = LoggerFactory.getLogger(FailoverMatrixITCase.class);

    enum Failure {
        TASK_MANAGER_LOSS,
        JOB_MANAGER_FAILOVER,
        OPERATOR_EXCEPTION,
        COMMIT_EXCEPTION
    }

    enum Phase {
        SNAPSHOT,
        STREAMING
    }

    @TempDir static Path dir;

    private static EmbeddedDatabase database;
    private static EmbeddedMariaDb mariadb;
    private static MiniCluster cluster;
    private static int liveTaskManager;
    private static final AtomicInteger CASES = new AtomicInteger();

    /** Fault switches per pipeline id, shared with the job's operators (same JVM). */
    static final Map<String, Fault> FAULTS = new ConcurrentHashMap<>();

    static final class Fault {
        final Failure failure;
        final Phase phase;

        /** Whether a log change (not a snapshot row) has passed: the snapshot phase is over. */
        final AtomicBoolean streaming = new AtomicBoolean();

        final AtomicBoolean armed = new AtomicBoolean();
        final AtomicBoolean fired = new AtomicBoolean();
        final AtomicLong records = new AtomicLong();
        final AtomicInteger checkpoints = new AtomicInteger();
        final AtomicInteger commits = new AtomicInteger();

        /**
         * The source threads of a lost TaskManager, once captured: the restarted tasks wait until
         * they have stopped ({@link #awaitOrphansGone}).
         */
        final CompletableFuture<Set<Thread>> orphans = new CompletableFuture<>();

        /** Set just before the TaskManager is terminated. */
        final AtomicBoolean lost = new AtomicBoolean();

        Fault(Failure failure, Phase phase) {
            this.failure = failure;
            this.phase = phase;
        }

        /** Whether the job is in the phase this case fails in. */
        boolean inPhase() {
            return streaming.get() == (phase == Phase.STREAMING);
        }

        /**
         * Holds a task of the job until the lost TaskManager's source threads have stopped, as they
         * would have with the process; a no-op before the loss and in other cases.
         */
        void awaitOrphansGone() throws Exception {
            if (!lost.get()) {
                return;
            }
            Set<Thread> threads = orphans.get(2, TimeUnit.MINUTES);
            long start = System.nanoTime();
            long deadline = start + TimeUnit.MINUTES.toNanos(2);
            // the split fetchers first: a fetcher still alive may hand an idle reader a chunk
            List<Thread> ordered = new ArrayList<>(threads);
            ordered.sort(Comparator.comparing((Thread t) -> !isFetcher(t)));
            for (Thread thread : ordered) {
                while (!stopped(thread)) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException(
                                "the lost TaskManager's thread "
                                        + thread.getName()
                                        + " still runs: "
                                        + Arrays.toString(thread.getStackTrace()));
                    }
                    thread.interrupt();
                    thread.join(100);
                }
            }
            LOG.info(
                    "The lost TaskManager's {} source thread(s) stopped after {} ms",
                    threads.size(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        }
    }

    /**
     * The threads the sources read on: Flink's split fetchers and the threads Flink CDC reads
     * snapshot chunks on (one per source subtask).
     */
    private static Set<Thread> chunkReaders() {
        Set<Thread> readers = new HashSet<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (isFetcher(thread) || thread.getName().startsWith("debezium-snapshot-reader-")) {
                readers.add(thread);
            }
        }
        return readers;
    }

    /** A split fetcher of this class's jobs (their source is chained to the fault injection). */
    private static boolean isFetcher(Thread thread) {
        return thread.getName().startsWith("Source Data Fetcher for ")
                && thread.getName().contains("fault injection");
    }

    /** Dead, or (a chunk reader) an idle pool thread waiting for a chunk it will never get. */
    private static boolean stopped(Thread thread) {
        if (!thread.isAlive()) {
            return true;
        }
        if (isFetcher(thread)) {
            return false;
        }
        for (StackTraceElement frame : thread.getStackTrace()) {
            if (frame.getClassName().equals(ThreadPoolExecutor.class.getName())
                    && frame.getMethodName().equals("getTask")) {
                return true;
            }
        }
        return false;
    }

    @BeforeAll
    static void start() throws Exception {
        database = EmbeddedDatabase.start(dir.resolve("postgres"));
        database.createDatabase("iceberg_catalog");
        mariadb = EmbeddedMariaDb.start(dir.resolve("mariadb"));
        cluster =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(new Configuration())
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(4)
                                .setHaServices(MiniCluster.HaServices.WITH_LEADERSHIP_CONTROL)
                                .build());
        cluster.start();
        TestStreamEnvironment.setAsContext(cluster, 2);
    }

    @AfterAll
    static void stop() throws Exception {
        TestStreamEnvironment.unsetAsContext();
        if (cluster != null) {
            cluster.close();
        }
        if (database != null) {
            database.close();
        }
        if (mariadb != null) {
            mariadb.close();
        }
    }

    /**
     * Every failure in every phase at parallelism 2, and a TaskManager loss in each phase at
     * parallelism 1, on Postgres; a TaskManager loss while the MySQL source reads the binlog. With
     * {@code TIDEMARK_FAILOVER_FULL=1} every failure and phase at parallelism 1 too (the full
     * matrix: about three minutes more, see FailoverMatrixITCase in docs/tests.md).
     */
    static Stream<Arguments> matrix() {
        boolean full = "1".equals(System.getenv("TIDEMARK_FAILOVER_FULL"));
        List<Arguments> cases = new java.util.ArrayList<>();
        for (Failure failure : Failure.values()) {
            for (Phase phase : Phase.values()) {
                for (int parallelism : List.of(1, 2)) {
                    if (parallelism == 2 || full || failure == Failure.TASK_MANAGER_LOSS) {
                        cases.add(Arguments.of(failure, phase, parallelism, "postgres"));
                    }
                }
            }
        }
        // the MySQL binlog source: its TaskManager dies while it reads the binlog
        cases.add(Arguments.of(Failure.TASK_MANAGER_LOSS, Phase.STREAMING, 2, "mysql"));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} in the {1} phase, parallelism {2}, {3}")
    @MethodSource("matrix")
    void endsExactlyEqualToTheSource(Failure failure, Phase phase, int parallelism, String source)
            throws Exception {
        // TIDEMARK_FAILOVER_ONLY=FAILURE[:PHASE[:PARALLELISM[:SOURCE]]] runs only those
        String only = System.getenv().getOrDefault("TIDEMARK_FAILOVER_ONLY", "");
        Assumptions.assumeTrue(
                (failure + ":" + phase + ":" + parallelism + ":" + source).startsWith(only));
        boolean mysql = source.equals("mysql");
        int n = CASES.incrementAndGet();
        Names names = new Names("failover-" + n, "failover" + n, "failover_" + n, "failover" + n);
        String db = names.database();
        String pipelineId = names.pipelineId();
        if (mysql) {
            mariadb.createDatabase(db);
        } else {
            database.createDatabase(db);
        }
        Fault fault = new Fault(failure, phase);
        FAULTS.put(pipelineId, fault);

        try (Connection writer = mysql ? mariadb.connect(db) : database.connect(db);
                Connection verifier = mysql ? mariadb.connect(db) : database.connect(db)) {
            ShopWorkload workload =
                    mysql ? ShopWorkload.mysql(writer, n, db) : new ShopWorkload(writer, n);
            workload.createAndSeed(3_000, 9_000);
            TableIdentifier history =
                    HistoryTable.of(TableIdentifier.of(names.namespace(), "orders"));
            if (!mysql) {
                // the orders keep a history table: its versions are exactly once across the failure
                try (Statement sql = writer.createStatement()) {
                    HistoryChecks.recordChanges(sql, workload.ordersTable(), "id");
                }
            }

            PipelineConfig config =
                    mysql
                            ? TestPipelines.shopMySql(mariadb, database, dir, names, parallelism)
                            : TestPipelines.shopPipeline(database, dir, names, parallelism)
                                    .tableKey(names.namespace() + ".orders", "history", "scd2")
                                    .config();
            RunContext run = RunContext.start(config.pipelineId(), null);
            List<ResolvedTable> tables = JobPreparation.prepare(config);
            Configuration flink = TidemarkJob.flinkConfiguration(config);
            TestPipelines.restartQuickly(flink);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(flink);
            TidemarkJob.ChangeSource postgres = SourceStage.cdc(config);
            TidemarkJob.assemble(
                    env,
                    config,
                    run,
                    tables,
                    (e, keys, watermarks) ->
                            postgres.create(e, keys, watermarks)
                                    .map(new FailingMap(pipelineId))
                                    .returns(ChangeEventTypeInfo.INSTANCE)
                                    .uid("test-fault-injection")
                                    .name("fault injection"),
                    new FailingCommit(pipelineId));
            JobClient job = env.executeAsync(config.jobName());

            Map<String, TableIdentifier> targets = names.targets(workload);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                if (phase == Phase.STREAMING) {
                    GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                }
                int before = snapshots(catalog, targets);
                long recordedFrom = 0;
                if (!mysql) {
                    try (Statement sql = verifier.createStatement()) {
                        recordedFrom = HistoryChecks.lastRecorded(sql);
                    }
                }
                fault.armed.set(true);
                workload.apply(1_000);
                ThrowingRunnable closeSessions =
                        mysql ? () -> {} : () -> closeSessionsExcept(db, List.of(writer, verifier));
                fail(failure, fault, job, catalog, targets, before, workload, closeSessions);
                workload.apply(1_000);

                try {
                    GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                } catch (AssertionError e) {
                    throw new AssertionError(
                            e.getMessage()
                                    + "\n"
                                    + TestClusters.describe(
                                            cluster.getRestAddress().get(10, TimeUnit.SECONDS),
                                            job),
                            e);
                }
                assertThat(workload.changes()).isGreaterThanOrEqualTo(2_000);
                for (TableIdentifier target : targets.values()) {
                    // one lineage: the job recovered from its state, it did not start over
                    assertThat(
                                    CommitHistory.assertEachCheckpointOnce(
                                            catalog.loadTable(target), pipelineId))
                            .hasSize(1);
                }
                if (!mysql) {
                    checkHistory(catalog, history, verifier, phase, recordedFrom);
                }
            } finally {
                GroundTruth.cancel(job);
                FAULTS.remove(pipelineId);
                if (!mysql) {
                    database.dropSlot(db, config.source().slotName());
                }
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
    }

    /**
     * The orders' history table after the failure: numbered, chained, its open versions equal to
     * the replica (every column), and, when the failure came after the snapshot, one version per
     * change the source's trigger recorded since, in its transaction (none lost, none twice). In
     * the snapshot phase the changes made while a chunk was read are in its rows, not versions of
     * their own: there no change's version may be there twice.
     */
    private static void checkHistory(
            Catalog catalog,
            TableIdentifier history,
            Connection verifier,
            Phase phase,
            long recordedFrom)
            throws Exception {
        TableIdentifier orders = TableIdentifier.of(history.namespace(), "orders");
        Map<String, List<org.apache.iceberg.data.Record>> versions =
                HistoryChecks.versions(catalog.loadTable(history), "id");
        assertThat(HistoryChecks.problems(versions, catalog.loadTable(orders), "id")).isEmpty();
        Map<String, List<Long>> log = HistoryChecks.logVersions(versions);
        if (phase == Phase.STREAMING) {
            try (Statement sql = verifier.createStatement()) {
                assertThat(log).isEqualTo(HistoryChecks.recordedSince(sql, recordedFrom));
            }
            assertThat(log.values().stream().mapToInt(List::size).sum())
                    .as("versions the log made")
                    .isGreaterThan(1_000);
        } else {
            for (List<org.apache.iceberg.data.Record> list : versions.values()) {
                assertThat(
                                list.stream()
                                        .filter(
                                                v ->
                                                        !"snapshot"
                                                                .equals(
                                                                        v.getField(
                                                                                HistoryTable
                                                                                        .OPERATION)))
                                        .map(
                                                v ->
                                                        v.getField(HistoryTable.TX_ID)
                                                                + "/"
                                                                + v.getField(
                                                                        HistoryTable.CHANGE_LSN)))
                        .doesNotHaveDuplicates();
            }
        }
        LOG.info(
                "History of {}: {} keys, {} versions, {} made by the log",
                orders,
                versions.size(),
                versions.values().stream().mapToInt(List::size).sum(),
                log.values().stream().mapToInt(List::size).sum());
    }

    /** Brings the failure about and waits until it has happened. */
    private static void fail(
            Failure failure,
            Fault fault,
            JobClient job,
            Catalog catalog,
            Map<String, TableIdentifier> targets,
            int snapshotsBefore,
            ShopWorkload workload,
            ThrowingRunnable closeSessions)
            throws Exception {
        switch (failure) {
            case OPERATOR_EXCEPTION:
            case COMMIT_EXCEPTION:
                // the fault fires on a change or commit after a checkpoint since it was armed: in
                // the log phase keep changes coming until it has (all of the first batch may have
                // gone through before that checkpoint)
                Awaitility.await(failure + " injected")
                        .atMost(Duration.ofMinutes(2))
                        .pollInterval(Duration.ofMillis(500))
                        .until(
                                () -> {
                                    if (!fault.fired.get() && fault.phase == Phase.STREAMING) {
                                        workload.apply(20);
                                    }
                                    return fault.fired.get();
                                });
                return;
            default:
                break;
        }
        // fail while the phase is committing: once a commit of this phase is visible
        Awaitility.await("a commit before the failure")
                .atMost(Duration.ofMinutes(2))
                .until(
                        () -> {
                            GroundTruth.assertJobRunning(job);
                            return snapshots(catalog, targets) > snapshotsBefore;
                        });
        assertThat(fault.inPhase()).as("still in the %s phase when failing", fault.phase).isTrue();
        if (failure == Failure.TASK_MANAGER_LOSS) {
            // a fresh TaskManager takes over; the one running the job dies. A lost TaskManager is
            // a dead process: its threads stop, its database sessions close. Terminated inside
            // this JVM it stops its tasks, but the threads Flink CDC reads chunks on go on (one was
            // seen creating the reader's backfill slot <slot>_<subtask> while the TaskManager shut
            // down and reading through it after its task had failed, while the replacement reader
            // waited for the slot). So their sessions are closed, they are interrupted, and the
            // restarted tasks wait for them
            Set<Thread> orphans = chunkReaders();
            cluster.startTaskManager();
            fault.lost.set(true);
            cluster.terminateTaskManager(liveTaskManager).get(60, TimeUnit.SECONDS);
            liveTaskManager++;
            orphans.addAll(chunkReaders());
            closeSessions.run();
            fault.orphans.complete(orphans);
        } else {
            HaLeadershipControl leadership = cluster.getHaLeadershipControl().orElseThrow();
            leadership.revokeJobMasterLeadership(job.getJobID()).get(60, TimeUnit.SECONDS);
            leadership.grantJobMasterLeadership(job.getJobID()).get(60, TimeUnit.SECONDS);
        }
        fault.fired.set(true);
    }

    /** What {@link #fail} runs after a TaskManager died. */
    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /**
     * Closes every session of {@code db} but the test's own connections, as the server does for a
     * process that died (the job's sessions reconnect; replication sessions end).
     */
    private static void closeSessionsExcept(String db, List<Connection> own) throws Exception {
        List<Integer> keep = new ArrayList<>();
        for (Connection connection : own) {
            try (Statement s = connection.createStatement();
                    ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                keep.add(rs.getInt(1));
            }
        }
        try (Connection admin = database.connect(db);
                PreparedStatement s =
                        admin.prepareStatement(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        + "WHERE datname = ? AND pid <> pg_backend_pid() "
                                        + "AND NOT (pid = ANY (?))")) {
            s.setString(1, db);
            s.setArray(2, admin.createArrayOf("integer", keep.toArray()));
            s.execute();
        }
    }

    private static int snapshots(Catalog catalog, Map<String, TableIdentifier> targets) {
        int count = 0;
        for (TableIdentifier target : targets.values()) {
            for (Snapshot ignored : catalog.loadTable(target).snapshots()) {
                count++;
            }
        }
        return count;
    }

    /** Throws once, after n records and m completed checkpoints since the fault was armed. */
    static final class FailingMap extends RichMapFunction<ChangeEvent, ChangeEvent>
            implements CheckpointListener {
        private static final long serialVersionUID = 1L;
        private static final long RECORDS = 300;
        private static final int CHECKPOINTS = 1;
        private final String pipelineId;

        FailingMap(String pipelineId) {
            this.pipelineId = pipelineId;
        }

        @Override
        public void open(OpenContext context) throws Exception {
            // opened before the source it is chained to: the source starts reading after this
            Fault fault = FAULTS.get(pipelineId);
            if (fault != null) {
                fault.awaitOrphansGone();
            }
        }

        @Override
        public ChangeEvent map(ChangeEvent change) {
            Fault fault = FAULTS.get(pipelineId);
            if (fault == null) {
                return change;
            }
            if (change.operation() != Operation.READ) {
                fault.streaming.set(true);
            }
            if (fault.armed.get() && !fault.fired.get()) {
                if (fault.records.incrementAndGet() >= RECORDS
                        && fault.checkpoints.get() >= CHECKPOINTS
                        && fault.failure == Failure.OPERATOR_EXCEPTION
                        && fault.inPhase()
                        && fault.fired.compareAndSet(false, true)) {
                    throw new IllegalStateException("injected operator failure");
                }
            }
            return change;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            Fault fault = FAULTS.get(pipelineId);
            if (fault != null && fault.armed.get()) {
                fault.checkpoints.incrementAndGet();
            }
        }
    }

    /** Throws once inside a commit, after the first commit since the fault was armed. */
    static final class FailingCommit implements CommitListener {
        private static final long serialVersionUID = 1L;
        private final String pipelineId;

        FailingCommit(String pipelineId) {
            this.pipelineId = pipelineId;
        }

        @Override
        public void beforeCommit(String table, long checkpointId) {
            Fault fault = FAULTS.get(pipelineId);
            if (fault != null
                    && fault.armed.get()
                    && fault.failure == Failure.COMMIT_EXCEPTION
                    && fault.inPhase()
                    && fault.commits.incrementAndGet() > 1
                    && fault.fired.compareAndSet(false, true)) {
                throw new IllegalStateException("injected failure inside the commit");
            }
        }
    }
}
