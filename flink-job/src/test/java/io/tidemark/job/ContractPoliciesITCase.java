package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.testing.CollectingReporter;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A contract's policies while the job runs, on a real PostgreSQL source.
 *
 * <p>Schema drift: a column added in the source ({@code ALTER TABLE ... ADD COLUMN}) under the
 * schema-evolution policy: {@code quarantine} sends every change of the new shape to the quarantine
 * table and keeps running; {@code fail} stops the job for good (despite a restart strategy that
 * would retry) with a message naming the column, the table and the contract version; {@code evolve}
 * adds the new columns to the Iceberg table and widens a column the source widened, without a
 * restart, and the table then equals the source in every column.
 *
 * <p>Data-quality checks, evaluated per checkpoint: a quarantine ratio above its maximum fails the
 * run with the check, the observed value and the threshold in the message under mode {@code fail};
 * under {@code warn} the job continues and the failed check is counted (metric {@code
 * checksFailed}, mirrored in the accumulator {@code checks-failed.<table>}).
 */
class ContractPoliciesITCase {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniClusterWithMetrics();

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    /** One transaction of 300 inserts, 200 of them breaking the name pattern. */
    private static final String MOSTLY_BAD =
            "INSERT INTO public.items SELECT g, CASE WHEN g % 3 = 0 THEN 'ok-' || g"
                    + " ELSE 'BAD ' || g END FROM generate_series(5001, 5300) g";

    @Test
    void quarantinePolicyQuarantinesTheNewShapeAndKeepsRunning() throws Exception {
        scenario(
                "drift_q",
                "quarantine",
                "",
                (fixture, job, source, sql) -> {
                    sql.execute("ALTER TABLE public.items ADD COLUMN discount integer");
                    sql.execute(
                            "INSERT INTO public.items SELECT g, 'new-' || g, g % 10 FROM generate_series(1001, 1020) g");
                    sql.execute("UPDATE public.items SET name = 'after-drift' WHERE id <= 10");
                    sql.execute("DELETE FROM public.items WHERE id BETWEEN 11 AND 15");
                    Awaitility.await("30 changes of the new shape quarantined")
                            .atMost(Duration.ofMinutes(2))
                            .until(
                                    () -> {
                                        GroundTruth.assertJobRunning(job);
                                        return quarantined(fixture.catalog, fixture.quarantine)
                                                        .size()
                                                >= 30;
                                    });
                    Map<String, String> reasons = quarantined(fixture.catalog, fixture.quarantine);
                    assertThat(reasons).hasSize(30).containsValue("UNKNOWN_COLUMN");
                    assertThat(reasons.values()).containsOnly("UNKNOWN_COLUMN");
                    // deletes are checked by their key and applied; new-shape rows are not written
                    sql.execute(
                            "CREATE VIEW public.items_before_drift AS SELECT id, name FROM ("
                                    + "SELECT id, CASE WHEN id <= 10 THEN 'name-' || id ELSE name END AS name"
                                    + " FROM public.items WHERE id <= 1000) v");
                    GroundTruth.awaitEqual(
                            job,
                            source,
                            fixture.catalog,
                            Map.of("public.items_before_drift", fixture.target),
                            Duration.ofMinutes(2));
                });
    }

    @Test
    void evolvePolicyAddsAndWidensColumnsWhileRunningAndTheRowsMatchTheSource() throws Exception {
        scenario(
                "drift_e",
                "evolve",
                "",
                (fixture, job, source, sql) -> {
                    sql.execute("ALTER TABLE public.items ADD COLUMN discount integer");
                    sql.execute("ALTER TABLE public.items ADD COLUMN added_at timestamptz");
                    sql.execute(
                            "INSERT INTO public.items SELECT g, 'new-' || g, g % 10,"
                                    + " timestamptz '2030-01-01 00:00:00+00' + g * interval '1 second'"
                                    + " FROM generate_series(1001, 1020) g");
                    sql.execute("UPDATE public.items SET discount = 7 WHERE id <= 10");
                    sql.execute("DELETE FROM public.items WHERE id BETWEEN 11 AND 15");
                    // widened in the source: a value only a bigint holds
                    sql.execute("ALTER TABLE public.items ALTER COLUMN discount TYPE bigint");
                    sql.execute("UPDATE public.items SET discount = 5000000000 WHERE id = 1001");
                    sql.execute("UPDATE public.items SET name = 'after-widening' WHERE id = 1002");
                    Awaitility.await("the target evolved")
                            .atMost(Duration.ofMinutes(2))
                            .until(
                                    () -> {
                                        GroundTruth.assertJobRunning(job);
                                        Table table = fixture.catalog.loadTable(fixture.target);
                                        return table.schema().findField("discount") != null
                                                && table.schema()
                                                        .findField("discount")
                                                        .type()
                                                        .equals(Types.LongType.get());
                                    });
                    Table table = fixture.catalog.loadTable(fixture.target);
                    assertThat(table.schema().findField("added_at").type())
                            .isEqualTo(Types.TimestampType.withZone());
                    assertThat(table.schema().findField("added_at").isOptional()).isTrue();
                    // every column of the source, with every value, and nothing quarantined
                    GroundTruth.awaitEqual(
                            job, source, fixture.catalog, fixture.truth(), Duration.ofMinutes(2));
                    assertThat(quarantined(fixture.catalog, fixture.quarantine)).isEmpty();
                    // accumulators of a running job reach the client with the TaskManager's
                    // heartbeats
                    Awaitility.await("schema changes applied (metric): 2 columns added, 1 widened")
                            .atMost(Duration.ofMinutes(1))
                            .until(
                                    () ->
                                            Long.valueOf(3L)
                                                    .equals(
                                                            job.getAccumulators()
                                                                    .get()
                                                                    .get(
                                                                            "schema-changes-applied.public.items")));
                    assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                            .as("no restart")
                            .isEmpty();
                });
    }

    @Test
    void failPolicyStopsTheJobNamingColumnTableAndContract() throws Exception {
        scenario(
                "drift_f",
                "fail",
                "",
                (fixture, job, source, sql) -> {
                    sql.execute("ALTER TABLE public.items ADD COLUMN discount integer");
                    sql.execute("INSERT INTO public.items VALUES (2001, 'drifted', 5)");
                    assertThatThrownBy(() -> job.getJobExecutionResult().get())
                            .hasStackTraceContaining(
                                    "schema drift: table public.items has column 'discount', which contract"
                                            + " public.items v1 does not declare (schema-evolution: fail)");
                    assertThat(job.getJobStatus().get().name()).isEqualTo("FAILED");
                    assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                            .as("no restart after the drift")
                            .hasSize(1);
                });
    }

    @Test
    void failingQualityCheckInFailModeFailsTheRun() throws Exception {
        scenario(
                "dq_fail",
                "quarantine",
                "checks:\n  - {check: quarantine-ratio, max: 0.1, window: 3, mode: fail}\n",
                (fixture, job, source, sql) -> {
                    // one transaction: 200 of 300 changes break the pattern
                    sql.execute(MOSTLY_BAD);
                    assertThatThrownBy(() -> job.getJobExecutionResult().get())
                            .hasStackTraceContaining(
                                    "data-quality check quarantine-ratio of table public.items"
                                            + " (contract public.items v1) failed at checkpoint")
                            .hasStackTraceContaining("threshold 0.100")
                            .hasStackTraceContaining("observed 0.");
                    assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                            .as("no restart after the failed check")
                            .hasSize(1);
                });
    }

    @Test
    void failingQualityCheckInWarnModeIsCountedAndTheRunContinues() throws Exception {
        scenario(
                "dq_warn",
                "quarantine",
                "checks:\n  - {check: quarantine-ratio, max: 0.1, window: 3, mode: warn}\n",
                (fixture, job, source, sql) -> {
                    sql.execute(MOSTLY_BAD);
                    sql.execute(
                            "CREATE VIEW public.items_valid AS SELECT * FROM public.items"
                                    + " WHERE name NOT LIKE 'BAD %'");
                    GroundTruth.awaitEqual(
                            job,
                            source,
                            fixture.catalog,
                            Map.of("public.items_valid", fixture.target),
                            Duration.ofMinutes(2));
                    Awaitility.await("the failed check counted")
                            .atMost(Duration.ofMinutes(1))
                            .until(
                                    () -> {
                                        GroundTruth.assertJobRunning(job);
                                        Object failed =
                                                job.getAccumulators()
                                                        .get()
                                                        .get("checks-failed.public.items");
                                        return failed instanceof Long count && count > 0;
                                    });
                    assertThat(job.getJobStatus().get().name()).isEqualTo("RUNNING");
                    // table, reason and check are labels, not parts of the metric's name
                    String gate = "taskmanager_job_task_operator_tidemark_gate_table_";
                    Map<String, String> table = Map.of("<table>", "public.items");
                    assertLabelled(gate + "quarantined", table);
                    assertLabelled(
                            gate + "reason_quarantined",
                            Map.of("<table>", "public.items", "<reason>", "PATTERN_MISMATCH"));
                    assertLabelled(
                            gate + "check_value",
                            Map.of("<table>", "public.items", "<check>", "quarantine-ratio"));
                    // how far the source's log is ahead of what the pipeline confirmed, per source
                    assertLabelled(
                            "taskmanager_job_task_operator_tidemark_source_logBytesBehind",
                            Map.of("<source>", fixture.config.source().id()));
                    assertThat(CollectingReporter.names())
                            .noneMatch(n -> n.contains("PATTERN_MISMATCH"))
                            .noneMatch(n -> n.contains("public.items"));
                    // the alert rules and the dashboard shipped in deploy/ name metrics a running
                    // job registers (Prometheus prefixes them with flink_)
                    for (String shipped :
                            List.of(
                                    "../deploy/monitoring/tidemark-alerts.yaml",
                                    "../deploy/monitoring/tidemark-dashboard.json")) {
                        java.util.regex.Matcher names =
                                java.util.regex.Pattern.compile("flink_([A-Za-z0-9_]+)")
                                        .matcher(Files.readString(Path.of(shipped)));
                        java.util.Set<String> named = new java.util.TreeSet<>();
                        while (names.find()) {
                            named.add(names.group(1));
                        }
                        assertThat(named).as(shipped).hasSizeGreaterThan(5);
                        assertThat(CollectingReporter.names()).as(shipped).containsAll(named);
                    }
                });
    }

    /** Asserts metric {@code name} was registered with (at least) {@code labels}. */
    private static void assertLabelled(String name, Map<String, String> labels) {
        assertThat(CollectingReporter.labels(name))
                .as(
                        "%s among %s",
                        name,
                        CollectingReporter.names().stream()
                                .filter(n -> n.contains("tidemark"))
                                .sorted()
                                .toList())
                .anySatisfy(registered -> assertThat(registered).containsAllEntriesOf(labels));
    }

    /** What a test does once the job runs and the table equals the source. */
    private interface Scenario {
        void run(Fixture fixture, JobClient job, Connection source, Statement sql) throws Exception;
    }

    /** Database {@code table} under a contract with {@code policy} and {@code checks}: runs it. */
    private static void scenario(String table, String policy, String checks, Scenario scenario)
            throws Exception {
        Fixture fixture = fixture(table, policy, checks);
        try (Connection source = DATABASE.get().connect(table);
                Statement sql = source.createStatement()) {
            JobClient job =
                    TestJobs.start(
                            fixture.config,
                            RunContext.start(fixture.config.pipelineId(), table),
                            CommitListener.NONE,
                            null);
            try {
                GroundTruth.awaitEqual(
                        job, source, fixture.catalog, fixture.truth(), Duration.ofMinutes(2));
                scenario.run(fixture, job, source, sql);
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot(table, table + "_slot");
                fixture.close();
            }
        }
    }

    private record Fixture(
            PipelineConfig config,
            Catalog catalog,
            TableIdentifier target,
            TableIdentifier quarantine)
            implements Closeable {

        Map<String, TableIdentifier> truth() {
            return Map.of("public.items", target);
        }

        @Override
        public void close() {
            if (catalog instanceof Closeable closeable) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** Database {@code name} with 1,000 items, its contract v1 and pipeline file. */
    private static Fixture fixture(String name, String policy, String checks) throws Exception {
        DATABASE.get().createDatabase(name);
        try (Connection source = DATABASE.get().connect(name);
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE public.items (id bigint PRIMARY KEY, name text NOT NULL)");
            sql.execute("ALTER TABLE public.items REPLICA IDENTITY FULL");
            sql.execute(
                    "INSERT INTO public.items SELECT g, 'name-' || g FROM generate_series(1, 1000) g");
        }
        Path dir = DATABASE.dir().resolve(name);
        Path contracts = dir.resolve("contracts");
        Files.createDirectories(contracts.resolve("public.items"));
        Files.writeString(
                contracts.resolve("public.items/v1.yaml"),
                """
                table: public.items
                version: 1
                columns:
                  - {name: id, type: long, nullable: false}
                  - {name: name, type: string, nullable: false}
                primary-key: [id]
                schema-evolution: %s
                constraints:
                  - {column: name, pattern: '[a-z0-9-]+'}
                %s"""
                        .formatted(policy, checks));
        PipelineConfig config =
                PipelineYaml.postgres(DATABASE.get(), name, dir, name)
                        .set("checkpoint.dir", dir.resolve("checkpoints").toUri().toString())
                        .set("source.slot.name", name + "_slot")
                        .set("contracts.dir", contracts.toString())
                        .table("public.items", name + ".items", "contract", 1)
                        .config();
        TableIdentifier target = TableIdentifier.of(name, "items");
        return new Fixture(
                config, TestPipelines.catalog(config), target, QuarantineTable.of(target));
    }

    /** The quarantine table's rows: key to reasons (a key quarantined twice shows once). */
    private static Map<String, String> quarantined(Catalog catalog, TableIdentifier id)
            throws Exception {
        Map<String, String> rows = new TreeMap<>();
        if (!catalog.tableExists(id)) {
            return rows;
        }
        Table table = catalog.loadTable(id);
        if (table.currentSnapshot() == null) {
            return rows;
        }
        long count = 0;
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                count++;
                rows.put(
                        record.getField("key") + "/" + count,
                        String.valueOf(record.getField("reasons")));
            }
        }
        return rows;
    }
}
