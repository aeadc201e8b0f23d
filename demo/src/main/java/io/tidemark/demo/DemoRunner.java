package io.tidemark.demo;

import io.tidemark.catalog.Catalogs;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.deploy.TrinoServer;
import io.tidemark.job.JobPreparation;
import io.tidemark.job.LocalRest;
import io.tidemark.job.SourceStage;
import io.tidemark.job.TidemarkJob;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.TableDiscovery;
import io.tidemark.testbed.ShopWorkload;
import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.iceberg.catalog.Catalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default: a real PostgreSQL from Maven as the source and as the Iceberg JDBC
 * catalog's store, a local warehouse directory, the pipeline in-process with its web UI, a workload
 * writing changes, progress while it runs and a ground-truth verification report at the end.
 *
 * <p>Every run starts fresh: the work directory is wiped first. Ctrl-C stops the workload, cancels
 * the job, drops the replication slot and stops the database. The servers ({@link DemoServers}),
 * the files ({@link DemoFiles}), the bad orders and the drift ({@link DemoFaults}) and what is
 * printed ({@link DemoReport}) have classes of their own; this one runs the steps.
 */
public final class DemoRunner {

    private static final Logger LOG = LoggerFactory.getLogger(DemoRunner.class);

    public static final String CATALOG_NAME = DemoFiles.CATALOG_NAME;
    public static final String PIPELINE_ID = DemoFiles.PIPELINE_ID;

    private final DemoSettings settings;
    private final PrintStream out;
    private final java.util.concurrent.CountDownLatch stoppedLatch =
            new java.util.concurrent.CountDownLatch(1);
    private volatile TrinoServer trino;
    private final AtomicBoolean stopped = new AtomicBoolean();

    private DemoServers servers;
    private JobClient job;
    private PipelineConfig config;
    private volatile DemoWorkload writing;

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
        servers = DemoServers.start(work, settings.mysql(), out);
        DemoFaults faults = new DemoFaults(servers, out);
        try (Connection workloadConnection = servers.sourceConnection();
                Connection source = servers.sourceConnection()) {
            ShopWorkload workload = servers.workload(workloadConnection, settings.seed());
            workload.createAndSeed(settings.customers(), settings.orders());
            out.printf(
                    "Seeded %d customers and %d orders%n", settings.customers(), settings.orders());
            faults.createAdmittedView(source);
            Path contract = writeFiles(work);
            out.printf(
                    "Orders contract %s: %d bad orders will be injected during the workload%n",
                    contract, DemoFaults.BAD_STATUS + DemoFaults.BAD_NOTE);
            RunContext run = RunContext.start(config.pipelineId(), null);
            run.enterLogContext();
            out.printf(
                    "Pipeline file %s, run id %s, code version %s%n",
                    work.resolve("pipeline.yaml"), run.runId(), run.codeVersion());
            List<ResolvedTable> tables = startJob(run);
            DemoReport report = new DemoReport(servers, tables, config.source().slotName(), out);
            try (ClosingCatalog catalog = new ClosingCatalog(config)) {
                streamAndDrift(workload, faults, report, catalog.delegate, source);
                List<DiffReport> reports = settle(workload, report, catalog.delegate, source);
                Map<String, Long> quarantined = DemoReport.quarantined(catalog.delegate);
                String driftedType = DemoFaults.driftedType(catalog.delegate);
                report.printReport(
                        reports,
                        catalog.delegate,
                        accumulatorsOrNull(),
                        work,
                        Duration.between(started, Instant.now()));
                report.printQuarantine(quarantined);
                report.printDrift(driftedType);
                if (settings.trinoHome() != null) {
                    serveTrino(work);
                }
                return new DemoResult(reports, run.runId(), quarantined, driftedType != null);
            }
        }
    }

    /**
     * Writes the orders contract and the pipeline file into {@code work} and loads the file as
     * {@code tidemark run} does (the MySQL demo names its tables by pattern: resolved). Returns the
     * contract's path.
     */
    private Path writeFiles(Path work) throws Exception {
        Path contract = work.resolve("contracts").resolve(servers.ordersTable()).resolve("v1.yaml");
        Files.createDirectories(contract.getParent());
        Files.writeString(contract, DemoFiles.ordersContract(servers), StandardCharsets.UTF_8);
        Path pipelineFile = work.resolve("pipeline.yaml");
        Files.writeString(
                pipelineFile,
                DemoFiles.pipelineYaml(settings, servers, work),
                StandardCharsets.UTF_8);
        config = TableDiscovery.resolve(new PipelineConfigLoader().load(pipelineFile));
        return contract;
    }

    /** Prepares the tables and starts the job in-process with its web UI. */
    private List<ResolvedTable> startJob(RunContext run) throws Exception {
        List<ResolvedTable> tables = JobPreparation.prepare(config);
        int port = freePort(settings.webUiPort());
        Configuration conf = TidemarkJob.flinkConfiguration(config);
        conf.set(RestOptions.PORT, port);
        LocalRest.bind(conf, settings.webUiBindAddress());
        // accumulators (the progress line's "received") travel with heartbeats: every second
        conf.set(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, Duration.ofSeconds(1));
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(2));
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        TidemarkJob.assemble(env, config, run, tables, SourceStage.cdc(config));
        job = env.executeAsync(config.jobName());
        out.printf(
                "Job %s submitted; Flink web UI: http://%s:%d%n",
                job.getJobID(), settings.webUiBindAddress(), port);
        return tables;
    }

    /**
     * Runs the workload to its end with the bad orders, the drift halfway through (on MySQL once
     * the binlog is read; waited for after the workload if it was not by then) and progress lines.
     */
    private void streamAndDrift(
            ShopWorkload workload,
            DemoFaults faults,
            DemoReport report,
            Catalog catalog,
            Connection source)
            throws Exception {
        writing =
                new DemoWorkload(
                        workload, settings.rate(), Instant.now().plus(settings.duration()));
        out.printf(
                "Workload: %d changes/s for %ds (inserts, updates, deletes, delete+re-insert, key updates)%n",
                settings.rate(), settings.duration().toSeconds());
        faults.injectBadOrders();
        Instant driftAt = Instant.now().plus(settings.duration().dividedBy(2));
        boolean drifted = false;
        Instant nextProgress = Instant.now();
        while (!writing.awaitEnd(200)) {
            failIfJobEnded();
            if (!drifted && !Instant.now().isBefore(driftAt) && faults.driftAllowed(catalog)) {
                faults.injectDrift(source);
                drifted = true;
            }
            if (!Instant.now().isBefore(nextProgress)) {
                report.printProgress(workload.changes(), accumulators(), catalog, source);
                nextProgress = Instant.now().plus(settings.progressInterval());
            }
        }
        if (drifted) {
            return;
        }
        Instant deadline = Instant.now().plus(settings.settleTimeout());
        while (!faults.driftAllowed(catalog) && Instant.now().isBefore(deadline)) {
            failIfJobEnded();
            TimeUnit.MILLISECONDS.sleep(200);
        }
        if (faults.driftAllowed(catalog)) {
            faults.injectDrift(source);
        } else {
            // never into the snapshot phase of a MySQL source: the report shows the gap
            out.printf(
                    "Schema drift skipped: the source did not reach the binlog phase within %ds%n",
                    settings.settleTimeout().toSeconds());
        }
    }

    /**
     * Waits (up to the settle timeout) until every table equals its source, the quarantine holds
     * the bad orders and the drifted column reached shop.orders; returns the last diff.
     */
    private List<DiffReport> settle(
            ShopWorkload workload, DemoReport report, Catalog catalog, Connection source)
            throws Exception {
        int bad = DemoFaults.BAD_STATUS + DemoFaults.BAD_NOTE;
        out.printf(
                "Workload done: %d changes. Waiting up to %ds for the tables to equal the source...%n",
                workload.changes(), settings.settleTimeout().toSeconds());
        Instant deadline = Instant.now().plus(settings.settleTimeout());
        Instant nextProgress = Instant.now().plus(settings.progressInterval());
        List<DiffReport> reports = report.diff(source, catalog);
        while ((!reports.stream().allMatch(DiffReport::isClean)
                        || DemoReport.quarantined(catalog).values().stream().mapToLong(l -> l).sum()
                                < bad
                        || DemoFaults.driftedType(catalog) == null)
                && Instant.now().isBefore(deadline)) {
            failIfJobEnded();
            if (!Instant.now().isBefore(nextProgress)) {
                report.printProgress(workload.changes(), accumulators(), catalog, source);
                nextProgress = Instant.now().plus(settings.progressInterval());
            }
            TimeUnit.MILLISECONDS.sleep(500);
            reports = report.diff(source, catalog);
        }
        return reports;
    }

    private Map<String, Object> accumulators() throws Exception {
        return job.getAccumulators().get(10, TimeUnit.SECONDS);
    }

    /** The job's accumulators, or null (logged) when they are gone. */
    private Map<String, Object> accumulatorsOrNull() {
        try {
            return accumulators();
        } catch (Exception e) {
            LOG.warn("The job's accumulators are gone: {}", rootMessage(e));
            return null;
        }
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
                        DemoFiles.trinoCatalog(servers, work),
                        Duration.ofMinutes(3));
        // the query it suggests below, run once so that the first one a user types does not fail
        trino.awaitQuery("SELECT count(*) FROM iceberg.shop.orders", Duration.ofMinutes(2));
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
        if (writing != null) {
            writing.stop();
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
        if (servers != null) {
            servers.close(config == null ? null : config.source().slotName(), interrupted);
        }
    }

    /** The pipeline's catalog, closed with the demo's report. */
    private static final class ClosingCatalog implements AutoCloseable {
        private final Catalog delegate;

        ClosingCatalog(PipelineConfig config) {
            this.delegate =
                    Catalogs.load(
                            config.catalogName(),
                            config.catalogProperties(),
                            new org.apache.hadoop.conf.Configuration());
        }

        @Override
        public void close() throws IOException {
            if (delegate instanceof Closeable closeable) {
                closeable.close();
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
            if (quarantined.values().stream().mapToLong(l -> l).sum()
                            != DemoFaults.BAD_STATUS + DemoFaults.BAD_NOTE
                    || !evolved) {
                return false;
            }
            return reports.stream().allMatch(DiffReport::isClean);
        }
    }
}
