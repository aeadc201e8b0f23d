package io.tidemark.source.resnapshot;

import io.tidemark.catalog.verify.KeyFingerprints;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.source.Reread;
import java.io.Closeable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs re-snapshots one at a time on a thread of its own, paced to the source's rows per second,
 * and hands their changes to Flink through a bounded queue (a slow pipeline slows the re-read). A
 * re-snapshot that fails is logged and reported to the coordinator, never fails the job; one cut by
 * a restore runs again from its start.
 */
final class ResnapshotReader implements SourceReader<ChangeEvent, ResnapshotSplit> {

    private static final Logger LOG = LoggerFactory.getLogger(ResnapshotReader.class);

    private final SourceReaderContext context;
    private final ResnapshotSource.Settings settings;
    private final ArrayDeque<ResnapshotSplit> splits = new ArrayDeque<>();
    private final BlockingQueue<ChangeEvent> queue = new ArrayBlockingQueue<>(4096);
    private volatile CompletableFuture<Void> available = new CompletableFuture<>();
    private volatile boolean running = true;

    /** The re-snapshot being read, or null. */
    private volatile ResnapshotSplit current;

    /** What the current re-snapshot did, once its thread ended; null while it reads. */
    private volatile String outcome;

    private Thread worker;
    private Catalog catalog;

    /** Changes handed to Flink by re-snapshots ({@code tidemark.resnapshot.changesOut}). */
    private org.apache.flink.metrics.Counter changesOut;

    /** Re-snapshots finished, whatever their outcome ({@code tidemark.resnapshot.finished}). */
    private org.apache.flink.metrics.Counter finished;

    ResnapshotReader(SourceReaderContext context, ResnapshotSource.Settings settings) {
        this.context = context;
        this.settings = settings;
    }

    @Override
    public void start() {
        settings.run().enterLogContext();
        catalog = settings.catalog().loadCatalog();
        org.apache.flink.metrics.MetricGroup group =
                context.metricGroup().addGroup("tidemark").addGroup("resnapshot");
        changesOut = group.counter("changesOut");
        finished = group.counter("finished");
        // 1 while a re-snapshot reads, for an alert on one that runs for hours
        group.gauge("running", () -> current == null ? 0 : 1);
    }

    @Override
    public InputStatus pollNext(ReaderOutput<ChangeEvent> output) {
        ChangeEvent change = queue.poll();
        if (change != null) {
            output.collect(change, change.sourceTimeMillis());
            changesOut.inc();
            return InputStatus.MORE_AVAILABLE;
        }
        if (current != null && outcome != null && queue.isEmpty()) {
            // every change of the re-snapshot is out: the coordinator records it at the next
            // checkpoint, whose barrier follows them
            context.sendSourceEventToCoordinator(new ResnapshotDone(current, outcome));
            LOG.info(
                    "Re-snapshot {} of {} sent to the coordinator: {}",
                    current.request(),
                    current.target(),
                    outcome);
            finished.inc();
            current = null;
            outcome = null;
            worker = null;
        }
        if (current == null && !splits.isEmpty()) {
            begin(splits.poll());
        }
        CompletableFuture<Void> next = new CompletableFuture<>();
        available = next;
        if (!queue.isEmpty() || outcome != null || (current == null && !splits.isEmpty())) {
            next.complete(null);
            return InputStatus.MORE_AVAILABLE;
        }
        if (current != null) {
            // while a re-snapshot reads, look again within a fifth of a second whatever wakes
            // this reader: a finished re-snapshot must never wait unsent for a missed wake-up
            CompletableFuture.delayedExecutor(200, TimeUnit.MILLISECONDS)
                    .execute(() -> next.complete(null));
        }
        return InputStatus.NOTHING_AVAILABLE;
    }

    private void begin(ResnapshotSplit split) {
        current = split;
        outcome = null;
        worker =
                new Thread(
                        () -> {
                            settings.run().enterLogContext();
                            outcome = read(split);
                            // after the outcome: pollNext, woken, sees it
                            available.complete(null);
                        },
                        "tidemark-resnapshot-" + split.sourceTable());
        worker.setDaemon(true);
        worker.start();
    }

    /** Reads one re-snapshot into the queue; returns its outcome. */
    private String read(ResnapshotSplit split) {
        long started = System.nanoTime();
        long[] emitted = {0};
        long nanosPerRow = 1_000_000_000L / Math.max(1, settings.rowsPerSecond());
        try {
            Table target = catalog.loadTable(TableIdentifier.parse(split.target()));
            KeyFingerprints keys =
                    split.keysFile().isEmpty()
                            ? KeyFingerprints.of(split.keys())
                            : ResnapshotRequests.readKeys(target, split.keysFile());
            Reread.Result result =
                    Reread.read(
                            settings.source(),
                            split.sourceTable(),
                            settings.primaryKeys(),
                            target,
                            split.request(),
                            split.buckets(),
                            keys,
                            change -> {
                                // the cap: row n leaves no earlier than n / rowsPerSecond
                                long due = started + emitted[0]++ * nanosPerRow;
                                long wait = due - System.nanoTime();
                                if (wait > 0) {
                                    LockSupport.parkNanos(wait);
                                }
                                put(change);
                            },
                            () -> running);
            return String.format(
                    "done: %d rows re-read%s in %d chunks of %d source rows (high watermarks"
                            + " %s..%s), %d keys of the table checked for deletion, in %.1f s",
                    result.rows(),
                    keys.isEmpty() ? split.scope() : " (" + keys.size() + " keys)",
                    result.chunks(),
                    result.read(),
                    result.first(),
                    result.last(),
                    result.deletes(),
                    (System.nanoTime() - started) / 1e9);
        } catch (Exception e) {
            if (!running) {
                return "stopped";
            }
            LOG.error(
                    "Re-snapshot {} of {} failed; the pipeline goes on without it: {}",
                    split.request(),
                    split.sourceTable(),
                    e.toString(),
                    e);
            return "failed: " + e;
        }
    }

    private void put(ChangeEvent change) {
        try {
            while (!queue.offer(change, 100, TimeUnit.MILLISECONDS)) {
                if (!running) {
                    throw new IllegalStateException("the re-snapshot reader is closing");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("the re-snapshot reader was interrupted", e);
        }
        available.complete(null);
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        return available;
    }

    @Override
    public void addSplits(List<ResnapshotSplit> added) {
        splits.addAll(added);
        available.complete(null);
    }

    @Override
    public void notifyNoMoreSplits() {}

    @Override
    public List<ResnapshotSplit> snapshotState(long checkpointId) {
        // a re-snapshot under way is read again from its start after a restore
        List<ResnapshotSplit> state = new ArrayList<>();
        if (current != null) {
            state.add(current);
        }
        state.addAll(splits);
        return state;
    }

    @Override
    public void close() throws Exception {
        running = false;
        Thread thread = worker;
        if (thread != null) {
            thread.interrupt();
            thread.join(30_000);
        }
        if (catalog instanceof Closeable closeable) {
            closeable.close();
        }
    }
}
