package io.tidemark.cli;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.config.ConfigException;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.SourceKind;
import io.tidemark.config.StartupMode;
import io.tidemark.decode.SourcePositions;
import io.tidemark.job.JobPreparation;
import io.tidemark.job.LocalRest;
import io.tidemark.job.MaintenanceStage;
import io.tidemark.job.PlatformSettings;
import io.tidemark.job.RetainedState;
import io.tidemark.job.SourceStage;
import io.tidemark.job.TidemarkJob;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.MySqlCdcSource;
import io.tidemark.source.PostgresSlots;
import io.tidemark.source.TableDiscovery;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.flink.client.program.StreamContextEnvironment;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.RestoreMode;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark run --config pipeline.yaml}: validates the file, prepares the target tables and
 * runs the job on the environment it finds (a cluster under {@code flink run}, in-process
 * otherwise).
 *
 * <p>A start resumes: from {@code --from-savepoint}, else from the savepoint the submitter names
 * ({@code flink run -s}, {@code execution.savepoint.path}), else from the newest retained
 * checkpoint or savepoint of the pipeline ({@link RetainedState}). Without any, a start into tables
 * that hold this pipeline's commits is refused unless {@code --fresh} says so: a start without
 * state snapshots every table again, replacing what each held, and readers see a table refill until
 * its snapshot is read; with {@code --keep-serving} the tables keep their rows instead: the log is
 * read from a place fixed before the job (a Postgres source's replication slot, a MySQL source's
 * binlog position now) and every table is read again while the pipeline runs ({@code tidemark
 * resnapshot}), so each is corrected in place.
 */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description =
                "Run the pipeline described by a pipeline file (submit with `flink run`, or in-process).")
final class RunCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Option(
            names = {"-c", "--config"},
            required = true,
            paramLabel = "<pipeline.yaml>",
            description = "The pipeline file (see docs/configuration.md).")
    Path config;

    @Option(
            names = "--run-id",
            paramLabel = "<id>",
            description = "Run id to use instead of a generated one.")
    String runId;

    @Option(
            names = "--from-savepoint",
            paramLabel = "<path>",
            description =
                    "Restore from this savepoint or retained checkpoint (its directory or _metadata"
                            + " file) instead of the newest one of the pipeline.")
    String fromSavepoint;

    @Option(
            names = "--fresh",
            description =
                    "Start without state even if the pipeline has a retained checkpoint or"
                            + " savepoint: every table is snapshotted again.")
    boolean fresh;

    @Option(
            names = "--keep-serving",
            description =
                    "With --fresh: the tables keep their rows while each is read again in place (the"
                            + " log from a place fixed before the job: a Postgres replication slot's,"
                            + " a MySQL binlog's end now; every table re-snapshotted while the"
                            + " pipeline runs, at source.resnapshot.rows-per-second), instead of each"
                            + " table emptied at its first commit and refilled.")
    boolean keepServing;

    @Option(
            names = "--rest-bind-address",
            paramLabel = "<address>",
            description =
                    "In-process only: the address the job's REST endpoint and web UI bind (jar"
                            + " upload stays off; default: ${DEFAULT-VALUE}, this machine only).")
    String restBindAddress = LocalRest.DEFAULT_BIND_ADDRESS;

    @Option(
            names = "--print-config",
            description = "Print the validated configuration (secrets masked) and exit.")
    boolean printConfig;

    @Override
    public Integer call() throws Exception {
        PipelineConfig pipeline = Tidemark.loadPipeline(config, "run");
        if (pipeline == null) {
            return Tidemark.EXIT_USAGE;
        }
        // the platform's settings (flink run -p, -D, the cluster's) where the file is silent;
        // in-process there is no platform (a local environment's parallelism is the core count)
        StreamExecutionEnvironment ambientEnv =
                StreamExecutionEnvironment.getExecutionEnvironment();
        boolean submitted = ambientEnv instanceof StreamContextEnvironment;
        ReadableConfig ambient = ambientEnv.getConfiguration();
        try {
            pipeline =
                    PlatformSettings.resolve(pipeline, submitted ? ambient : new Configuration());
        } catch (ConfigException e) {
            System.err.println("tidemark run: " + config + ": " + e.getMessage());
            return Tidemark.EXIT_USAGE;
        }
        if (printConfig) {
            System.out.print(pipeline.describe());
            return 0;
        }
        if (fresh && fromSavepoint != null) {
            System.err.println(
                    "tidemark run: --fresh and --from-savepoint exclude each other: choose one");
            return Tidemark.EXIT_USAGE;
        }
        String keepServingRefusal = keepServingRefusal();
        if (keepServingRefusal != null) {
            System.err.println("tidemark run: " + keepServingRefusal);
            return Tidemark.EXIT_USAGE;
        }
        RunContext run = RunContext.start(pipeline.pipelineId(), runId);
        run.enterLogContext();
        LOG.info(
                "Starting pipeline {} run {} (code version {}) with configuration:\n{}",
                pipeline.pipelineId(),
                run.runId(),
                run.codeVersion(),
                pipeline.describe());
        System.out.printf(
                "tidemark run: pipeline %s, run id %s%n", pipeline.pipelineId(), run.runId());
        // whole-database capture: the file's table patterns become the tables they match now
        pipeline = TableDiscovery.resolve(pipeline);
        if (keepServing) {
            pipeline = logFromNow(pipeline);
            pipeline = replayedThrough(pipeline);
        }
        List<ResolvedTable> tables = JobPreparation.prepare(pipeline);

        RetainedState.Locations locations =
                RetainedState.locate(
                        pipeline,
                        ambient,
                        submitted ? null : localStateDir(config.toAbsolutePath().getParent()));
        Configuration flink = TidemarkJob.flinkConfiguration(pipeline);
        locations.applyTo(flink);
        if (!submitted) {
            LocalRest.bind(flink, restBindAddress);
        }
        if (locations.checkpoints() == null) {
            LOG.warn(
                    "No checkpoint directory (checkpoint.dir or the cluster's "
                            + "state.checkpoints.dir): checkpoints stay in the JobManager's memory "
                            + "and a new start cannot resume from them");
        }

        SavepointRestoreSettings restore = restoreSettings(pipeline, tables, ambient, locations);
        if (restore == null) {
            return Tidemark.EXIT_USAGE;
        }
        if (keepServing) {
            keepServing(pipeline, tables);
        }
        if (restore.restoreSavepoint()) {
            flink.set(StateRecoveryOptions.SAVEPOINT_PATH, restore.getRestorePath());
            flink.set(StateRecoveryOptions.RESTORE_MODE, restore.getRestoreMode());
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        TidemarkJob.assemble(env, pipeline, run, tables, SourceStage.cdc(pipeline));
        StreamGraph graph = env.getStreamGraph();
        if (restore.restoreSavepoint()) {
            // maintenance turned off since: its operators' state is all the graph cannot take
            PipelineConfig resolved = pipeline;
            SavepointRestoreSettings settings =
                    RetainedState.withMaintenanceDropped(
                            restore,
                            graph.getJobGraph(),
                            () -> MaintenanceStage.operatorIds(resolved, tables));
            if (settings.allowNonRestoredState() && !restore.allowNonRestoredState()) {
                // (a submitted job takes the submitter's: flink run --allowNonRestoredState)
                say("the state of the table maintenance this start does not run is dropped");
            }
            // an in-process job takes the restore from its graph
            graph.setSavepointRestoreSettings(settings);
        }
        env.execute(graph);
        return 0;
    }

    /** In-process state without a configured directory: beside the pipeline file. */
    static String localStateDir(Path pipelineFileDirectory) {
        return pipelineFileDirectory.resolve("tidemark-state").toUri().toString();
    }

    /**
     * What this start restores, said on the console and in the log; null when the start is refused
     * (a fresh start into this pipeline's tables without {@code --fresh}).
     */
    private SavepointRestoreSettings restoreSettings(
            PipelineConfig pipeline,
            List<ResolvedTable> tables,
            ReadableConfig ambient,
            RetainedState.Locations locations)
            throws Exception {
        String given = ambient.get(StateRecoveryOptions.SAVEPOINT_PATH);
        if (fromSavepoint != null) {
            say("restoring from %s (--from-savepoint)", fromSavepoint);
            return SavepointRestoreSettings.forPath(fromSavepoint, false, RestoreMode.NO_CLAIM);
        }
        if (given != null) {
            say("restoring from %s (given by the submitter: flink run -s)", given);
            return SavepointRestoreSettings.forPath(
                    given,
                    ambient.get(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE),
                    ambient.get(StateRecoveryOptions.RESTORE_MODE));
        }
        String searched =
                locations.checkpoints() == null
                        ? "(no checkpoint directory)"
                        : locations.checkpoints()
                                + (locations.savepoints() == null
                                        ? ""
                                        : " and " + locations.savepoints());
        if (!fresh) {
            var newest = RetainedState.newest(locations);
            if (newest.isPresent()) {
                RetainedState.Found found = newest.get();
                say("resuming from the newest %s", found.describe());
                return SavepointRestoreSettings.forPath(
                        found.pointer(), false, found.restoreMode());
            }
        }
        List<String> committed = committedTables(pipeline, tables);
        if (committed.isEmpty()) {
            say(
                    "starting without state: %s",
                    fresh ? "--fresh" : "no retained checkpoint or savepoint under " + searched);
            return SavepointRestoreSettings.none();
        }
        String consequence =
                keepServing
                        ? "the tables keep their rows, and each is read again while the pipeline "
                                + "runs: rows changed or deleted meanwhile are put right in place as "
                                + "its re-read reaches them"
                        : TidemarkJob.snapshotsEveryTable(pipeline)
                                ? "every table is snapshotted again, and the first commit to each removes "
                                        + "every row it held before, so rows deleted in the source meanwhile "
                                        + "go too; until a table's snapshot is read, readers see only the rows "
                                        + "read so far"
                                : "its scan.startup.mode reads the log only: rows the tables hold stay as they are, "
                                        + "and changes the log no longer holds are missing";
        if (fresh) {
            say(
                    "starting without state (--fresh) into tables that hold this pipeline's "
                            + "commits (%s): %s",
                    String.join("; ", committed), consequence);
            return SavepointRestoreSettings.none();
        }
        System.err.printf(
                "tidemark run: no retained checkpoint or savepoint of pipeline %s under %s, but "
                        + "its tables hold its commits (%s). A start without state does not "
                        + "resume: %s. Restore with --from-savepoint <path> (a savepoint or a "
                        + "retained checkpoint's chk-<n> directory), or start so with --fresh.%n",
                pipeline.pipelineId(), searched, String.join("; ", committed), consequence);
        return null;
    }

    /** Why {@code --keep-serving} cannot be used as given, or null. */
    private String keepServingRefusal() {
        return keepServing && !fresh
                ? "--keep-serving goes with --fresh (a start without state that keeps the tables'"
                        + " rows); a resumed start keeps them anyway"
                : null;
    }

    /**
     * {@code pipeline} reading each source's log from a place fixed before the job, without a
     * snapshot: a Postgres source's replication slot (kept where the server still holds it, made
     * where it is missing or invalidated: {@link PostgresSlots}), a MySQL source's binlog end now.
     * Any position a re-read of a table takes later is after it, so the log holds every change a
     * re-read's rows do not.
     */
    private static PipelineConfig logFromNow(PipelineConfig pipeline) throws Exception {
        Map<String, Map<String, String>> offsets = new java.util.HashMap<>();
        for (SourceConfig source : pipeline.sources()) {
            if (source.kind() == SourceKind.POSTGRES) {
                say("%s", PostgresSlots.ensure(source));
            } else {
                String table =
                        pipeline.tables().stream()
                                .filter(t -> t.sources().contains(source.id()))
                                .findFirst()
                                .orElseThrow()
                                .source();
                Map<String, String> offset = MySqlCdcSource.currentOffset(source, table);
                say(
                        "source '%s': the binlog is read from %s position %s%s",
                        source.id(),
                        offset.get("file"),
                        offset.get("pos"),
                        offset.containsKey("gtids") ? ", GTIDs " + offset.get("gtids") : "");
                offsets.put(source.id(), offset);
            }
        }
        return pipeline.withSources(
                s ->
                        s.kind() == SourceKind.POSTGRES
                                ? s.withStartupMode(StartupMode.COMMITTED_OFFSET)
                                : s.startingAt(offsets.get(s.id())));
    }

    /**
     * {@code pipeline} with, per target table, the source positions its newest commit holds every
     * change through, and where each slot reads the log again from: those changes are not applied
     * again ({@code ReplayFloor}). Not with an emit delay (a change may have been held, not
     * committed).
     */
    private static PipelineConfig replayedThrough(PipelineConfig pipeline) throws Exception {
        if (!pipeline.reconcile().emitDelay().isZero()) {
            say(
                    "reconcile.emit-delay is above 0: changes the log sends again are applied again"
                            + " (a table can show a row's older version until the re-read)");
            return pipeline;
        }
        Map<String, String> through = new java.util.TreeMap<>();
        // where each Postgres source's log is read again from: its slot's confirmed position
        Map<String, Long> logFrom = new java.util.HashMap<>();
        for (SourceConfig source : pipeline.sources()) {
            if (source.kind() == SourceKind.POSTGRES) {
                logFrom.put(source.id(), PostgresSlots.confirmedPosition(source));
            }
        }
        Catalog catalog = Tidemark.catalog(pipeline);
        try {
            for (PipelineConfig.TableConfig table : pipeline.tables()) {
                TableIdentifier target = TableIdentifier.parse(table.target());
                if (!catalog.tableExists(target)) {
                    continue;
                }
                for (Provenance.Commit commit :
                        pipelineCommits(catalog.loadTable(target), pipeline)) {
                    String positions = commit.get(Provenance.SOURCE_POSITIONS);
                    if (positions != null && !positions.equals("{}")) {
                        through.put(
                                table.target(), SourcePositions.withLogFrom(positions, logFrom));
                        break;
                    }
                }
            }
        } finally {
            Tidemark.close(catalog);
        }
        through.forEach(
                (table, positions) ->
                        say(
                                "%s: changes through %s are in the table; read again, they are"
                                        + " not applied again",
                                table, positions));
        return pipeline.withReplayedThrough(through);
    }

    /**
     * Before a fresh start that keeps the tables' rows, once its log's start is fixed ({@link
     * #logFromNow}): every table is asked to be read again; the pipeline's re-snapshot sources pick
     * the requests up.
     */
    private static void keepServing(PipelineConfig pipeline, List<ResolvedTable> tables)
            throws Exception {
        Catalog catalog = Tidemark.catalog(pipeline);
        try {
            List<String> requested = new ArrayList<>();
            for (ResolvedTable table : tables) {
                long request = ResnapshotRequests.request(catalog.loadTable(table.target()));
                requested.add(table.target() + " (" + request + ")");
            }
            say(
                    "every table is read again while the pipeline runs, one at a time per source"
                            + " (re-snapshots %s; outcome in each table's property %s)",
                    String.join(", ", requested), ResnapshotRequests.COMPLETED);
        } finally {
            Tidemark.close(catalog);
        }
    }

    /** {@code <table>: checkpoint <n> committed <time>} for each target holding this pipeline's. */
    private static List<String> committedTables(PipelineConfig pipeline, List<ResolvedTable> tables)
            throws Exception {
        List<String> committed = new ArrayList<>();
        Catalog catalog = Tidemark.catalog(pipeline);
        try {
            for (ResolvedTable table : tables) {
                Table target = catalog.loadTable(table.target());
                // the newest commit of this pipeline among the table's last ones
                for (Provenance.Commit commit : pipelineCommits(target, pipeline)) {
                    committed.add(
                            String.format(
                                    "%s: checkpoint %d committed %s",
                                    table.target(), commit.checkpointId(), commit.committedAt()));
                    break;
                }
            }
        } finally {
            Tidemark.close(catalog);
        }
        return committed;
    }

    /** The commits of {@code pipeline} among the last 20 of {@code table}, newest first. */
    private static List<Provenance.Commit> pipelineCommits(Table table, PipelineConfig pipeline) {
        return Provenance.lastCommits(table, 20).stream()
                .filter(c -> pipeline.pipelineId().equals(c.get(Provenance.PIPELINE_ID)))
                .toList();
    }

    private static void say(String format, Object... args) {
        String line = String.format(format, args);
        LOG.info("Start: {}", line);
        System.out.println("tidemark run: " + line);
    }
}
