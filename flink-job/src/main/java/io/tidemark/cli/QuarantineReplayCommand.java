package io.tidemark.cli;

import io.tidemark.catalog.TableManager;
import io.tidemark.catalog.verify.CanonicalValues;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.catalog.verify.KeyFingerprints;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.SourcePosition;
import io.tidemark.sink.QuarantineMarks;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.sink.QuarantinedKeys;
import io.tidemark.source.TableDiscovery;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tidemark quarantine replay --config pipeline.yaml --table ns.table [--contract N]}: after
 * a table's contract was fixed (and the pipeline runs with the new version), brings the changes it
 * quarantined into the table, in three steps:
 *
 * <ol>
 *   <li>the quarantined changes not replayed yet (of contract version {@code N} only, with {@code
 *       --contract}) are read, and the key of each row image they hold;
 *   <li>the running pipeline is asked to read exactly those keys again from the source ({@link
 *       ResnapshotRequests}, the re-read {@code verify --repair} asks for), through the contract
 *       gate and the reconciler: each key's current row passes the active contract and lands in the
 *       table, in its order against the log (a change made since is never overwritten), or is
 *       quarantined again under the active version and leaves the table (as a snapshot under that
 *       version would hold it); a key the source no longer holds is deleted. This ends where
 *       replaying the quarantined changes in their source order would, and stays right where a
 *       replay of the changes themselves could not: for a key whose reconciler state expired, or
 *       after a fresh start, a quarantined change older than the row would overwrite it;
 *   <li>once the pipeline recorded the re-read as done (in a completed checkpoint), the changes are
 *       marked ({@link QuarantineMarks}: {@code replayed_by}, {@code replayed_at}).
 * </ol>
 *
 * <p>The target records the replay in its property {@value #PROPERTY}, and the commits that hold
 * the re-read name its request ({@code tidemark.resnapshot} in their summary). Run again after a
 * {@code --wait} that ran out: what was not marked is asked for again, which changes nothing the
 * first read wrote. The pipeline reads a table's newest request only: when another re-read of the
 * table is asked for before it takes this one, that one runs instead, and the command marks nothing
 * and says to run it again.
 */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        description = {
            "Bring a table's quarantined changes in under its current contract: their keys are read"
                    + " again by the running pipeline, then the changes are marked replayed.",
            "Exit code 0: replayed (or nothing to replay); 1: the re-read failed; 2: bad usage;"
                    + " 3: --wait ran out before the pipeline recorded the re-read."
        })
final class QuarantineReplayCommand implements Callable<Integer> {

    /** The target's property recording its newest replay. */
    static final String PROPERTY = "tidemark.quarantine-replay";

    @Option(
            names = {"-c", "--config"},
            required = true,
            paramLabel = "<pipeline.yaml>",
            description = "The pipeline file of the running pipeline.")
    Path config;

    @Option(
            names = {"-t", "--table"},
            required = true,
            paramLabel = "<namespace.table>",
            description = "The target table whose quarantined changes to replay.")
    String table;

    @Option(
            names = "--contract",
            paramLabel = "<N>",
            description =
                    "Only the changes quarantined under this contract version (default: every"
                            + " version).")
    Integer contract;

    @Option(
            names = {"-w", "--wait"},
            paramLabel = "<duration>",
            defaultValue = "10m",
            converter = DurationConverter.class,
            description =
                    "Wait up to this long for the pipeline to read the keys again (default:"
                            + " ${DEFAULT-VALUE}).")
    Duration wait;

    @Override
    public Integer call() throws Exception {
        PipelineConfig loaded = Tidemark.loadPipeline(config, "quarantine replay");
        if (loaded == null) {
            return Tidemark.EXIT_USAGE;
        }
        PipelineConfig pipeline = TableDiscovery.resolve(loaded);
        TableConfig entry = null;
        List<String> contracted = new ArrayList<>();
        for (TableConfig candidate : pipeline.tables()) {
            if (candidate.contract() != null) {
                contracted.add(candidate.target());
                if (candidate.target().equals(table)) {
                    entry = candidate;
                }
            }
        }
        if (entry == null) {
            System.err.printf(
                    "tidemark quarantine replay: --table '%s' is not a target of %s with a"
                            + " contract (only those quarantine changes); targets with one: %s%n",
                    table, config, contracted);
            return Tidemark.EXIT_USAGE;
        }
        Catalog catalog = Tidemark.catalog(pipeline);
        try {
            TableIdentifier targetId = TableIdentifier.parse(table);
            TableIdentifier quarantineId = QuarantineTable.of(targetId);
            if (!catalog.tableExists(targetId) || !catalog.tableExists(quarantineId)) {
                System.out.printf(
                        "tidemark quarantine replay: %s has nothing quarantined yet%n", table);
                return 0;
            }
            // a quarantine table an earlier release made gains the replay columns
            Table quarantine =
                    new TableManager(catalog)
                            .ensureAppendOnly(quarantineId, QuarantineTable.SCHEMA);
            return replay(catalog.loadTable(targetId), quarantine, entry.contract());
        } finally {
            Tidemark.close(catalog);
        }
    }

    private int replay(Table target, Table quarantine, int active) throws Exception {
        // the newest detection among the rows there now: each was detected before the request,
        // so its change is older than the re-read (times of the pipeline's clocks only)
        Instant through = Instant.MIN;
        QuarantinedKeys keysOf = new QuarantinedKeys(target.schema());
        KeyFingerprints.Builder fingerprints =
                new KeyFingerprints.Builder(GroundTruthDiff.MAX_KEYS);
        long changes = 0;
        long keyless = 0;
        quarantine.refresh();
        if (quarantine.currentSnapshot() != null) {
            try (CloseableIterable<Record> all = IcebergGenerics.read(quarantine).build()) {
                for (Record row : all) {
                    Instant detected = detectedAt(row);
                    through = detected.isAfter(through) ? detected : through;
                    if (row.getField(QuarantineTable.REPLAYED_BY) != null || !ofContract(row)) {
                        continue;
                    }
                    Set<List<Object>> keys = keysOf.of(row);
                    if (keys.isEmpty()) {
                        keyless++;
                        continue;
                    }
                    changes++;
                    keys.forEach(key -> fingerprints.add(CanonicalValues.keyFingerprint(key)));
                }
            }
        }
        if (fingerprints.overflowed()) {
            System.err.printf(
                    "tidemark quarantine replay: the quarantined changes of %s hold more than %,d"
                            + " keys; read the whole table again instead: tidemark resnapshot"
                            + " --config %s --table %s%n",
                    target.name(), GroundTruthDiff.MAX_KEYS, config, table);
            return Tidemark.EXIT_USAGE;
        }
        String scope = contract == null ? "every contract version" : "contract v" + contract;
        if (keyless > 0) {
            System.out.printf(
                    "tidemark quarantine replay: %d quarantined change(s) of %s have no key to read"
                            + " again (undecodable, or a key the contract refused): they stay"
                            + " quarantined%n",
                    keyless, scope);
        }
        KeyFingerprints requested = fingerprints.build();
        if (requested.isEmpty()) {
            System.out.printf(
                    "tidemark quarantine replay: no quarantined change of %s (%s) to replay%n",
                    target.name(), scope);
            return 0;
        }
        long request = ResnapshotRequests.request(target, List.of(), requested);
        String replayedBy =
                String.format(
                        "replay %d: %d change(s) of %d key(s) of %s, read again under contract v%d",
                        request, changes, requested.size(), scope, active);
        target.updateProperties().set(PROPERTY, replayedBy).commit();
        System.out.printf(
                "tidemark quarantine replay: asked the running pipeline to read %d key(s) of %s"
                        + " again (re-snapshot %d) for %d quarantined change(s) of %s%n",
                requested.size(), target.name(), request, changes, scope);
        String outcome = ResnapshotCommand.awaitOutcome(target, request, wait);
        if (outcome == null) {
            System.err.printf(
                    "tidemark quarantine replay: the pipeline did not read the keys within %s: is it"
                            + " running? It reads them when it runs; run this command again"
                            + " afterwards to mark the changes replayed%n",
                    wait);
            return 3;
        }
        if (!outcome.startsWith(request + " ")) {
            // the pipeline sees a table's newest request only: another one came before it looked
            System.err.printf(
                    "tidemark quarantine replay: another re-read of %s was asked for before the"
                            + " pipeline took this one, and ran instead (%s); nothing is marked: run"
                            + " the replay again%n",
                    target.name(), outcome);
            return 1;
        }
        if (!outcome.startsWith(request + " done")) {
            System.err.println("tidemark quarantine replay: the re-read failed: " + outcome);
            return 1;
        }
        long marked =
                QuarantineMarks.mark(
                        quarantine,
                        selected(through, request, keysOf, requested),
                        replayedBy,
                        Instant.now());
        long again = quarantinedAgain(quarantine, request);
        System.out.printf(
                "tidemark quarantine replay: %s; %d change(s) marked replayed in %s; rows contract"
                        + " v%d still refuses are quarantined again (%d so far: the checkpoint"
                        + " that recorded the re-read may still be committing)%n",
                outcome, marked, quarantine.name(), active, again);
        return 0;
    }

    /**
     * What the marking takes: a row of the chosen contract version detected at or before {@code
     * through} (the newest detection when the keys were chosen) whose keys were all read again,
     * other than the rows the re-read itself quarantined (rows marked already are left as they
     * are). A row the pipeline committed after the keys were chosen but detected before then
     * qualifies: its change is older than the re-read of its keys.
     */
    private Predicate<Record> selected(
            Instant through, long request, QuarantinedKeys keysOf, KeyFingerprints requested) {
        return row -> {
            if (!ofContract(row) || detectedAt(row).isAfter(through) || ofReread(row, request)) {
                return false;
            }
            Set<List<Object>> keys = keysOf.of(row);
            return !keys.isEmpty()
                    && keys.stream()
                            .allMatch(k -> requested.contains(CanonicalValues.keyFingerprint(k)));
        };
    }

    /** The rows re-snapshot {@code request} quarantined: refused by the active contract too. */
    private static long quarantinedAgain(Table quarantine, long request) throws Exception {
        quarantine.refresh();
        long count = 0;
        try (CloseableIterable<Record> all = IcebergGenerics.read(quarantine).build()) {
            for (Record row : all) {
                if (ofReread(row, request)) {
                    count++;
                }
            }
        }
        return count;
    }

    /** Whether {@code row} is a change re-snapshot {@code request} made (its position says so). */
    private static boolean ofReread(Record row, long request) {
        Object commit = row.getField("commit_lsn");
        Object tx = row.getField("tx_id");
        return commit instanceof Long place
                && tx instanceof Long id
                && id == request
                && new SourcePosition(place, SourcePosition.UNKNOWN, id).isResnapshot();
    }

    private boolean ofContract(Record row) {
        return contract == null || contract.equals(row.getField("contract_version"));
    }

    private static Instant detectedAt(Record row) {
        return ((OffsetDateTime) row.getField("detected_at")).toInstant();
    }
}
