package io.tidemark.source;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A Flink CDC source whose readers fail without restarts where a restart cannot cure the failure
 * ({@link SourceFailures}), and which checks what must hold before it resumes ({@link
 * RestoreCheck}); everything else, its splits, enumerator and their serializers (and so its
 * savepoints), is the wrapped source's.
 */
public final class GuardedSource<T, S extends SourceSplit, E> implements Source<T, S, E> {

    private static final long serialVersionUID = 1L;

    private final Source<T, S, E> source;
    private final String name;
    private final RestoreCheck restoreCheck;

    /**
     * @param source the source to guard
     * @param name the source as the failure's message names it
     */
    public GuardedSource(Source<T, S, E> source, String name) {
        this(source, name, RestoreCheck.NONE);
    }

    /**
     * @param restoreCheck what must hold before the source resumes from a checkpoint or savepoint
     */
    public GuardedSource(Source<T, S, E> source, String name, RestoreCheck restoreCheck) {
        this.source = source;
        this.name = name;
        this.restoreCheck = restoreCheck;
    }

    /** What must hold before a source resumes; throws, without restarts where none can help. */
    @FunctionalInterface
    public interface RestoreCheck extends java.io.Serializable {
        RestoreCheck NONE = () -> {};

        void beforeRestore();
    }

    @Override
    public Boundedness getBoundedness() {
        return source.getBoundedness();
    }

    @Override
    public SplitEnumerator<S, E> createEnumerator(SplitEnumeratorContext<S> context)
            throws Exception {
        return source.createEnumerator(context);
    }

    @Override
    public SplitEnumerator<S, E> restoreEnumerator(SplitEnumeratorContext<S> context, E checkpoint)
            throws Exception {
        return new CheckedEnumerator<>(source.restoreEnumerator(context, checkpoint), restoreCheck);
    }

    @Override
    public SimpleVersionedSerializer<S> getSplitSerializer() {
        return source.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<E> getEnumeratorCheckpointSerializer() {
        return source.getEnumeratorCheckpointSerializer();
    }

    @Override
    public SourceReader<T, S> createReader(SourceReaderContext context) throws Exception {
        return guard(source.createReader(context));
    }

    /** {@code reader} with its failures guarded. */
    SourceReader<T, S> guard(SourceReader<T, S> reader) {
        return new Reader<>(reader, name);
    }

    /**
     * A restored enumerator that runs the restore check when it starts, before the wrapped one does
     * anything (Flink CDC's Postgres enumerator creates a missing slot there). A failure in {@code
     * start()} fails the job (one thrown from {@code restoreEnumerator} itself is only logged while
     * the job goes on without a source).
     */
    private static final class CheckedEnumerator<S extends SourceSplit, E>
            implements SplitEnumerator<S, E> {

        private final SplitEnumerator<S, E> enumerator;
        private final RestoreCheck check;

        CheckedEnumerator(SplitEnumerator<S, E> enumerator, RestoreCheck check) {
            this.enumerator = enumerator;
            this.check = check;
        }

        @Override
        public void start() {
            check.beforeRestore();
            enumerator.start();
        }

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {
            enumerator.handleSplitRequest(subtaskId, requesterHostname);
        }

        @Override
        public void addSplitsBack(List<S> splits, int subtaskId) {
            enumerator.addSplitsBack(splits, subtaskId);
        }

        @Override
        public void addReader(int subtaskId) {
            enumerator.addReader(subtaskId);
        }

        @Override
        public E snapshotState(long checkpointId) throws Exception {
            return enumerator.snapshotState(checkpointId);
        }

        @Override
        public void close() throws java.io.IOException {
            enumerator.close();
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) throws Exception {
            enumerator.notifyCheckpointComplete(checkpointId);
        }

        @Override
        public void notifyCheckpointAborted(long checkpointId) throws Exception {
            enumerator.notifyCheckpointAborted(checkpointId);
        }

        @Override
        public void handleSourceEvent(int subtaskId, SourceEvent sourceEvent) {
            enumerator.handleSourceEvent(subtaskId, sourceEvent);
        }
    }

    /** The wrapped reader; each call's failure goes through {@link SourceFailures#guard}. */
    private static final class Reader<T, S extends SourceSplit> implements SourceReader<T, S> {

        private final SourceReader<T, S> reader;
        private final String name;

        Reader(SourceReader<T, S> reader, String name) {
            this.reader = reader;
            this.name = name;
        }

        @Override
        public void start() {
            uncheckedRun(reader::start);
        }

        @Override
        public InputStatus pollNext(ReaderOutput<T> output) throws Exception {
            return SourceFailures.guard(name, () -> reader.pollNext(output));
        }

        @Override
        public List<S> snapshotState(long checkpointId) {
            return unchecked(() -> reader.snapshotState(checkpointId));
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return reader.isAvailable();
        }

        @Override
        public void addSplits(List<S> splits) {
            uncheckedRun(() -> reader.addSplits(splits));
        }

        @Override
        public void notifyNoMoreSplits() {
            reader.notifyNoMoreSplits();
        }

        @Override
        public void handleSourceEvents(SourceEvent event) {
            uncheckedRun(() -> reader.handleSourceEvents(event));
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) throws Exception {
            SourceFailures.guard(
                    name, returningNull(() -> reader.notifyCheckpointComplete(checkpointId)));
        }

        @Override
        public void notifyCheckpointAborted(long checkpointId) throws Exception {
            reader.notifyCheckpointAborted(checkpointId);
        }

        @Override
        public void pauseOrResumeSplits(
                Collection<String> splitsToPause, Collection<String> splitsToResume) {
            reader.pauseOrResumeSplits(splitsToPause, splitsToResume);
        }

        @Override
        public void close() throws Exception {
            reader.close();
        }

        private void uncheckedRun(FailingRun run) {
            unchecked(returningNull(run));
        }

        private static SourceFailures.FailingCall<Void> returningNull(FailingRun run) {
            return () -> {
                run.run();
                return null;
            };
        }

        /** A call without a result that may fail. */
        @FunctionalInterface
        private interface FailingRun {
            void run() throws Exception;
        }

        private <R> R unchecked(SourceFailures.FailingCall<R> call) {
            try {
                return SourceFailures.guard(name, call);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Exception e) {
                // the reader's own methods declare none: it cannot be one
                throw new IllegalStateException(e);
            }
        }
    }
}
