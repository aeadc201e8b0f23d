package io.tidemark.source.resnapshot;

import io.tidemark.source.resnapshot.ResnapshotEnumeratorState.Outcome;
import java.io.Closeable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the target tables for re-snapshot requests ({@link #pollMillis}), hands each new one to
 * the reader (subtask 0), and records each outcome on its table once the checkpoint that holds the
 * request's rows has completed; nothing fails the job. A table merged from several sources is read
 * by each source's own enumerator and reader, and its outcome recorded once all of them are done
 * ({@link ResnapshotRequests#record}).
 */
final class ResnapshotEnumerator
        implements SplitEnumerator<ResnapshotSplit, ResnapshotEnumeratorState> {

    private static final Logger LOG = LoggerFactory.getLogger(ResnapshotEnumerator.class);

    /**
     * How often the target tables are read for requests: {@code source.resnapshot.poll-interval} (5
     * s), at least 250 ms per table.
     */
    static long pollMillis(java.time.Duration interval, int tables) {
        return Math.max(interval.toMillis(), 250L * tables);
    }

    private final SplitEnumeratorContext<ResnapshotSplit> context;
    private final ResnapshotSource.Settings settings;
    private final Map<String, Long> accepted;
    private final ArrayDeque<ResnapshotSplit> pending;

    /** Outcomes not yet part of a checkpoint. */
    private final List<Outcome> outcomes;

    /** Outcomes part of a checkpoint, by checkpoint id, written when it completes. */
    private final TreeMap<Long, List<Outcome>> checkpointed = new TreeMap<>();

    private Catalog catalog;

    ResnapshotEnumerator(
            SplitEnumeratorContext<ResnapshotSplit> context,
            ResnapshotSource.Settings settings,
            ResnapshotEnumeratorState state) {
        this.context = context;
        this.settings = settings;
        // read by the request poll off the coordinator's thread, written on it
        this.accepted = new java.util.concurrent.ConcurrentHashMap<>(state.accepted());
        this.pending = new ArrayDeque<>(state.pending());
        this.outcomes = new ArrayList<>(state.outcomes());
    }

    @Override
    public void start() {
        settings.run().enterLogContext();
        catalog = settings.catalog().loadCatalog();
        context.callAsync(
                this::requests,
                this::accept,
                0,
                pollMillis(settings.source().resnapshotPollInterval(), settings.targets().size()));
    }

    /** The newest request per target not yet handled (run off the coordinator's thread). */
    private Map<String, Request> requests() {
        settings.run().enterLogContext();
        Map<String, Request> found = new LinkedHashMap<>();
        for (String target : settings.targets().values()) {
            Table table;
            try {
                table = catalog.loadTable(TableIdentifier.parse(target));
            } catch (NoSuchTableException e) {
                continue;
            }
            long requested = ResnapshotRequests.requested(table);
            // an accepted request is not read again while it runs
            if (requested > ResnapshotRequests.completed(table)
                    && requested > accepted.getOrDefault(target, -1L)) {
                found.put(
                        target,
                        new Request(
                                requested,
                                ResnapshotRequests.requestedBuckets(table),
                                ResnapshotRequests.requestedKeys(table),
                                ResnapshotRequests.requestedKeysFile(table)));
            }
        }
        return found;
    }

    /** A request read from a table. */
    private record Request(long number, List<Integer> buckets, List<Long> keys, String keysFile) {}

    private void accept(Map<String, Request> requests, Throwable error) {
        if (error != null) {
            LOG.warn("Could not read the re-snapshot requests: {}", error.toString());
            return;
        }
        for (Map.Entry<String, Request> entry : requests.entrySet()) {
            String target = entry.getKey();
            Request request = entry.getValue();
            if (request.number() <= accepted.getOrDefault(target, -1L)) {
                continue;
            }
            accepted.put(target, request.number());
            String sourceTable =
                    settings.targets().entrySet().stream()
                            .filter(e -> e.getValue().equals(target))
                            .map(Map.Entry::getKey)
                            .findFirst()
                            .orElseThrow();
            ResnapshotSplit split =
                    new ResnapshotSplit(
                            request.number(),
                            sourceTable,
                            target,
                            request.buckets(),
                            request.keys(),
                            request.keysFile());
            LOG.info(
                    "Re-snapshot {} of {} (from {}){} accepted",
                    request.number(),
                    target,
                    sourceTable,
                    split.scope());
            pending.add(split);
        }
        assign();
    }

    private void assign() {
        if (!pending.isEmpty() && context.registeredReaders().containsKey(0)) {
            context.assignSplits(new SplitsAssignment<>(Map.of(0, List.copyOf(pending))));
            pending.clear();
        }
    }

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {}

    @Override
    public void addSplitsBack(List<ResnapshotSplit> splits, int subtaskId) {
        // read again from the start when the reader is back
        pending.addAll(splits);
    }

    @Override
    public void addReader(int subtaskId) {
        assign();
    }

    @Override
    public void handleSourceEvent(int subtaskId, SourceEvent event) {
        if (event instanceof ResnapshotDone done) {
            LOG.info(
                    "Re-snapshot {} of {} ended, recorded once the next checkpoint completes: {}",
                    done.split().request(),
                    done.split().target(),
                    done.outcome());
            outcomes.add(
                    new Outcome(
                            done.split().target(), done.split().request() + " " + done.outcome()));
        }
    }

    @Override
    public ResnapshotEnumeratorState snapshotState(long checkpointId) {
        if (!outcomes.isEmpty()) {
            checkpointed.put(checkpointId, new ArrayList<>(outcomes));
            outcomes.clear();
        }
        List<Outcome> unwritten = new ArrayList<>();
        checkpointed.values().forEach(unwritten::addAll);
        return new ResnapshotEnumeratorState(accepted, new ArrayList<>(pending), unwritten);
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        Map<Long, List<Outcome>> done = checkpointed.headMap(checkpointId, true);
        for (Map.Entry<Long, List<Outcome>> entry : new ArrayList<>(done.entrySet())) {
            for (Outcome outcome : entry.getValue()) {
                record(outcome, entry.getKey());
            }
            checkpointed.remove(entry.getKey());
        }
    }

    private void record(Outcome outcome, long checkpointId) {
        String text =
                outcome.text()
                        + " (checkpoint "
                        + checkpointId
                        + ", "
                        + java.time.Instant.now()
                        + ")";
        try {
            Table table = catalog.loadTable(TableIdentifier.parse(outcome.target()));
            String recorded =
                    ResnapshotRequests.record(
                            table,
                            text,
                            settings.source().id(),
                            settings.merged().getOrDefault(outcome.target(), List.of()));
            LOG.info(
                    "Re-snapshot of {} recorded{}: {}",
                    outcome.target(),
                    recorded == null ? " for source " + settings.source().id() : "",
                    recorded == null ? text : recorded);
        } catch (RuntimeException e) {
            // the rows are committed; only the record of it is missing: say so, do not fail
            LOG.warn(
                    "Could not record on {} that re-snapshot {}: {}",
                    outcome.target(),
                    text,
                    e.toString());
        }
    }

    @Override
    public void close() throws java.io.IOException {
        if (catalog instanceof Closeable closeable) {
            closeable.close();
        }
    }
}
