package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.SavepointFixtures;
import io.tidemark.testing.SavepointFixtures.Fixture;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.TestPipelines.Names;
import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Savepoints of earlier releases restore in this build. Each release keeps one fixture under {@code
 * src/test/resources/savepoint-compat/<version>.zip}: a savepoint of the shop pipeline together
 * with everything it needs (the PostgreSQL data directory with the source database, its replication
 * slot and write-ahead log, and the Iceberg catalog database; the warehouse), taken while changes
 * the savepoint has not seen wait in the slot.
 *
 * <p>Every build restores every fixture with {@code allowNonRestoredState=false} and at another
 * parallelism: the waiting changes arrive, the reconciler's state survived (a change older than one
 * applied before the savepoint is dropped as stale), the tables end equal to the source, and the
 * commits continue the fixture's lineage, each checkpoint once.
 *
 * <p>Writing this release's fixture: {@code ./mvnw -B -ntp verify -pl flink-job -am
 * -Dit.test=SavepointCompatibilityITCase -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
 * -Dtidemark.savepoint-fixture.write=true}, then commit the zip.
 */
class SavepointCompatibilityITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    private static final Names NAMES = new Names("compat", "compat_src", "compat_slot", "compat");
    private static final String CATALOG_DATABASE = "iceberg_catalog";

    /** Written before the savepoint and applied: every later change of order 7 must be newer. */
    private static final String ORDER_7_BEFORE_SAVEPOINT = "a-7";

    @TempDir Path temp;

    static List<Path> fixtures() throws Exception {
        List<Path> fixtures = SavepointFixtures.list();
        assertThat(fixtures)
                .as("savepoint fixtures under %s", SavepointFixtures.SOURCES)
                .isNotEmpty();
        return fixtures;
    }

    @ParameterizedTest(name = "savepoint of {0}")
    @MethodSource("fixtures")
    void restoresTheSavepointOfAnEarlierRelease(Path zip) throws Exception {
        Fixture fixture = SavepointFixtures.unpack(zip);
        try (EmbeddedDatabase database = EmbeddedDatabase.reopen(fixture.postgres())) {
            // parallelism 1 (the fixture ran at 2): rescaled, and the log is applied in order
            PipelineConfig config = pipeline(database, fixture.warehouse(), 1);
            Catalog catalog = TestPipelines.catalog(config);
            String run = "restore-of-" + fixture.version();
            try (Connection source = database.connect(NAMES.database());
                    Statement sql = source.createStatement()) {
                JobClient job =
                        TestJobs.start(
                                config,
                                RunContext.start(NAMES.pipelineId(), run),
                                CommitListener.NONE,
                                fixture.savepoint());
                try {
                    TableIdentifier orders = NAMES.targets().get(ShopWorkload.ORDERS);
                    sql.execute(
                            "UPDATE public.orders SET status = 'stale', "
                                    + "updated_at = TIMESTAMP '2029-06-01' WHERE id = 7");
                    sql.execute(
                            "UPDATE public.orders SET status = 'restored-' || id, "
                                    + "updated_at = TIMESTAMP '2031-01-01' + id * INTERVAL '1 second' "
                                    + "WHERE id BETWEEN 300 AND 320");
                    Awaitility.await("changes after the stale one committed")
                            .atMost(Duration.ofMinutes(2))
                            .until(
                                    () -> {
                                        GroundTruth.assertJobRunning(job);
                                        return "restored-320"
                                                .equals(
                                                        TestJobs.field(
                                                                catalog.loadTable(orders),
                                                                320,
                                                                "status"));
                                    });
                    assertThat(TestJobs.field(catalog.loadTable(orders), 7, "status"))
                            .as("order 7 after a change older than the one in the savepoint")
                            .isEqualTo(ORDER_7_BEFORE_SAVEPOINT);

                    sql.execute(
                            "UPDATE public.orders SET status = 'final', "
                                    + "updated_at = TIMESTAMP '2032-01-01' WHERE id = 7");
                    sql.execute("DELETE FROM public.customers WHERE id BETWEEN 211 AND 215");
                    // also brings the changes the fixture left waiting in the slot
                    GroundTruth.awaitEqual(
                            job, source, catalog, NAMES.targets(), Duration.ofMinutes(3));

                    long stale = 0;
                    for (Snapshot snapshot : catalog.loadTable(orders).snapshots()) {
                        if (run.equals(snapshot.summary().get(Provenance.RUN_ID))) {
                            stale += Long.parseLong(snapshot.summary().get(Provenance.ROWS_STALE));
                        }
                    }
                    assertThat(stale).as("stale changes counted after the restore").isPositive();
                    Set<String> lineages = new HashSet<>();
                    for (TableIdentifier target : NAMES.targets().values()) {
                        lineages.addAll(
                                CommitHistory.assertEachCheckpointOnce(
                                        catalog.loadTable(target), NAMES.pipelineId()));
                        assertThat(catalog.loadTable(target).currentSnapshot().summary())
                                .containsEntry(Provenance.RUN_ID, run);
                    }
                    assertThat(lineages)
                            .as("restored, not started over")
                            .containsExactly(fixture.lineage());
                } finally {
                    GroundTruth.cancel(job);
                }
            } finally {
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
    }

    /**
     * Writes this release's fixture: the shop pipeline runs at parallelism 2 until equal, applies
     * newer versions of orders (order 7 among them), deletes and updates, stops with a savepoint,
     * and then the source changes while nothing runs.
     */
    @Test
    @EnabledIfSystemProperty(named = "tidemark.savepoint-fixture.write", matches = "true")
    void writeTheFixtureOfThisRelease() throws Exception {
        String version = SavepointFixtures.releaseVersion();
        Path root = SavepointFixtures.workDir(version);
        SavepointFixtures.delete(root);
        Path warehouse = root.resolve("warehouse");
        String lineage;
        String savepoint;
        // reopen, not start: a fresh server's data directory is deleted when it stops
        try (EmbeddedDatabase database = EmbeddedDatabase.reopen(root.resolve("postgres"))) {
            database.createDatabase(CATALOG_DATABASE);
            database.createDatabase(NAMES.database());
            PipelineConfig config = pipeline(database, warehouse, 2);
            Catalog catalog = TestPipelines.catalog(config);
            try (Connection source = database.connect(NAMES.database());
                    Statement sql = source.createStatement()) {
                new ShopWorkload(source, 43L).createAndSeed(300, 600);
                JobClient job =
                        TestJobs.start(
                                config,
                                RunContext.start(NAMES.pipelineId(), "fixture-" + version),
                                CommitListener.NONE,
                                null);
                try {
                    GroundTruth.awaitEqual(
                            job, source, catalog, NAMES.targets(), Duration.ofMinutes(3));
                    sql.execute(
                            "UPDATE public.orders SET status = 'a-' || id, "
                                    + "updated_at = TIMESTAMP '2030-01-01' + id * INTERVAL '1 second' "
                                    + "WHERE id <= 100");
                    sql.execute("DELETE FROM public.orders WHERE id BETWEEN 501 AND 520");
                    sql.execute(
                            "UPDATE public.customers SET email = 'a' || id || '@example.com' "
                                    + "WHERE id <= 50");
                    GroundTruth.awaitEqual(
                            job, source, catalog, NAMES.targets(), Duration.ofMinutes(3));
                    savepoint =
                            job.stopWithSavepoint(
                                            false,
                                            root.resolve("savepoint")
                                                    .toAbsolutePath()
                                                    .toUri()
                                                    .toString(),
                                            SavepointFormatType.CANONICAL)
                                    .get();
                } catch (Throwable e) {
                    GroundTruth.cancel(job);
                    throw e;
                }
                // waiting in the slot for the restored job; minutes, not months, after the 2030
                // versions: the watermark they raise must not pass the reconciler's retention of
                // order 7's state (1 h) before the restored job sees the stale change for it
                sql.execute(
                        "UPDATE public.orders SET status = 'after-' || id, "
                                + "updated_at = TIMESTAMP '2030-01-01 00:10:00' + id * INTERVAL '1 second' "
                                + "WHERE id BETWEEN 50 AND 150 AND id <> 7");
                sql.execute("DELETE FROM public.customers WHERE id BETWEEN 201 AND 210");
                lineage =
                        catalog.loadTable(NAMES.targets().get(ShopWorkload.ORDERS))
                                .currentSnapshot()
                                .summary()
                                .get(Provenance.LINEAGE);
            } finally {
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
        Path zip =
                SavepointFixtures.pack(
                        version,
                        root,
                        root.toAbsolutePath().relativize(Path.of(java.net.URI.create(savepoint))),
                        lineage);
        System.out.printf("Savepoint fixture of %s written: %s%n", version, zip.toAbsolutePath());
    }

    /** The shop pipeline with the warehouse at the fixture's path relative to the working dir. */
    private PipelineConfig pipeline(EmbeddedDatabase database, Path warehouse, int parallelism)
            throws Exception {
        Path dir = Files.createTempDirectory(temp, "run-");
        return TestPipelines.shopPipeline(database, dir, NAMES, parallelism)
                .set("catalog.properties.warehouse", warehouse.toString())
                .tableKey("compat.orders", "ordering", "event-time:updated_at")
                .config();
    }
}
