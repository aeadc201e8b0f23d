package io.tidemark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.commit.CommitListener;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.QuarantineMarks;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import io.tidemark.testing.CliOutput;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 25, quarantine replay, on a real PostgreSQL source: under contract v1 ({@code status} one
 * of {@code new, paid}) 101 changes are quarantined: 69 updates to {@code refunded}, 30 inserts,
 * the insert half of an update of a primary key (its delete of the old key passes: Postgres'
 * decoding splits it) and one update to {@code bogus}; some of those keys then change in ways v1
 * takes (10 paid again, one deleted). The pipeline stops with a savepoint and runs again under v2,
 * which takes {@code refunded} but not {@code bogus}; {@code quarantine replay --contract 2} finds
 * nothing, then {@code tidemark quarantine replay} brings the changes in while the pipeline runs:
 * the table ends equal to the source (the newer changes kept, the deleted key still gone, the moved
 * row under its new key) but for the {@code bogus} row, which is quarantined again under v2 and
 * leaves the table, as a snapshot under v2 would hold it; the 101 quarantine rows are marked with
 * the replay, the table and its commits name it, and a second replay finds only the change
 * quarantined again.
 */
class QuarantineReplayITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("replay", "iceberg_catalog");

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    private static final TableIdentifier TARGET = TableIdentifier.of("replay", "items");

    @Test
    void quarantinedChangesComeInUnderTheFixedContractAndAreMarked() throws Exception {
        Path dir = DATABASE.dir().resolve("replay-it");
        Path contracts = dir.resolve("contracts");
        Files.createDirectories(contracts.resolve("public.items"));
        contract(contracts, 1, "[new, paid]");
        contract(contracts, 2, "[new, paid, refunded]");
        PipelineYaml pipeline =
                PipelineYaml.postgres(DATABASE.get(), "replay", dir, "replay-it")
                        .set("contracts.dir", contracts.toString())
                        .set("source.resnapshot.poll-interval", "500ms")
                        .table("public.items", TARGET.toString(), "contract", 1);
        Map<String, TableIdentifier> truth = Map.of("public.items", TARGET);
        TableIdentifier quarantineId = QuarantineTable.of(TARGET);
        Catalog catalog = TestPipelines.catalog(pipeline.config());
        try (Connection source = DATABASE.get().connect("replay");
                Statement sql = source.createStatement()) {
            sql.execute(
                    "CREATE TABLE public.items (id bigint PRIMARY KEY, status text NOT NULL, n int)");
            sql.execute(
                    "INSERT INTO public.items SELECT g, 'new', g FROM generate_series(1, 500) g");
            JobClient job =
                    TestJobs.start(
                            pipeline.config(),
                            RunContext.start("replay-it", null),
                            CommitListener.NONE,
                            null);
            String savepoint;
            try {
                GroundTruth.awaitEqual(job, source, catalog, truth, TIMEOUT);
                // 100 changes v1 refuses
                sql.execute("UPDATE public.items SET status = 'refunded' WHERE id <= 69");
                sql.execute(
                        "INSERT INTO public.items SELECT g, 'refunded', g FROM"
                                + " generate_series(1001, 1030) g");
                sql.execute("UPDATE public.items SET id = 2001, status = 'refunded' WHERE id = 70");
                // and one v2 refuses too
                sql.execute("UPDATE public.items SET status = 'bogus' WHERE id = 500");
                // then changes v1 takes, of some of the same keys: the replay must keep them
                sql.execute("UPDATE public.items SET status = 'paid', n = -id WHERE id <= 10");
                sql.execute("DELETE FROM public.items WHERE id = 20");
                awaitRows(catalog, quarantineId, 101);
                savepoint =
                        job.stopWithSavepoint(
                                        false,
                                        dir.resolve("savepoint").toUri().toString(),
                                        SavepointFormatType.CANONICAL)
                                .get();
            } catch (Throwable e) {
                GroundTruth.cancel(job);
                throw e;
            }
            assertThat(GroundTruth.diff(source, catalog, truth).get(0).isClean())
                    .as("the quarantined changes are not in the table yet")
                    .isFalse();

            // the contract fixed: the pipeline runs under v2 from its savepoint
            pipeline.tableKey(TARGET.toString(), "contract", 2);
            Path file = pipeline.write(dir);
            job =
                    TestJobs.start(
                            pipeline.config(),
                            RunContext.start("replay-it", null),
                            CommitListener.NONE,
                            Path.of(URI.create(savepoint)));
            try {
                CliOutput none = replay(file, "--contract", "2");
                assertThat(none.out())
                        .contains("no quarantined change of")
                        .contains("(contract v2)");
                assertThat(ResnapshotRequests.requested(catalog.loadTable(TARGET)))
                        .as("nothing asked for")
                        .isEqualTo(-1);
                CliOutput replay = replay(file, "--wait", "2m");
                assertThat(replay.out())
                        .contains("read 101 key(s) of")
                        .contains("for 101 quarantined change(s) of every contract version")
                        .contains("101 change(s) marked replayed")
                        .contains("rows contract v2 still refuses are quarantined again");
                // equal to the source but for key 500, whose row v2 refuses too: as a snapshot
                // under v2 would hold it, the table no longer holds its older version
                Awaitility.await("the table equal to the source but for key 500")
                        .atMost(TIMEOUT)
                        .pollInterval(Duration.ofMillis(500))
                        .untilAsserted(
                                () -> {
                                    DiffReport diff =
                                            GroundTruth.diff(source, catalog, truth).get(0);
                                    assertThat(diff.summary())
                                            .contains("missing 1, extra 0, duplicate 0, stale 0");
                                    assertThat(diff.examples().toString()).contains("500");
                                });

                Table target = catalog.loadTable(TARGET);
                String recorded = target.properties().get(QuarantineReplayCommand.PROPERTY);
                long request = ResnapshotRequests.requested(target);
                assertThat(recorded)
                        .startsWith("replay " + request + ": 101 change(s) of 101 key(s)")
                        .endsWith("read again under contract v2");
                List<String> named = new ArrayList<>();
                for (Snapshot snapshot : target.snapshots()) {
                    named.add(snapshot.summary().get(Provenance.RESNAPSHOT));
                }
                assertThat(named).as("the commits holding the re-read").contains("" + request);

                Table quarantine = catalog.loadTable(quarantineId);
                // the re-read's delete of key 500 and its refused row may be in two checkpoints
                Awaitility.await("the change quarantined again")
                        .atMost(TIMEOUT)
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> rows(quarantine).size() == 102);
                List<Record> rows = rows(quarantine);
                List<Record> again =
                        rows.stream()
                                .filter(row -> row.getField(QuarantineTable.REPLAYED_BY) == null)
                                .toList();
                assertThat(again).as("quarantined again by the re-read").hasSize(1);
                assertThat(again.get(0).getField("key")).isEqualTo("[500]");
                assertThat(again.get(0).getField("contract_version")).isEqualTo(2);
                assertThat(rows)
                        .filteredOn(row -> row.getField(QuarantineTable.REPLAYED_BY) != null)
                        .hasSize(101)
                        .allSatisfy(
                                row -> {
                                    assertThat(row.getField(QuarantineTable.REPLAYED_BY))
                                            .isEqualTo(recorded);
                                    assertThat(row.getField(QuarantineTable.REPLAYED_AT))
                                            .isNotNull();
                                });
                assertThat(quarantine.snapshots())
                        .as("the marking commit")
                        .anySatisfy(
                                snapshot ->
                                        assertThat(snapshot.summary())
                                                .containsEntry(QuarantineMarks.SUMMARY, recorded));
                CliOutput counts =
                        CliOutput.run("quarantine", "-c", file.toString(), "-t", "replay.items");
                assertThat(counts.out())
                        .contains(
                                "102 quarantined change(s) {public.items v1=101, public.items"
                                        + " v2=1}, 101 of them replayed");

                // a second replay: only the change v2 refused is left, and it stays refused
                CliOutput second = replay(file);
                assertThat(second.out())
                        .contains("for 1 quarantined change(s) of every contract version")
                        .contains("1 change(s) marked replayed");
                Awaitility.await("the change quarantined a third time")
                        .atMost(TIMEOUT)
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> rows(catalog.loadTable(quarantineId)).size() == 103);
                assertThat(rows(catalog.loadTable(quarantineId)))
                        .filteredOn(row -> row.getField(QuarantineTable.REPLAYED_BY) == null)
                        .singleElement()
                        .satisfies(row -> assertThat(row.getField("key")).isEqualTo("[500]"));
                GroundTruth.assertJobRunning(job);
            } finally {
                GroundTruth.cancel(job);
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /** {@code tidemark quarantine replay} of the target, with {@code more} options; exits 0. */
    private static CliOutput replay(Path file, String... more) {
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "quarantine",
                                "replay",
                                "-c",
                                file.toString(),
                                "-t",
                                "replay.items"));
        args.addAll(List.of(more));
        CliOutput replay = CliOutput.run(args.toArray(String[]::new));
        assertThat(replay.exitCode()).as(replay.out()).isZero();
        return replay;
    }

    private static void contract(Path contracts, int version, String allowed) throws Exception {
        Files.writeString(
                contracts.resolve("public.items/v" + version + ".yaml"),
                """
                table: public.items
                version: %d
                columns:
                  - {name: id, type: long, nullable: false}
                  - {name: status, type: string, nullable: false}
                  - {name: n, type: int}
                primary-key: [id]
                constraints:
                  - {column: status, allowed-values: %s}
                """
                        .formatted(version, allowed));
    }

    private static void awaitRows(Catalog catalog, TableIdentifier id, int count) {
        Awaitility.await(count + " rows in " + id)
                .atMost(TIMEOUT)
                .pollInterval(Duration.ofMillis(500))
                .until(
                        () ->
                                catalog.tableExists(id)
                                        && rows(catalog.loadTable(id)).size() >= count);
    }

    private static List<Record> rows(Table table) throws Exception {
        table.refresh();
        List<Record> rows = new ArrayList<>();
        if (table.currentSnapshot() == null) {
            return rows;
        }
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            records.forEach(record -> rows.add(record.copy()));
        }
        return rows;
    }
}
