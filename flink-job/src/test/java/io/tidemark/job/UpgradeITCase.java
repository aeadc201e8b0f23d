package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.config.PipelineConfig;
import io.tidemark.deploy.FlinkCluster;
import io.tidemark.testbed.ShopWorkload;
import io.tidemark.testing.ClusterJobs;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
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
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A savepoint-based upgrade on a real standalone cluster, the way users do it: version A runs; stop
 * with savepoint while customers keep changing (a load thread runs until B has started); version B
 * (a changed pipeline file: one more table, parallelism 2 to 1, a new run id) starts from it with
 * {@code allowNonRestoredState=false}. The new table is snapshotted and then followed in the log,
 * every table ends equal to the source, the reconciler's state survived (a change older than one
 * applied before the savepoint is still dropped as stale), commits continue the same lineage, and a
 * pipeline file that renames the source (and with it the source operator's uid) is refused.
 */
class UpgradeITCase {

    private static final String PRODUCTS = "public.products";

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    @Test
    void stopWithSavepointThenUpgradeKeepsStateAndRefusesARenamedUid() throws Exception {
        Names names = new Names("upgrade-it", "upgrade_src", "upgrade_slot", "upgrade_it");
        DATABASE.get().createDatabase(names.database());
        // orders by event time: a change older than the applied one is stale, whatever its arrival
        String versionA = versionA(names).text();
        // version B: one more table (in the database all along, not captured by A), parallelism 1
        String versionB = versionB(names).text();
        String renamedSource = versionB(names).asSources("renamed").text();
        Path fileA = write("upgrade-a.yaml", versionA);
        Path fileB = write("upgrade-b.yaml", versionB);
        Path fileRenamed = write("upgrade-renamed.yaml", renamedSource);
        PipelineConfig config = TestPipelines.shop(DATABASE.get(), DATABASE.dir(), names, 2);
        Catalog catalog = TestPipelines.catalog(config);
        TableIdentifier orders = names.targets().get(ShopWorkload.ORDERS);
        Map<String, TableIdentifier> targetsB = new LinkedHashMap<>(names.targets());
        targetsB.put(PRODUCTS, TableIdentifier.of("upgrade_it", "products"));
        try (Connection source = DATABASE.get().connect(names.database());
                Statement sql = source.createStatement();
                FlinkCluster cluster = ClusterJobs.start(DATABASE.dir().resolve("flink"))) {
            new ShopWorkload(source, 41L).createAndSeed(500, 1_000);
            sql.execute(
                    "CREATE TABLE "
                            + PRODUCTS
                            + " (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2))");
            sql.execute(
                    "INSERT INTO "
                            + PRODUCTS
                            + " SELECT g, 'product-' || g, g * 1.25 FROM generate_series(1, 700) g");
            String jar = ClusterJobs.uploadJobJar(cluster);

            // version A
            String jobA = ClusterJobs.run(cluster, jar, fileA, "version-a", null);
            try {
                GroundTruth.awaitEqual(
                        ClusterJobs.running(cluster, jobA),
                        source,
                        catalog,
                        names.targets(),
                        Duration.ofMinutes(3));
                sql.execute(
                        "UPDATE public.orders SET status = 'a-' || id, "
                                + "updated_at = TIMESTAMP '2030-01-01' + id * INTERVAL '1 second' WHERE id <= 200");
                sql.execute("DELETE FROM public.orders WHERE id BETWEEN 901 AND 950");
                sql.execute(
                        "UPDATE public.customers SET email = 'a' || id || '@example.com' WHERE id <= 100");
                // not captured by A: only the snapshot B takes of it can bring these
                sql.execute("UPDATE " + PRODUCTS + " SET price = 0 WHERE id <= 50");
                sql.execute("DELETE FROM " + PRODUCTS + " WHERE id > 650");
                GroundTruth.awaitEqual(
                        ClusterJobs.running(cluster, jobA),
                        source,
                        catalog,
                        names.targets(),
                        Duration.ofMinutes(3));
            } catch (Throwable e) {
                cluster.cancel(jobA);
                throw e;
            }
            // under load: customers keep changing while A stops and until B runs
            CustomerLoad load = new CustomerLoad(DATABASE.get().connect(names.database()));
            load.start();
            Awaitility.await("load running").until(() -> load.statements.get() >= 20);
            long started = System.nanoTime();
            String savepoint =
                    cluster.stopWithSavepoint(
                            jobA, DATABASE.dir().resolve("savepoints"), Duration.ofMinutes(2));
            System.out.printf(
                    "Stop with savepoint took %d ms under load: %s%n",
                    (System.nanoTime() - started) / 1_000_000, savepoint);

            // version B from the savepoint
            String jobB = ClusterJobs.run(cluster, jar, fileB, "version-b", savepoint);
            long during = load.finish();
            assertThat(during).as("statements of the load").isGreaterThan(20);
            Set<String> lineages = new HashSet<>();
            try {
                // older than the 2030 version applied before the savepoint: must stay dropped. In
                // one transaction with newer changes of the table, so the commit that counts it
                // stale holds files (a checkpoint of the table without any commits nothing, and
                // its counts are in the metrics only)
                sql.getConnection().setAutoCommit(false);
                sql.execute(
                        "UPDATE public.orders SET status = 'stale', updated_at = TIMESTAMP '2029-06-01' WHERE id = 7");
                sql.execute(
                        "UPDATE public.orders SET status = 'b-' || id, "
                                + "updated_at = TIMESTAMP '2031-01-01' + id * INTERVAL '1 second' "
                                + "WHERE id BETWEEN 100 AND 300");
                sql.getConnection().commit();
                sql.getConnection().setAutoCommit(true);
                sql.execute("DELETE FROM public.customers WHERE id BETWEEN 401 AND 420");
                // the new table's log changes, during or after its snapshot
                sql.execute(
                        "INSERT INTO "
                                + PRODUCTS
                                + " SELECT g, 'late-' || g, 9.99 FROM generate_series(701, 760) g");
                sql.execute("UPDATE " + PRODUCTS + " SET name = 'b-' || id WHERE id % 7 = 0");
                sql.execute("DELETE FROM " + PRODUCTS + " WHERE id BETWEEN 100 AND 120");
                // parallelism 1 applies the log in order: once 'b-300' is in, the stale one was
                // seen
                Awaitility.await("changes after the stale one committed")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    ClusterJobs.running(cluster, jobB).assertRunning();
                                    return "b-300"
                                            .equals(
                                                    TestJobs.field(
                                                            catalog.loadTable(orders),
                                                            300,
                                                            "status"));
                                });
                assertThat(TestJobs.field(catalog.loadTable(orders), 7, "status"))
                        .as(
                                "order 7 after a change older than the one applied before the savepoint")
                        .isEqualTo("a-7");

                sql.execute(
                        "UPDATE public.orders SET status = 'final', updated_at = TIMESTAMP '2032-01-01' WHERE id = 7");
                GroundTruth.awaitEqual(
                        ClusterJobs.running(cluster, jobB),
                        source,
                        catalog,
                        targetsB,
                        Duration.ofMinutes(3));

                long stale = 0;
                for (Snapshot snapshot : catalog.loadTable(orders).snapshots()) {
                    if ("version-b".equals(snapshot.summary().get(Provenance.RUN_ID))) {
                        stale += Long.parseLong(snapshot.summary().get(Provenance.ROWS_STALE));
                    }
                }
                assertThat(stale).as("stale changes counted by version B").isPositive();
                for (TableIdentifier target : targetsB.values()) {
                    lineages.addAll(
                            CommitHistory.assertEachCheckpointOnce(
                                    catalog.loadTable(target), names.pipelineId()));
                }
                // B continued A's lineage (the new table too): restored, not started over
                assertThat(lineages).hasSize(1);
                assertThat(catalog.loadTable(orders).currentSnapshot().summary())
                        .containsEntry(Provenance.RUN_ID, "version-b");

                // a build whose source operator has another uid cannot take the savepoint
                assertThatThrownBy(
                                () ->
                                        ClusterJobs.run(
                                                cluster, jar, fileRenamed, "renamed", savepoint))
                        .hasMessageContaining("Cannot map checkpoint/savepoint state for operator");
            } catch (Throwable e) {
                ClusterJobs.cancel(cluster, jobB);
                DATABASE.get().dropSlot(names.database(), names.slot());
                throw e;
            }

            // roll back: stop B, start version A again from the savepoint taken before the upgrade
            String savepointB =
                    cluster.stopWithSavepoint(
                            jobB, DATABASE.dir().resolve("savepoints"), Duration.ofMinutes(2));
            assertThat(savepointB).isNotEqualTo(savepoint);
            String rollback = ClusterJobs.run(cluster, jar, fileA, "rollback", savepoint);
            try {
                sql.execute(
                        "UPDATE public.orders SET status = 'rolled-back', "
                                + "updated_at = TIMESTAMP '2033-01-01' WHERE id BETWEEN 1 AND 40");
                sql.execute("DELETE FROM public.customers WHERE id BETWEEN 421 AND 430");
                // B's commits stay; A's commits after the rollback must not be mistaken for them
                GroundTruth.awaitEqual(
                        ClusterJobs.running(cluster, rollback),
                        source,
                        catalog,
                        names.targets(),
                        Duration.ofMinutes(3));
                for (TableIdentifier target : names.targets().values()) {
                    Table table = catalog.loadTable(target);
                    Set<String> lineagesAfterRollback =
                            CommitHistory.assertEachCheckpointOnce(table, names.pipelineId());
                    assertThat(lineagesAfterRollback)
                            .as("%s: the rollback continues in a lineage of its own", target)
                            .hasSize(2)
                            .containsAll(lineages);
                    assertThat(table.currentSnapshot().summary())
                            .containsEntry(Provenance.RUN_ID, "rollback")
                            .hasEntrySatisfying(
                                    Provenance.LINEAGE, l -> assertThat(l).startsWith("rollback."));
                }
            } finally {
                ClusterJobs.cancel(cluster, rollback);
                DATABASE.get().dropSlot(names.database(), names.slot());
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /** Updates and inserts customers in a loop on its own connection until stopped. */
    private static final class CustomerLoad extends Thread {
        final AtomicLong statements = new AtomicLong();
        private final Connection connection;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private volatile Exception failure;

        CustomerLoad(Connection connection) {
            super("customer-load");
            setDaemon(true);
            this.connection = connection;
        }

        @Override
        public void run() {
            try (Connection c = connection;
                    Statement sql = c.createStatement()) {
                long n = 0;
                while (running.get()) {
                    n++;
                    sql.execute(
                            "UPDATE public.customers SET email = 'load-"
                                    + n
                                    + "-' || id || '@example.com' WHERE id % 50 = "
                                    + (n % 50));
                    sql.execute(
                            "INSERT INTO public.customers (id, name, email, vip, created_at)"
                                    + " VALUES ("
                                    + (100_000 + n)
                                    + ", 'load', NULL, false, now())");
                    statements.addAndGet(2);
                }
            } catch (Exception e) {
                failure = e;
            }
        }

        /** Stops the loop; the statements it ran. */
        long finish() throws Exception {
            running.set(false);
            join(60_000);
            if (failure != null) {
                throw failure;
            }
            return statements.get();
        }
    }

    private static Path write(String name, String content) throws Exception {
        Path file = DATABASE.dir().resolve(name);
        Files.writeString(file, content);
        return file;
    }

    /** Orders by event time: a change older than the applied one is stale, whatever its arrival. */
    private static PipelineYaml versionA(Names names) {
        return TestPipelines.shopPipeline(DATABASE.get(), DATABASE.dir(), names, 2)
                .tableKey("upgrade_it.orders", "ordering", "event-time:updated_at");
    }

    private static PipelineYaml versionB(Names names) {
        return versionA(names)
                .set("pipeline.parallelism", 1)
                .table(PRODUCTS, "upgrade_it.products");
    }
}
