package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.throwable.ThrowableClassifier;
import org.apache.flink.runtime.throwable.ThrowableType;
import org.junit.jupiter.api.Test;

/**
 * The failures a restart cannot cure, as Flink CDC's readers raise them (wrapped the way its
 * fetcher manager wraps a split reader's failure), become failures Flink's restart strategy does
 * not restart; others pass through unchanged.
 */
class SourceFailuresTest {

    private static final String NAME = "the source (mysql db:3306)";

    @Test
    void schemaOutOfSyncStopsNamingTheFreshStart() {
        // Debezium's message, under Flink CDC's and Flink's wrappers
        Exception failure =
                new RuntimeException(
                        "One or more fetchers have encountered exception",
                        new RuntimeException(
                                "SplitFetcher thread 0 received unexpected exception while polling the records",
                                new IllegalStateException(
                                        "Error processing binlog event",
                                        new IllegalArgumentException(
                                                "Data row is smaller than a column index, internal "
                                                        + "schema representation is probably out of sync "
                                                        + "with real database schema"))));
        SuppressRestartsException stop = SourceFailures.unrecoverable(NAME, failure);
        assertThat(stop).isNotNull();
        assertThat(ThrowableClassifier.getThrowableType(stop))
                .isEqualTo(ThrowableType.NonRecoverableError);
        assertThat(stop.getCause().getMessage())
                .startsWith(NAME + " failed in a way no restart can cure")
                .contains("tidemark run --fresh")
                .contains("out of sync with real database schema");
        assertThat(stop.getCause().getCause()).isSameAs(failure);
    }

    @Test
    void lostLogPositionsStopNamingWhatToDo() {
        assertThat(
                        SourceFailures.unrecoverable(
                                        NAME,
                                        new IllegalStateException(
                                                "The connector is trying to read binlog starting at "
                                                        + "Struct{...}, but this is no longer available on the "
                                                        + "server. Reconfigure the connector to use a snapshot "
                                                        + "when needed."))
                                .getCause()
                                .getMessage())
                .contains("purged")
                .contains("binlog_expire_logs_seconds");
        assertThat(
                        SourceFailures.unrecoverable(
                                        NAME,
                                        new RuntimeException(
                                                new org.postgresql.util.PSQLException(
                                                        "ERROR: can no longer get changes from replication "
                                                                + "slot \"tidemark_shop\"",
                                                        null)))
                                .getCause()
                                .getMessage())
                .contains("pg_drop_replication_slot")
                .contains("--fresh");
        assertThat(
                        SourceFailures.unrecoverable(
                                        NAME,
                                        new RuntimeException(
                                                "ERROR: requested WAL segment 000000010000000000000003 "
                                                        + "has already been removed"))
                                .getCause()
                                .getMessage())
                .contains("pg_drop_replication_slot");
    }

    @Test
    void aSlotMissingOrInvalidatedIsAProblemBeforeAResume() {
        assertThat(PostgresSlotCheck.problem(false, null)).startsWith("no longer exists");
        assertThat(PostgresSlotCheck.problem(true, "lost")).startsWith("was invalidated");
        assertThat(PostgresSlotCheck.problem(true, "reserved")).isNull();
        assertThat(PostgresSlotCheck.problem(true, "extended")).isNull();
        // before Postgres 13 there is no wal_status
        assertThat(PostgresSlotCheck.problem(true, null)).isNull();
    }

    @Test
    void otherFailuresAreLeftToTheRestartStrategy() {
        assertThat(
                        SourceFailures.unrecoverable(
                                NAME,
                                new RuntimeException(new java.net.ConnectException("refused"))))
                .isNull();
        assertThat(SourceFailures.unrecoverable(NAME, new RuntimeException((String) null)))
                .isNull();
    }

    @Test
    void theGuardedReaderStopsOnlyOnWhatCannotBeCured() throws Exception {
        SourceReader<String, SourceSplit> reader =
                new GuardedSource<String, SourceSplit, Void>(null, NAME)
                        .guard(
                                new Failing(
                                        new RuntimeException(
                                                "One or more fetchers have encountered exception",
                                                new IllegalStateException(
                                                        "The connector is trying to read binlog starting at x,"
                                                                + " but this is no longer available on the server."))));
        assertThatThrownBy(() -> reader.pollNext(null))
                .isInstanceOf(SuppressRestartsException.class)
                .hasStackTraceContaining("tidemark run --fresh");
        RuntimeException transientFailure = new RuntimeException("connection reset");
        SourceReader<String, SourceSplit> other =
                new GuardedSource<String, SourceSplit, Void>(null, NAME)
                        .guard(new Failing(transientFailure));
        assertThatThrownBy(() -> other.pollNext(null)).isSameAs(transientFailure);
    }

    /** A reader whose every poll fails with {@code failure}. */
    private record Failing(RuntimeException failure) implements SourceReader<String, SourceSplit> {
        @Override
        public void start() {}

        @Override
        public InputStatus pollNext(ReaderOutput<String> output) {
            throw failure;
        }

        @Override
        public List<SourceSplit> snapshotState(long checkpointId) {
            return List.of();
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void addSplits(List<SourceSplit> splits) {}

        @Override
        public void notifyNoMoreSplits() {}

        @Override
        public void close() {}
    }
}
