package io.tidemark.source;

import java.util.List;
import java.util.Locale;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/**
 * Source failures a restart cannot cure: the same position, the same server state and the same code
 * fail the same way at every attempt, so Flink's restart strategy would restart the job in a loop
 * (every ten seconds, for ever, under the default fixed-delay strategy) while the log only shows
 * the failure again. Each one known here becomes a failure without restarts ({@link
 * SuppressRestartsException}) that says what happened and what to do; anything else is left to the
 * restart strategy.
 */
public final class SourceFailures {

    /** One known failure: words its message holds (lower case), and what to tell the user. */
    record Known(String fragment, String explanation) {}

    static final List<Known> KNOWN =
            List.of(
                    new Known(
                            "internal schema representation is probably out of sync",
                            "the binlog reader met rows written before a schema change of their "
                                    + "table, with the table's newer columns (Flink CDC takes the "
                                    + "columns from the tables as they are when the binlog reader "
                                    + "starts, which is a little after the snapshot's last commit, "
                                    + "and reads from the snapshot's earliest position). Every "
                                    + "restart from this state fails the same way. Start the "
                                    + "pipeline afresh: `tidemark run --fresh` (a new snapshot that "
                                    + "replaces each table); change a captured table's schema only "
                                    + "once a change made after the snapshot has been committed"),
                    new Known(
                            "is no longer available on the server",
                            "the server no longer holds the binlog the pipeline resumes from (it "
                                    + "was purged, binlog_expire_logs_seconds or expire_logs_days, "
                                    + "while the job was stopped or behind). The changes in it are "
                                    + "lost to the pipeline: start it afresh (`tidemark run "
                                    + "--fresh`: a new snapshot that replaces each table), and keep "
                                    + "binlogs longer than the longest stop"),
                    new Known(
                            "some of the gtids needed to replicate have been already purged",
                            "the server has purged GTIDs the pipeline has not read yet (its "
                                    + "binlogs expired while the job was stopped or behind). Start "
                                    + "the pipeline afresh (`tidemark run --fresh`: a new snapshot "
                                    + "that replaces each table), and keep binlogs longer than the "
                                    + "longest stop"),
                    new Known(
                            "can no longer get changes from replication slot",
                            "Postgres invalidated the pipeline's replication slot (the WAL it "
                                    + "needed was removed: max_slot_wal_keep_size, or the slot was "
                                    + "idle too long), so the changes since its position are lost "
                                    + "to it. Drop the slot (SELECT pg_drop_replication_slot('<slot>')) "
                                    + "and start the pipeline afresh (`tidemark run --fresh`: a new "
                                    + "snapshot that replaces each table)"),
                    new Known(
                            "has already been removed",
                            "the WAL the pipeline's replication slot resumes from has been removed "
                                    + "from the server, so the changes in it are lost to the "
                                    + "pipeline. Drop the slot (SELECT pg_drop_replication_slot"
                                    + "('<slot>')) and start the pipeline afresh (`tidemark run "
                                    + "--fresh`: a new snapshot that replaces each table)"));

    private SourceFailures() {}

    /**
     * {@code failure} as a failure without restarts when it is one a restart cannot cure (its
     * message or one of its causes' says so); otherwise null.
     *
     * @param source the source as a message names it ("the source (mysql host:port)")
     */
    public static SuppressRestartsException unrecoverable(String source, Throwable failure) {
        if (failure instanceof SuppressRestartsException suppressed) {
            return suppressed;
        }
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            String message = cause.getMessage();
            if (message == null) {
                continue;
            }
            String lower = message.toLowerCase(Locale.ROOT);
            for (Known known : KNOWN) {
                if (lower.contains(known.fragment())) {
                    return new SuppressRestartsException(
                            new IllegalStateException(
                                    String.format(
                                            "%s failed in a way no restart can cure, so the "
                                                    + "job stops instead of restarting in a loop: %s. "
                                                    + "(The source said: %s)",
                                            source, known.explanation(), message),
                                    failure));
                }
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return null;
    }

    /** Runs {@code call}, turning a failure no restart can cure into one without restarts. */
    static <T> T guard(String source, FailingCall<T> call) throws Exception {
        try {
            return call.call();
        } catch (Exception | Error e) {
            SuppressRestartsException unrecoverable = unrecoverable(source, e);
            if (unrecoverable != null) {
                throw unrecoverable;
            }
            throw e;
        }
    }

    /** A call that may fail. */
    @FunctionalInterface
    interface FailingCall<T> {
        T call() throws Exception;
    }
}
