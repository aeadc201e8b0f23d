package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.decode.BinlogOrder;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.LiveTables;
import io.tidemark.source.MySqlSchemaReader;
import io.tidemark.source.TableDiscovery;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testing.CliOutput;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole-database capture from MariaDB (the MySQL binlog source): one pattern, {@code erp.*},
 * captures five tables of assorted MySQL types (unsigned integers, bit(1), enum, json, year,
 * datetime(3), timestamp(6), varbinary, a composite key), each into an Iceberg table created from
 * its source schema. A sixth table created while the job runs is not half-captured: the running job
 * does not read it at all, and after a stop with savepoint and a restart the pattern matches it,
 * its rows are snapshotted and followed, while the five keep their state (one lineage each). Every
 * table ends equal to the source.
 */
class WholeDatabaseITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @TempDir static Path dir;

    private static EmbeddedDatabase catalogDatabase;
    private static EmbeddedMariaDb mariadb;

    private static final String[] TABLES = {"accounts", "events", "items", "ledger", "memberships"};

    @BeforeAll
    static void start() throws Exception {
        catalogDatabase = EmbeddedDatabase.start(dir.resolve("postgres"));
        catalogDatabase.createDatabase("iceberg_catalog");
        mariadb = EmbeddedMariaDb.start(dir.resolve("mariadb"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (mariadb != null) {
            mariadb.close();
        }
        if (catalogDatabase != null) {
            catalogDatabase.close();
        }
    }

    static PipelineYaml pipeline(String database, String pattern) {
        return pipeline(database, pattern, "ignore");
    }

    static PipelineYaml pipeline(String database, String pattern, String newTables) {
        return pipeline(database, pattern, newTables, null);
    }

    /** {@code schemaEvolution}: the pattern's, or null for the default. */
    static PipelineYaml pipeline(
            String database, String pattern, String newTables, String schemaEvolution) {
        PipelineYaml yaml =
                PipelineYaml.mariaDb(mariadb, database, catalogDatabase, dir, "whole-" + database)
                        .set("pipeline.parallelism", 2)
                        .set(
                                "checkpoint.dir",
                                dir.resolve("checkpoints-" + database).toUri().toString())
                        .set("source.scan.incremental.snapshot.chunk.size", 200);
        String target = "lake_" + database + ".*";
        return schemaEvolution == null
                ? yaml.table(pattern, target, "new-tables", newTables)
                : yaml.table(
                        pattern,
                        target,
                        "new-tables",
                        newTables,
                        "schema-evolution",
                        schemaEvolution);
    }

    @Test
    void capturesEveryTableOfAPatternAndANewTableAfterARestart() throws Exception {
        mariadb.createDatabase("erp");
        try (Connection sql = mariadb.connect("erp");
                Statement s = sql.createStatement()) {
            s.execute(
                    "CREATE TABLE accounts (id int unsigned PRIMARY KEY, name varchar(50) NOT NULL, "
                            + "active bit(1) NOT NULL, balance decimal(14,4), opened date)");
            s.execute(
                    "CREATE TABLE ledger (id bigint unsigned PRIMARY KEY, account_id int NOT NULL, "
                            + "amount decimal(12,2) NOT NULL, posted_at datetime(3) NOT NULL, note text)");
            s.execute(
                    "CREATE TABLE items (sku varchar(20) PRIMARY KEY, title varchar(100) NOT NULL, "
                            + "kind enum('tool','part','kit') NOT NULL, attrs json, weight double)");
            s.execute(
                    "CREATE TABLE events (id bigint PRIMARY KEY, happened_at timestamp(6) NOT NULL, "
                            + "yr year, took time, payload varbinary(64))");
            s.execute(
                    "CREATE TABLE memberships (tenant_id int NOT NULL, user_id int NOT NULL, "
                            + "role varchar(20) NOT NULL, updated_at datetime(6) NOT NULL, "
                            + "PRIMARY KEY (tenant_id, user_id))");
            seed(s, 1, 600);
        }
        PipelineConfig file = pipeline("erp", "erp.*").config();
        PipelineConfig config = TableDiscovery.resolve(file);
        assertThat(config.tables())
                .extracting(PipelineConfig.TableConfig::source)
                .containsExactly(
                        "erp.accounts", "erp.events", "erp.items", "erp.ledger", "erp.memberships");
        assertThat(config.tables().get(0).target()).isEqualTo("lake_erp.accounts");
        // exclude: a table by name and others by pattern leave the pattern (issue 23)
        PipelineConfig excluding =
                TableDiscovery.resolve(
                        pipeline("erp", "erp.*")
                                .tableKey("lake_erp.*", "exclude", List.of("ledger", "erp.mem*"))
                                .config());
        assertThat(excluding.tables())
                .extracting(PipelineConfig.TableConfig::source)
                .containsExactly("erp.accounts", "erp.events", "erp.items");

        Map<String, TableIdentifier> targets = new LinkedHashMap<>();
        for (String table : TABLES) {
            targets.put("erp." + table, TableIdentifier.of("lake_erp", table));
        }
        RunContext run = RunContext.start(config.pipelineId(), null);
        Catalog catalog = TestPipelines.catalog(config);
        try (Connection writer = mariadb.connect("erp");
                Statement s = writer.createStatement();
                Connection verifier = mariadb.connect("erp")) {
            JobClient job = TestJobs.start(config, run, CommitListener.NONE, null);
            String savepoint;
            try {
                // during the snapshot and after it
                churn(s, 1);
                GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                churn(s, 2);

                // created while the job runs: not captured by this job, not even in part
                s.execute(
                        "CREATE TABLE refunds (id bigint PRIMARY KEY, ledger_id bigint NOT NULL, "
                                + "amount decimal(12,2) NOT NULL)");
                s.execute(
                        "INSERT INTO refunds SELECT id - 18000000000000000000, id - 18000000000000000000, "
                                + "amount / 2 FROM ledger WHERE id % 10 = 0");
                churn(s, 3);
                GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                assertThat(catalog.tableExists(TableIdentifier.of("lake_erp", "refunds")))
                        .isFalse();
                savepoint =
                        job.stopWithSavepoint(
                                        false,
                                        dir.resolve("savepoints").toUri().toString(),
                                        SavepointFormatType.CANONICAL)
                                .get();
            } catch (Throwable e) {
                GroundTruth.cancel(job);
                throw e;
            }

            // while stopped, then restarted: the pattern now matches the new table as well
            s.execute("UPDATE refunds SET amount = amount + 1 WHERE id % 20 = 0");
            churn(s, 4);
            PipelineConfig again = TableDiscovery.resolve(file);
            assertThat(again.tables()).hasSize(6);
            targets.put("erp.refunds", TableIdentifier.of("lake_erp", "refunds"));
            JobClient restarted =
                    TestJobs.start(
                            again,
                            run,
                            CommitListener.NONE,
                            Path.of(java.net.URI.create(savepoint)));
            try {
                s.execute("INSERT INTO refunds VALUES (100001, 5, 1.25)");
                s.execute("DELETE FROM refunds WHERE id = 10");
                churn(s, 5);
                GroundTruth.awaitEqual(
                        restarted, verifier, catalog, targets, Duration.ofMinutes(3));
            } finally {
                GroundTruth.cancel(restarted);
            }
            for (String table : TABLES) {
                // the five kept their state across the restart: one lineage, no commit twice
                assertThat(
                                CommitHistory.assertEachCheckpointOnce(
                                        catalog.loadTable(TableIdentifier.of("lake_erp", table)),
                                        config.pipelineId()))
                        .hasSize(1);
            }
            assertThat(
                            catalog.loadTable(TableIdentifier.of("lake_erp", "ledger"))
                                    .schema()
                                    .findField("id")
                                    .type()
                                    .toString())
                    .isEqualTo("decimal(20, 0)");
            assertThat(
                            catalog.loadTable(TableIdentifier.of("lake_erp", "memberships"))
                                    .schema()
                                    .identifierFieldNames())
                    .containsExactlyInAnyOrder("tenant_id", "user_id");

            // tidemark provenance of the pattern pipeline: every table it made, from the catalog
            Path pipelineFile = dir.resolve("erp.yaml");
            java.nio.file.Files.writeString(pipelineFile, pipeline("erp", "erp.*").text());
            CliOutput provenance =
                    CliOutput.run("provenance", "-c", pipelineFile.toString(), "-n", "1");
            assertThat(provenance.exitCode()).as(provenance.out()).isZero();
            assertThat(provenance.out())
                    .contains("lake_erp.accounts: last 1 Tidemark commit(s)")
                    .contains("lake_erp.refunds: last 1 Tidemark commit(s)")
                    .contains("of pipeline whole-erp")
                    .doesNotContain("lake_erp.*")
                    .doesNotContain("__quarantine");
            assertThat(
                            CliOutput.run(
                                            "provenance",
                                            "-c",
                                            pipelineFile.toString(),
                                            "-t",
                                            "lake_erp.ledger")
                                    .exitCode())
                    .isZero();
            // both as JSON documents: every table of the pattern equal, each commit's provenance
            com.fasterxml.jackson.databind.ObjectMapper json =
                    new com.fasterxml.jackson.databind.ObjectMapper();
            CliOutput verified =
                    CliOutput.run("verify", "-c", pipelineFile.toString(), "--output", "json");
            assertThat(verified.exitCode()).as(verified.out()).isZero();
            com.fasterxml.jackson.databind.JsonNode report = json.readTree(verified.json());
            assertThat(report.path("exitCode").asInt()).isZero();
            assertThat(report.path("tables")).hasSize(6);
            for (com.fasterxml.jackson.databind.JsonNode table : report.path("tables")) {
                assertThat(table.path("outcome").asText()).as(table.toString()).isEqualTo("EQUAL");
                assertThat(table.path("missing").asLong() + table.path("stale").asLong()).isZero();
            }
            com.fasterxml.jackson.databind.JsonNode commits =
                    json.readTree(
                                    CliOutput.run(
                                                    "provenance",
                                                    "-c",
                                                    pipelineFile.toString(),
                                                    "-n",
                                                    "2",
                                                    "--output",
                                                    "json")
                                            .json())
                            .path("tables");
            // the ledger changed in every round: its last two commits; the refunds table less often
            assertThat(commits.path("lake_erp.ledger")).hasSize(2);
            assertThat(commits.path("lake_erp.refunds")).isNotEmpty();
            assertThat(commits.path("lake_erp.ledger").get(0).path(Provenance.PIPELINE_ID).asText())
                    .isEqualTo("whole-erp");
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    @Test
    void capturesTablesCreatedWhileRunningWithoutARestart() throws Exception {
        mariadb.createDatabase("shop2");
        try (Connection sql = mariadb.connect("shop2");
                Statement s = sql.createStatement()) {
            s.execute("CREATE TABLE carts (id bigint PRIMARY KEY, owner varchar(20) NOT NULL)");
            s.execute(
                    "INSERT INTO carts WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g "
                            + "WHERE n < 300) SELECT n, CONCAT('owner ', n) FROM g");
        }
        PipelineConfig config =
                TableDiscovery.resolve(pipeline("shop2", "shop2.*", "capture").config());
        assertThat(config.tables())
                .extracting(PipelineConfig.TableConfig::source)
                .containsExactly("shop2.carts");
        Map<String, TableIdentifier> targets = new LinkedHashMap<>();
        targets.put("shop2.carts", TableIdentifier.of("lake_shop2", "carts"));
        Catalog catalog = TestPipelines.catalog(config);
        try (Connection writer = mariadb.connect("shop2");
                Statement s = writer.createStatement();
                Connection verifier = mariadb.connect("shop2")) {
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null);
            String savepoint;
            try {
                GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                // created while the job runs, with rows in the same transaction as the create's
                // neighbours, then changed: inserts, updates, a delete, a re-insert, a key change
                s.execute(
                        "CREATE TABLE coupons (code varchar(12) PRIMARY KEY, percent decimal(5,2) NOT NULL, "
                                + "valid_until datetime(6), used bit(1) NOT NULL)");
                s.execute(
                        "INSERT INTO coupons WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g "
                                + "WHERE n < 200) SELECT CONCAT('C-', n), n % 50 + 0.5, "
                                + "TIMESTAMP '2027-01-01 00:00:00.000001' + INTERVAL n HOUR, n % 2 FROM g");
                s.execute(
                        "UPDATE coupons SET percent = percent + 1, used = 1 WHERE code LIKE 'C-1%'");
                s.execute("DELETE FROM coupons WHERE code IN ('C-7', 'C-8')");
                s.execute("INSERT INTO coupons VALUES ('C-7', 12.5, NULL, 0)");
                s.execute("UPDATE coupons SET code = 'C-NEW' WHERE code = 'C-9'");
                // a key of two columns in another order than the columns': its changes are keyed
                // in the key's order, which the operators read from the Iceberg table the schema
                // stage made (a key change's old key in the columns' order would leave it behind)
                s.execute(
                        "CREATE TABLE cart_lines (cart bigint NOT NULL, line int NOT NULL, qty int, "
                                + "PRIMARY KEY (line, cart))");
                s.execute(
                        "INSERT INTO cart_lines WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
                                + "FROM g WHERE n < 60) SELECT n % 6, n, n FROM g");
                s.execute("UPDATE cart_lines SET cart = cart + 100 WHERE line % 5 = 0");
                s.execute("UPDATE cart_lines SET line = line + 1000, qty = -1 WHERE line % 7 = 0");
                s.execute("DELETE FROM cart_lines WHERE line % 11 = 0");
                // created while running without a key: never half-captured, every change kept in
                // the unrouted quarantine with its reason
                s.execute("CREATE TABLE clicks (at datetime(6), url text)");
                s.execute(
                        "INSERT INTO clicks VALUES (NOW(6), '/a'), (NOW(6), '/b'), (NOW(6), '/c')");
                s.execute("UPDATE carts SET owner = 'changed' WHERE id <= 10");

                TableIdentifier coupons = TableIdentifier.of("lake_shop2", "coupons");
                Awaitility.await("the new table's Iceberg table, made by the running job")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    // the job must not be failing over instead
                                    assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                                            .isEmpty();
                                    return catalog.tableExists(coupons);
                                });
                targets.put("shop2.coupons", coupons);
                targets.put("shop2.cart_lines", TableIdentifier.of("lake_shop2", "cart_lines"));
                GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                TableIdentifier unrouted =
                        TableIdentifier.of("lake_shop2", "tidemark_unrouted__quarantine");
                Awaitility.await("the keyless table's changes in quarantine")
                        .atMost(Duration.ofMinutes(1))
                        .until(
                                () ->
                                        quarantinedDetails(catalog, unrouted, "shop2.clicks").size()
                                                == 3);
                assertThat(quarantinedDetails(catalog, unrouted, "shop2.clicks"))
                        .allSatisfy(detail -> assertThat(detail).contains("has no primary key"));
                assertThat(catalog.tableExists(TableIdentifier.of("lake_shop2", "clicks")))
                        .isFalse();
                assertThat(
                                catalog.loadTable(TableIdentifier.of("lake_shop2", "coupons"))
                                        .schema()
                                        .identifierFieldNames())
                        .containsExactly("code");
                assertThat(
                                catalog.loadTable(TableIdentifier.of("lake_shop2", "cart_lines"))
                                        .properties())
                        .containsEntry(LiveTables.KEY_PROPERTY, "[\"line\",\"cart\"]");
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job)).isEmpty();
                savepoint =
                        job.stopWithSavepoint(
                                        false,
                                        dir.resolve("savepoints-live").toUri().toString(),
                                        SavepointFormatType.CANONICAL)
                                .get();
            } catch (Throwable e) {
                GroundTruth.cancel(job);
                throw e;
            }
            // while stopped; then the restart knows coupons from the start and keeps its state
            s.execute("UPDATE coupons SET percent = 1 WHERE code = 'C-20'");
            s.execute("DELETE FROM coupons WHERE code = 'C-21'");
            PipelineConfig file = pipeline("shop2", "shop2.*", "capture").config();
            // at a start the keyless table is refused by name, as any matched table without a key
            assertThatThrownBy(() -> TableDiscovery.resolve(file))
                    .hasMessageContaining("[shop2.clicks]");
            s.execute("DROP TABLE clicks");
            PipelineConfig again = TableDiscovery.resolve(file);
            assertThat(again.tables())
                    .extracting(PipelineConfig.TableConfig::source)
                    .containsExactlyInAnyOrder("shop2.carts", "shop2.coupons", "shop2.cart_lines");
            JobClient restarted =
                    TestJobs.start(
                            again,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            Path.of(java.net.URI.create(savepoint)));
            try {
                s.execute("CREATE TABLE gifts (id int PRIMARY KEY, note varchar(20))");
                s.execute("INSERT INTO gifts VALUES (1, 'a'), (2, 'b'), (3, 'c')");
                s.execute("UPDATE gifts SET id = 30 WHERE id = 3");
                s.execute("INSERT INTO coupons VALUES ('C-LATER', 3.0, NULL, 1)");
                TableIdentifier gifts = TableIdentifier.of("lake_shop2", "gifts");
                Awaitility.await("the second new table's Iceberg table")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(restarted);
                                    return catalog.tableExists(gifts);
                                });
                targets.put("shop2.gifts", gifts);
                GroundTruth.awaitEqual(
                        restarted, verifier, catalog, targets, Duration.ofMinutes(3));
                // a schema change of a table captured while running: the pattern's
                // schema-evolution (evolve) applies to it as to any other (it made the writer fail
                // and the job restart in a loop)
                s.execute("ALTER TABLE gifts ADD COLUMN qty int");
                s.execute("INSERT INTO gifts VALUES (4, 'd', 5)");
                s.execute("UPDATE gifts SET qty = 7 WHERE id = 1");
                GroundTruth.awaitEqual(
                        restarted, verifier, catalog, targets, Duration.ofMinutes(3));
                assertThat(catalog.loadTable(gifts).schema().findField("qty")).isNotNull();
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, restarted)).isEmpty();
            } finally {
                GroundTruth.cancel(restarted);
            }
            for (String table : List.of("carts", "coupons")) {
                // one lineage across the restart: state kept, nothing committed twice
                assertThat(
                                CommitHistory.assertEachCheckpointOnce(
                                        catalog.loadTable(TableIdentifier.of("lake_shop2", table)),
                                        config.pipelineId()))
                        .hasSize(1);
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /**
     * A column added in the binlog phase, and then a restore from a savepoint taken before it (a
     * rollback): Flink CDC restores the binlog reader's table schemas with its position, replays
     * the rows written before the change with the old schema, follows the DDL, and the table
     * (evolved by the first run, under {@code schema-evolution: evolve}) ends equal to the source
     * in every column.
     */
    @Test
    void aColumnAddedInTheBinlogPhaseSurvivesARestoreFromBeforeIt() throws Exception {
        mariadb.createDatabase("drift");
        try (Connection sql = mariadb.connect("drift");
                Statement s = sql.createStatement()) {
            s.execute(
                    "CREATE TABLE parcels (id bigint PRIMARY KEY, label varchar(40) NOT NULL, weight int)");
            s.execute(
                    "INSERT INTO parcels WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g "
                            + "WHERE n < 400) SELECT n, CONCAT('parcel ', n), n % 90 FROM g");
        }
        Path contracts = dir.resolve("contracts-drift");
        java.nio.file.Files.createDirectories(contracts.resolve("drift.parcels"));
        java.nio.file.Files.writeString(
                contracts.resolve("drift.parcels/v1.yaml"),
                """
                table: drift.parcels
                version: 1
                columns:
                  - {name: id, type: long, nullable: false}
                  - {name: label, type: string, nullable: false}
                  - {name: weight, type: int}
                primary-key: [id]
                schema-evolution: evolve
                """);
        PipelineConfig config =
                PipelineYaml.mariaDb(mariadb, "drift", catalogDatabase, dir, "whole-drift")
                        .set("pipeline.parallelism", 2)
                        .set("checkpoint.dir", dir.resolve("checkpoints-drift").toUri().toString())
                        .set("source.scan.incremental.snapshot.chunk.size", 200)
                        .set("contracts.dir", contracts.toString())
                        .table("drift.parcels", "lake_drift.parcels", "contract", 1)
                        .config();
        Map<String, TableIdentifier> targets =
                Map.of("drift.parcels", TableIdentifier.of("lake_drift", "parcels"));
        RunContext run = RunContext.start(config.pipelineId(), null);
        Catalog catalog = TestPipelines.catalog(config);
        try (Connection writer = mariadb.connect("drift");
                Statement s = writer.createStatement();
                Connection verifier = mariadb.connect("drift")) {
            JobClient job = TestJobs.start(config, run, CommitListener.NONE, null);
            String savepoint;
            try {
                // the DDL must come after the binlog reader started (see docs/sources.md): a delete
                // made once the snapshot is committed reaches the table only through the binlog
                TableIdentifier parcels = TableIdentifier.of("lake_drift", "parcels");
                Awaitility.await("the snapshot's commit")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    return catalog.loadTable(parcels).currentSnapshot() != null;
                                });
                s.execute("DELETE FROM parcels WHERE id % 13 = 0");
                s.execute("UPDATE parcels SET weight = weight + 1 WHERE id % 7 = 0");
                Awaitility.await("a commit of the binlog phase")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    Table table = catalog.loadTable(parcels);
                                    for (Snapshot snapshot : table.snapshots()) {
                                        String deleted =
                                                snapshot.summary().get(Provenance.ROWS_DELETED);
                                        if (deleted != null && Long.parseLong(deleted) > 0) {
                                            return true;
                                        }
                                    }
                                    return false;
                                });
                GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                savepoint =
                        job.triggerSavepoint(
                                        dir.resolve("savepoints-drift").toUri().toString(),
                                        SavepointFormatType.CANONICAL)
                                .get();
                // after the savepoint: rows in the old shape, the DDL, rows in the new one
                s.execute("UPDATE parcels SET label = CONCAT(label, ' v2') WHERE id % 5 = 0");
                s.execute("DELETE FROM parcels WHERE id % 11 = 0");
                s.execute("ALTER TABLE parcels ADD COLUMN fragile boolean");
                s.execute("UPDATE parcels SET fragile = (id % 3 = 0) WHERE id <= 150");
                s.execute("INSERT INTO parcels VALUES (1001, 'late parcel', 5, 1)");
                GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job)).isEmpty();
            } finally {
                GroundTruth.cancel(job);
            }
            assertThat(
                            catalog.loadTable(TableIdentifier.of("lake_drift", "parcels"))
                                    .schema()
                                    .findField("fragile"))
                    .isNotNull();

            // more in the new shape while stopped, then the rollback to the older savepoint
            s.execute("UPDATE parcels SET fragile = NOT fragile, weight = 1 WHERE id <= 40");
            s.execute("INSERT INTO parcels VALUES (1002, 'rolled back', NULL, NULL)");
            JobClient restored =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            Path.of(java.net.URI.create(savepoint)));
            try {
                s.execute("UPDATE parcels SET fragile = 1 WHERE id BETWEEN 300 AND 320");
                s.execute("DELETE FROM parcels WHERE id = 1001");
                GroundTruth.awaitEqual(restored, verifier, catalog, targets, Duration.ofMinutes(3));
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, restored)).isEmpty();
            } finally {
                GroundTruth.cancel(restored);
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    /** The details of the rows of {@code table} (a quarantine table) from {@code source}. */
    private static List<String> quarantinedDetails(
            Catalog catalog, TableIdentifier table, String source) throws Exception {
        List<String> details = new java.util.ArrayList<>();
        if (!catalog.tableExists(table)) {
            return details;
        }
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.data.Record> records =
                org.apache.iceberg.data.IcebergGenerics.read(catalog.loadTable(table)).build()) {
            for (org.apache.iceberg.data.Record record : records) {
                if (source.equals(record.getField("source_table"))) {
                    details.add(String.valueOf(record.getField("details")));
                }
            }
        }
        return details;
    }

    /** Armed by a test: the next commit fails once (a failover inside the running job). */
    private static final java.util.concurrent.atomic.AtomicBoolean FAIL_NEXT_COMMIT =
            new java.util.concurrent.atomic.AtomicBoolean();

    /** Fails the commit after {@link #FAIL_NEXT_COMMIT} is armed, once. */
    private static final class FailNextCommit implements CommitListener {
        private static final long serialVersionUID = 1L;

        @Override
        public void beforeCommit(String table, long checkpointId) {
            if (FAIL_NEXT_COMMIT.compareAndSet(true, false)) {
                throw new IllegalStateException("injected failure inside the commit");
            }
        }
    }

    /**
     * A table created while the job runs, under {@code schema-evolution: quarantine}, gains a
     * column: its changes in the new shape are quarantined; then the job fails over (a commit
     * fails). The recovered tasks meet the table anew, with the column in the source and not in
     * Iceberg: they check its changes against the Iceberg table (the gate had read the columns from
     * the source again, let the new shape through, and the writer then failed at every restart).
     */
    @Test
    void aTableCreatedWhileRunningKeepsItsQuarantineAcrossAFailover() throws Exception {
        mariadb.createDatabase("shop3");
        try (Connection sql = mariadb.connect("shop3");
                Statement s = sql.createStatement()) {
            s.execute("CREATE TABLE carts (id bigint PRIMARY KEY, owner varchar(20) NOT NULL)");
            s.execute("INSERT INTO carts VALUES (1, 'a'), (2, 'b')");
        }
        PipelineConfig config =
                TableDiscovery.resolve(
                        pipeline("shop3", "shop3.*", "capture", "quarantine").config());
        Map<String, TableIdentifier> targets = new LinkedHashMap<>();
        targets.put("shop3.carts", TableIdentifier.of("lake_shop3", "carts"));
        TableIdentifier gifts = TableIdentifier.of("lake_shop3", "gifts");
        TableIdentifier unrouted =
                TableIdentifier.of("lake_shop3", "tidemark_unrouted__quarantine");
        Catalog catalog = TestPipelines.catalog(config);
        FAIL_NEXT_COMMIT.set(false);
        try (Connection writer = mariadb.connect("shop3");
                Statement s = writer.createStatement();
                Connection verifier = mariadb.connect("shop3")) {
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            new FailNextCommit(),
                            null);
            try {
                GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                s.execute("CREATE TABLE gifts (id int PRIMARY KEY, note varchar(20))");
                s.execute("INSERT INTO gifts VALUES (1, 'a'), (2, 'b'), (3, 'c')");
                Awaitility.await("the new table's Iceberg table, made by the running job")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    return catalog.tableExists(gifts);
                                });
                targets.put("shop3.gifts", gifts);
                GroundTruth.awaitEqual(job, verifier, catalog, targets, Duration.ofMinutes(3));
                // the new shape, held back
                s.execute("ALTER TABLE gifts ADD COLUMN qty int");
                s.execute("INSERT INTO gifts VALUES (4, 'd', 5)");
                Awaitility.await("the change in the new shape quarantined")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () ->
                                        quarantinedDetails(catalog, unrouted, "shop3.gifts").size()
                                                == 1);
                // a failover inside the running job
                FAIL_NEXT_COMMIT.set(true);
                s.execute("UPDATE carts SET owner = 'failed over' WHERE id = 1");
                Awaitility.await("one failover")
                        .atMost(Duration.ofMinutes(2))
                        .until(() -> TestClusters.exceptionHistory(MINI_CLUSTER, job).size() == 1);
                // after it: the new shape is still held back, the other tables go on
                s.execute("INSERT INTO gifts VALUES (5, 'e', 6)");
                s.execute("UPDATE carts SET owner = 'after' WHERE id = 2");
                s.execute("INSERT INTO carts VALUES (3, 'c')");
                Awaitility.await("the second change in the new shape quarantined")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    return quarantinedDetails(catalog, unrouted, "shop3.gifts")
                                                    .size()
                                            == 2;
                                });
                GroundTruth.awaitEqual(
                        job,
                        verifier,
                        catalog,
                        Map.of("shop3.carts", targets.get("shop3.carts")),
                        Duration.ofMinutes(2));
                assertThat(catalog.loadTable(gifts).schema().findField("qty")).isNull();
                assertThat(CommitHistory.ids(catalog.loadTable(gifts))).containsExactly(1L, 2L, 3L);
                assertThat(TestClusters.exceptionHistory(MINI_CLUSTER, job))
                        .singleElement()
                        .asString()
                        .contains("injected failure inside the commit");
            } finally {
                GroundTruth.cancel(job);
            }
        } finally {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        }
    }

    @Test
    void refusesAUserWithoutReplicationGrantsAndAServerWithoutFullImages() throws Exception {
        mariadb.createDatabase("grants");
        try (Connection admin = mariadb.connect("grants");
                Statement s = admin.createStatement()) {
            s.execute("CREATE TABLE t (id int PRIMARY KEY)");
            s.execute("CREATE USER IF NOT EXISTS 'reader'@'%' IDENTIFIED BY 'reader'");
            s.execute("GRANT SELECT ON *.* TO 'reader'@'%'");
            PipelineConfig weak =
                    TableDiscovery.resolve(
                            pipeline("grants", "grants.*")
                                    .set("source.username", "reader")
                                    .set("source.password", "reader")
                                    .config());
            assertThatThrownBy(() -> JobPreparation.prepare(weak))
                    .hasMessageContaining("user 'reader' cannot read the binlog position")
                    .hasMessageContaining("GRANT REPLICATION CLIENT ON *.*");
            // `tidemark check` says the same without a start, and the server is ready otherwise
            CliOutput weakCheck =
                    CliOutput.run(
                            "check",
                            "-c",
                            pipeline("grants", "grants.*")
                                    .set("source.username", "reader")
                                    .set("source.password", "reader")
                                    .write(dir)
                                    .toString());
            assertThat(weakCheck.exitCode()).isEqualTo(1);
            assertThat(weakCheck.out())
                    .contains(
                            "PROBLEM  source source, server: user 'reader' cannot read the binlog")
                    .contains("ok       table grants.t, schema: 1 columns, key [id]");

            PipelineConfig config = TableDiscovery.resolve(pipeline("grants", "grants.*").config());
            // MariaDB's GTIDs do not reach the binlog reader: GTID order is refused by name
            PipelineConfig gtid =
                    TableDiscovery.resolve(
                            pipeline("grants", "grants.*")
                                    .set("source.binlog-order", "gtid")
                                    .config());
            assertThatThrownBy(() -> JobPreparation.prepare(gtid))
                    .hasMessageContaining("source.binlog-order is gtid, but the server is MariaDB")
                    .hasMessageContaining("Set source.binlog-order: binlog-position (or auto)");
            try (Connection cdc =
                    java.sql.DriverManager.getConnection(
                            config.source().jdbcUrl(),
                            EmbeddedMariaDb.CDC_USER,
                            EmbeddedMariaDb.CDC_PASSWORD)) {
                assertThat(MySqlSchemaReader.binlogOrder(cdc, null))
                        .isEqualTo(BinlogOrder.BINLOG_POSITION);
            }

            Path checked = pipeline("grants", "grants.*").write(dir);
            CliOutput ready = CliOutput.run("check", "-c", checked.toString());
            assertThat(ready.exitCode()).as(ready.out()).isZero();
            s.execute("SET GLOBAL binlog_row_image = 'MINIMAL'");
            try {
                assertThatThrownBy(() -> JobPreparation.prepare(config))
                        .hasMessageContaining(
                                "binlog_row_image is MINIMAL: set binlog_row_image=FULL");
                CliOutput minimal = CliOutput.run("check", "-c", checked.toString());
                assertThat(minimal.exitCode()).isEqualTo(1);
                assertThat(minimal.out())
                        .contains(
                                "PROBLEM  source source, server: binlog_row_image is MINIMAL: set"
                                        + " binlog_row_image=FULL");
            } finally {
                s.execute("SET GLOBAL binlog_row_image = 'FULL'");
            }
        }
    }

    @Test
    void refusesTablesWithoutAPrimaryKeyNamingThem() throws Exception {
        mariadb.createDatabase("crm");
        try (Connection sql = mariadb.connect("crm");
                Statement s = sql.createStatement()) {
            s.execute("CREATE TABLE contacts (id int PRIMARY KEY, name text)");
            s.execute("CREATE TABLE audit_log (at datetime(6), what text)");
            s.execute("CREATE TABLE notes (body text)");
        }
        PipelineConfig file = pipeline("crm", "crm.*").config();
        assertThatThrownBy(() -> TableDiscovery.resolve(file))
                .hasMessageContaining("[crm.audit_log, crm.notes]")
                .hasMessageContaining("no primary key");
        PipelineConfig typo = pipeline("crm", "crm.contact_*").config();
        assertThatThrownBy(() -> TableDiscovery.resolve(typo))
                .hasMessageContaining("'crm.contact_*' matches no table");
    }

    /** Rows {@code from..to} of the five tables. */
    private static void seed(Statement s, int from, int to) throws Exception {
        s.execute(
                "INSERT INTO accounts WITH RECURSIVE g(n) AS (SELECT "
                        + from
                        + " UNION ALL SELECT n + 1 FROM g WHERE n < "
                        + to
                        + ") SELECT n, CONCAT('account ', n), n % 2, n * 1.0625, "
                        + "DATE '2020-01-01' + INTERVAL n DAY FROM g");
        s.execute(
                "INSERT INTO ledger WITH RECURSIVE g(n) AS (SELECT "
                        + from
                        + " UNION ALL SELECT n + 1 FROM g WHERE n < "
                        + to
                        + ") SELECT n + 18000000000000000000, n % 50, n * 3.25, "
                        + "TIMESTAMP '2025-01-01 00:00:00.123' + INTERVAL n MINUTE, "
                        + "IF(n % 4 = 0, NULL, CONCAT('entry ', n)) FROM g");
        s.execute(
                "INSERT INTO items WITH RECURSIVE g(n) AS (SELECT "
                        + from
                        + " UNION ALL SELECT n + 1 FROM g WHERE n < "
                        + to
                        + ") SELECT CONCAT('SKU-', n), CONCAT('item ', n), ELT(1 + n % 3, 'tool', 'part', 'kit'), "
                        + "IF(n % 5 = 0, NULL, CONCAT('{\"n\": ', n, '}')), n / 8 FROM g");
        s.execute(
                "INSERT INTO events WITH RECURSIVE g(n) AS (SELECT "
                        + from
                        + " UNION ALL SELECT n + 1 FROM g WHERE n < "
                        + to
                        + ") SELECT n, TIMESTAMP '2026-01-01 00:00:00.000001' + INTERVAL n SECOND, "
                        + "2000 + n % 100, SEC_TO_TIME(n * 7), UNHEX(SHA1(n)) FROM g");
        s.execute(
                "INSERT INTO memberships WITH RECURSIVE g(n) AS (SELECT "
                        + from
                        + " UNION ALL SELECT n + 1 FROM g WHERE n < "
                        + to
                        + ") SELECT n % 7, n, ELT(1 + n % 3, 'owner', 'admin', 'viewer'), "
                        + "TIMESTAMP '2026-02-01 00:00:00.5' + INTERVAL n SECOND FROM g");
    }

    /** Inserts, updates, deletes, a re-insert and a key change in every table; round r. */
    private static void churn(Statement s, int round) throws Exception {
        int base = 1_000 * round;
        seed(s, base, base + 40);
        s.execute(
                "UPDATE accounts SET active = NOT active, balance = balance + 1 WHERE id % 9 = "
                        + round);
        s.execute("DELETE FROM accounts WHERE id % 13 = " + round);
        s.execute(
                "UPDATE ledger SET note = CONCAT('round ', "
                        + round
                        + "), amount = amount + 0.01 WHERE id % 11 = "
                        + round);
        s.execute("DELETE FROM ledger WHERE id % 17 = " + round);
        s.execute("UPDATE items SET attrs = NULL, kind = 'kit' WHERE title LIKE '%" + round + "'");
        s.execute("DELETE FROM items WHERE sku = 'SKU-" + (base + 3) + "'");
        s.execute("INSERT INTO items VALUES ('SKU-" + (base + 3) + "', 'back', 'tool', NULL, 1.5)");
        s.execute("UPDATE events SET id = id + 500000 WHERE id = " + (base + 7));
        s.execute("UPDATE events SET payload = NULL, took = '01:02:03' WHERE id % 8 = " + round);
        s.execute(
                "UPDATE memberships SET role = 'owner', updated_at = updated_at + INTERVAL 1 DAY "
                        + "WHERE user_id % 10 = "
                        + round);
        s.execute("DELETE FROM memberships WHERE user_id % 23 = " + round);
    }
}
