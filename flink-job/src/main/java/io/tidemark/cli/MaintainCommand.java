package io.tidemark.cli;

import io.tidemark.config.PipelineConfig;
import io.tidemark.job.MaintenancePass;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.TableDiscovery;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark maintain --config pipeline.yaml [--table ns.table ...]}: one maintenance pass
 * over the pipeline's tables, beside the running pipeline or without it ({@link MaintenancePass}):
 * a compaction with the deletes applied, the delete files it leaves dangling removed, a snapshot
 * expiry; each table under the lock the job's own maintenance of it takes.
 */
@Command(
        name = "maintain",
        mixinStandardHelpOptions = true,
        description = {
            "Compact and expire the pipeline's tables once, beside the running pipeline or without it"
                    + " (tables created while it runs are maintained by the job from its next start"
                    + " only).",
            "Exit code 0: every table maintained; 2: bad usage; 3: a table failed, or was skipped"
                    + " because another maintenance run held its lock (run again later)."
        })
final class MaintainCommand implements Callable<Integer> {

    @Option(
            names = {"-c", "--config"},
            required = true,
            paramLabel = "<pipeline.yaml>",
            description = "The pipeline file whose tables to maintain.")
    Path config;

    @Option(
            names = {"-t", "--table"},
            paramLabel = "<namespace.table>",
            description =
                    "A table to maintain (repeatable; default: every table the pipeline commits to).")
    List<String> tables = new ArrayList<>();

    @Option(
            names = "--no-compaction",
            description = "Do not rewrite data files (expire snapshots only).")
    boolean noCompaction;

    @Option(names = "--no-expiry", description = "Do not expire snapshots (compact only).")
    boolean noExpiry;

    @Option(
            names = "--release-lock",
            description =
                    "Release a table's maintenance lock that a killed maintain left before taking it"
                            + " (only when no other maintenance of the table runs: the lock has no"
                            + " owner to ask).")
    boolean releaseLock;

    @Option(
            names = "--retain-last",
            paramLabel = "<n>",
            description =
                    "Snapshots an expiry always keeps (default: maintenance.expire-snapshots.retain-last).")
    Integer retainLast;

    @Option(
            names = "--max-snapshot-age",
            paramLabel = "<duration>",
            converter = DurationConverter.class,
            description =
                    "Snapshots younger than this are kept (default: maintenance.expire-snapshots.max-age).")
    Duration maxSnapshotAge;

    @Override
    public Integer call() throws Exception {
        PipelineConfig loaded = Tidemark.loadPipeline(config, "maintain");
        if (loaded == null) {
            return Tidemark.EXIT_USAGE;
        }
        if (loaded.maintenance().lockJdbcUri() == null) {
            System.err.printf(
                    "tidemark maintain: %s names no database for the maintenance lock: set"
                            + " maintenance.lock.jdbc-uri (a JDBC catalog's uri is used by default)%n",
                    config);
            return Tidemark.EXIT_USAGE;
        }
        if (noCompaction && noExpiry) {
            System.err.println(
                    "tidemark maintain: --no-compaction and --no-expiry leave nothing to do");
            return Tidemark.EXIT_USAGE;
        }
        // tables created in the source since the pipeline started are its targets now too
        PipelineConfig pipeline = TableDiscovery.resolve(loaded);
        RunContext run = RunContext.start(pipeline.pipelineId(), null);
        MaintenancePass.Tasks tasks =
                new MaintenancePass.Tasks(
                        !noCompaction,
                        !noExpiry,
                        retainLast != null ? retainLast : pipeline.maintenance().retainLast(),
                        maxSnapshotAge != null
                                ? maxSnapshotAge
                                : pipeline.maintenance().maxSnapshotAge());
        Catalog catalog = Tidemark.catalog(pipeline);
        try {
            MaintenancePass pass = new MaintenancePass(pipeline, catalog, run);
            List<TableIdentifier> chosen = pass.tables();
            if (!tables.isEmpty()) {
                List<TableIdentifier> named = new ArrayList<>();
                for (String table : tables) {
                    TableIdentifier id = TableIdentifier.parse(table);
                    if (!chosen.contains(id)) {
                        System.err.printf(
                                "tidemark maintain: --table '%s' is not a table of %s; its tables: %s%n",
                                table, config, chosen);
                        return Tidemark.EXIT_USAGE;
                    }
                    named.add(id);
                }
                chosen = named;
            }
            System.out.printf(
                    "tidemark maintain: pipeline %s, run id %s, %d table(s)%n",
                    pipeline.pipelineId(), run.runId(), chosen.size());
            int code = 0;
            for (TableIdentifier table : chosen) {
                try {
                    MaintenancePass.Outcome outcome = pass.maintain(table, tasks, releaseLock);
                    if (outcome.skipped()) {
                        System.out.printf(
                                "  %s: skipped, another maintenance run (the job's, or another"
                                        + " maintain) holds its lock; run again later, or with"
                                        + " --release-lock if a maintain that held it was killed%n",
                                table);
                        code = Math.max(code, Tidemark.EXIT_ERROR);
                    } else {
                        System.out.printf(
                                "  %s: %d data file(s) rewritten into %d, %d dangling delete"
                                        + " file(s) removed, %d snapshot(s) expired%n",
                                table,
                                outcome.dataFilesRewritten(),
                                outcome.dataFilesWritten(),
                                outcome.deleteFilesRemoved(),
                                outcome.snapshotsExpired());
                    }
                } catch (RuntimeException e) {
                    System.err.printf("  %s: failed: %s%n", table, Tidemark.causes(e));
                    code = Tidemark.EXIT_ERROR;
                }
            }
            return code;
        } finally {
            Tidemark.close(catalog);
        }
    }
}
