package io.tidemark.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Waits until Iceberg tables equal their source tables (the ground truth) and fails with the full
 * diff if they do not within the timeout, or at once if the job stops. Every later ITCase uses it.
 */
public final class GroundTruth {

    private GroundTruth() {}

    /** Diffs every (source table -> Iceberg table) pair once. */
    public static List<DiffReport> diff(
            Connection source, Catalog catalog, Map<String, TableIdentifier> tables)
            throws SQLException {
        List<DiffReport> reports = new ArrayList<>();
        for (Map.Entry<String, TableIdentifier> entry : tables.entrySet()) {
            reports.add(
                    GroundTruthDiff.diff(
                            source, entry.getKey(), catalog.loadTable(entry.getValue())));
        }
        return reports;
    }

    /**
     * Waits until every table equals its source: missing, extra, duplicate and stale all 0. Returns
     * the clean reports.
     */
    public static List<DiffReport> awaitEqual(
            JobClient job,
            Connection source,
            Catalog catalog,
            Map<String, TableIdentifier> tables,
            Duration timeout) {
        return awaitEqual(() -> assertJobRunning(job), source, catalog, tables, timeout);
    }

    /** Fails (with the reason) when the job under test is no longer running. */
    @FunctionalInterface
    public interface RunningCheck {
        void assertRunning() throws Exception;
    }

    /** {@link #awaitEqual(JobClient, Connection, Catalog, Map, Duration)} for any job. */
    public static List<DiffReport> awaitEqual(
            RunningCheck running,
            Connection source,
            Catalog catalog,
            Map<String, TableIdentifier> tables,
            Duration timeout) {
        List<List<DiffReport>> last = new ArrayList<>(List.of(List.of()));
        try {
            Awaitility.await("Iceberg tables equal to the source")
                    .atMost(timeout)
                    .pollInterval(Duration.ofMillis(500))
                    .ignoreExceptionsMatching(
                            e -> e instanceof org.apache.iceberg.exceptions.NotFoundException)
                    .until(
                            () -> {
                                running.assertRunning();
                                last.set(0, diff(source, catalog, tables));
                                return last.get(0).stream().allMatch(DiffReport::isClean);
                            });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError(
                    "tables still differ from the source after " + timeout + ": " + last.get(0), e);
        }
        List<DiffReport> reports = last.get(0);
        for (DiffReport report : reports) {
            assertThat(report.missing()).as("missing rows in %s", report.icebergTable()).isZero();
            assertThat(report.extra()).as("extra rows in %s", report.icebergTable()).isZero();
            assertThat(report.duplicate())
                    .as("duplicate keys in %s", report.icebergTable())
                    .isZero();
            assertThat(report.stale()).as("stale rows in %s", report.icebergTable()).isZero();
            assertThat(report.tableRows()).isEqualTo(report.sourceRows());
            assertThat(report.differingBuckets())
                    .as(
                            "key buckets of %s whose checksums differ although every row is equal:"
                                    + " the two sides fingerprint a value differently",
                            report.icebergTable())
                    .isEmpty();
        }
        return reports;
    }

    /** Waits until each of {@code tables} has its first commit, failing if the job stops. */
    public static void awaitFirstCommit(JobClient job, Catalog catalog, TableIdentifier... tables) {
        Awaitility.await("first commit of " + Arrays.toString(tables))
                .atMost(Duration.ofMinutes(2))
                .until(
                        () -> {
                            assertJobRunning(job);
                            for (TableIdentifier table : tables) {
                                if (catalog.loadTable(table).currentSnapshot() == null) {
                                    return false;
                                }
                            }
                            return true;
                        });
    }

    /** Fails with the job's failure cause if it is no longer running. */
    public static void assertJobRunning(JobClient job) throws Exception {
        JobStatus status = job.getJobStatus().get(30, TimeUnit.SECONDS);
        if (status.isGloballyTerminalState()) {
            try {
                job.getJobExecutionResult().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("the job stopped: " + status, e);
            }
            throw new AssertionError("the job stopped: " + status);
        }
    }

    /** Cancels the job and waits until it has stopped. */
    public static void cancel(JobClient job) {
        try {
            job.cancel().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            // already terminal: nothing to cancel
        }
        Awaitility.await("job stopped")
                .atMost(Duration.ofSeconds(60))
                .ignoreExceptions()
                .until(
                        () ->
                                job.getJobStatus()
                                        .get(10, TimeUnit.SECONDS)
                                        .isGloballyTerminalState());
    }
}
