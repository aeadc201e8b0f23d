package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Names real schemas use that need quotes in SQL: a mixed-case table and columns (as ORMs such as
 * Entity Framework create them), a mixed-case schema, a table named by a reserved word, one with a
 * hyphen, columns named by reserved words and with spaces; on MariaDB also tables with a space and
 * a dot. Each is named in the pipeline file (bare, its case kept, or quoted), snapshotted in chunks
 * at parallelism 2, followed through the log, and ends equal to the source in every column. On
 * Postgres, tables named with a space, a dot and a quote (one in a schema named with a space) also
 * go through a stop with a savepoint and a restore: Flink CDC's Postgres source writes their names
 * unquoted into its state, which Tidemark's split serializer reads back; so does a name that does
 * not match itself as a regular expression ({@code $}, parentheses), which Flink CDC hands a
 * chunk's reader as one.
 */
class IdentifiersITCase {

    private static final List<String> QUOTED =
            List.of(
                    "public.\"line items\"",
                    "public.\"line.items\"",
                    "\"Shop Floor\".\"Q\"\"s\"",
                    "public.\"Orders (2019)$\"");

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("idents", "iceberg_catalog");

    /** Updates rows of the {@link #QUOTED} tables, one transaction each, until told to stop. */
    private static void writeUntilStopped(AtomicBoolean writing) {
        try (Connection source = DATABASE.get().connect("idents");
                Statement sql = source.createStatement()) {
            long n = 0;
            while (writing.get()) {
                String table = QUOTED.get((int) (n % QUOTED.size()));
                sql.execute(
                        "UPDATE " + table + " SET v = 'b" + n + "' WHERE id = " + (n % 800 + 1));
                n++;
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void postgresNamesThatNeedQuotes() throws Exception {
        try (Connection source = DATABASE.get().connect("idents");
                Statement sql = source.createStatement()) {
            sql.execute(
                    "CREATE TABLE public.\"OrderItems\" (\"Id\" bigint PRIMARY KEY, "
                            + "\"CustomerName\" text, \"order\" integer, \"unit price\" numeric(10,2))");
            sql.execute(
                    "INSERT INTO public.\"OrderItems\" SELECT g, 'c' || g, g % 5, g * 1.5 "
                            + "FROM generate_series(1, 1200) g");
            sql.execute("CREATE SCHEMA \"Sales\"");
            sql.execute(
                    "CREATE TABLE \"Sales\".\"Order-Lines\" (\"user\" text NOT NULL, "
                            + "\"line no\" integer NOT NULL, \"Qty\" integer, "
                            + "PRIMARY KEY (\"user\", \"line no\"))");
            sql.execute(
                    "INSERT INTO \"Sales\".\"Order-Lines\" SELECT 'u' || (g % 40), g, g % 9 "
                            + "FROM generate_series(1, 900) g");
            sql.execute("CREATE TABLE public.\"user\" (id integer PRIMARY KEY, \"select\" text)");
            sql.execute(
                    "INSERT INTO public.\"user\" SELECT g, 's' || g FROM generate_series(1, 700) g");
            // names Flink CDC's Postgres source writes unquoted into its own state: a space, a dot
            // and a quote, in the table's name and in the schema's
            sql.execute("CREATE TABLE public.\"line items\" (id integer PRIMARY KEY, v text)");
            sql.execute("CREATE TABLE public.\"line.items\" (id integer PRIMARY KEY, v text)");
            sql.execute("CREATE SCHEMA \"Shop Floor\"");
            sql.execute("CREATE TABLE \"Shop Floor\".\"Q\"\"s\" (id integer PRIMARY KEY, v text)");
            // and one that Flink CDC's chunk reader takes as a regular expression not matching it
            sql.execute("CREATE TABLE public.\"Orders (2019)$\" (id integer PRIMARY KEY, v text)");
            for (String table : QUOTED) {
                sql.execute(
                        "INSERT INTO "
                                + table
                                + " SELECT g, 'v' || g FROM generate_series(1, 800) g");
            }
            PipelineConfig config =
                    TestPipelines.fromResource(
                            "identifiers.yaml", DATABASE.get(), DATABASE.dir(), "idents-it");
            assertThat(config.tables())
                    .extracting(PipelineConfig.TableConfig::source)
                    .containsExactly(
                            "public.OrderItems",
                            "Sales.Order-Lines",
                            "public.user",
                            "public.line items",
                            "public.line.items",
                            "Shop Floor.Q\"s",
                            "public.Orders (2019)$");
            Map<String, TableIdentifier> targets =
                    Map.of(
                            "public.OrderItems",
                            TableIdentifier.of("idents", "order_items"),
                            "Sales.Order-Lines",
                            TableIdentifier.of("idents", "order_lines"),
                            "public.user",
                            TableIdentifier.of("idents", "users"),
                            "public.line items",
                            TableIdentifier.of("idents", "spaced"),
                            "public.line.items",
                            TableIdentifier.of("idents", "dotted"),
                            "Shop Floor.Q\"s",
                            TableIdentifier.of("idents", "quoted"),
                            "public.Orders (2019)$",
                            TableIdentifier.of("idents", "orders_2019"));
            RunContext run = RunContext.start(config.pipelineId(), null);
            long differed = ChunkAudit.DIFFERED.get();
            // changes while the chunks are read: each chunk's backfill reads them for its table
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> writeUntilStopped(writing), "idents-writer");
            writer.start();
            JobClient job = TestJobs.start(config, run, CommitListener.NONE, null);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                GroundTruth.awaitFirstCommit(
                        job, catalog, targets.values().toArray(TableIdentifier[]::new));
                writing.set(false);
                writer.join();
                // no chunk took another table's changes: Flink CDC's filter of a chunk's backfill
                // is a pattern in which the dot of public.line.items matches public."line items"
                assertThat(ChunkAudit.DIFFERED.get()).isEqualTo(differed);
                sql.execute(
                        "UPDATE public.\"OrderItems\" SET \"CustomerName\" = 'x', \"order\" = 9 "
                                + "WHERE \"Id\" % 3 = 0");
                sql.execute("DELETE FROM public.\"OrderItems\" WHERE \"Id\" % 10 = 0");
                sql.execute("INSERT INTO public.\"OrderItems\" VALUES (5000, 'n', 1, 2.5)");
                sql.execute(
                        "UPDATE \"Sales\".\"Order-Lines\" SET \"Qty\" = -1 WHERE \"line no\" % 4 = 0");
                sql.execute("DELETE FROM \"Sales\".\"Order-Lines\" WHERE \"user\" = 'u7'");
                sql.execute("UPDATE public.\"user\" SET \"select\" = NULL WHERE id % 6 = 0");
                sql.execute("DELETE FROM public.\"user\" WHERE id > 650");
                for (String table : QUOTED) {
                    sql.execute("UPDATE " + table + " SET v = 'u' WHERE id % 7 = 0");
                    sql.execute("DELETE FROM " + table + " WHERE id % 11 = 0");
                }
                GroundTruth.awaitEqual(job, source, catalog, targets, Duration.ofMinutes(2));
                assertThat(catalog.loadTable(targets.get("Sales.Order-Lines")).schema().columns())
                        .extracting(f -> f.name())
                        .containsExactly("user", "line no", "Qty");
                // the source's state (its chunks' tables) restores
                String savepoint =
                        job.stopWithSavepoint(
                                        false,
                                        DATABASE.dir().resolve("savepoints").toUri().toString(),
                                        SavepointFormatType.CANONICAL)
                                .get();
                for (String table : QUOTED) {
                    sql.execute("UPDATE " + table + " SET v = 'w' WHERE id % 5 = 0");
                    sql.execute("DELETE FROM " + table + " WHERE id % 13 = 0");
                    sql.execute("INSERT INTO " + table + " VALUES (5000, 'n')");
                }
                job =
                        TestJobs.start(
                                config,
                                run,
                                CommitListener.NONE,
                                Path.of(java.net.URI.create(savepoint)));
                GroundTruth.awaitEqual(job, source, catalog, targets, Duration.ofMinutes(2));
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("idents", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    @Test
    void mariaDbNamesThatNeedQuotes() throws Exception {
        try (EmbeddedMariaDb mariadb =
                EmbeddedMariaDb.start(DATABASE.dir().resolve("mariadb-idents"))) {
            mariadb.createDatabase("ShopFloor");
            try (Connection source = mariadb.connect("ShopFloor");
                    Statement sql = source.createStatement()) {
                sql.execute(
                        "CREATE TABLE `Order Items` (`Id` bigint PRIMARY KEY, `order` int, "
                                + "`unit price` decimal(10,2), `Customer Name` varchar(40))");
                sql.execute(
                        "INSERT INTO `Order Items` SELECT seq, seq % 5, seq * 1.5, CONCAT('c', seq) "
                                + "FROM seq_1_to_1200");
                sql.execute("CREATE TABLE `line.items` (id int PRIMARY KEY, `select` text)");
                sql.execute("INSERT INTO `line.items` SELECT seq, 's' FROM seq_1_to_700");
                PipelineConfig config =
                        PipelineYaml.mariaDb(
                                        mariadb,
                                        "ShopFloor",
                                        DATABASE.get(),
                                        DATABASE.dir(),
                                        "idents-mariadb-it")
                                .set("pipeline.parallelism", 2)
                                .set("source.scan.incremental.snapshot.chunk.size", 250)
                                .table("ShopFloor.`Order Items`", "idents_m.order_items")
                                .table("ShopFloor.`line.items`", "idents_m.line_items")
                                .config();
                TableIdentifier target = TableIdentifier.of("idents_m", "order_items");
                JobClient job = TestJobs.start(config);
                Catalog catalog = TestPipelines.catalog(config);
                try {
                    GroundTruth.awaitFirstCommit(
                            job, catalog, target, TableIdentifier.of("idents_m", "line_items"));
                    sql.execute(
                            "UPDATE `Order Items` SET `order` = 9, `Customer Name` = 'x' "
                                    + "WHERE `Id` % 3 = 0");
                    sql.execute("DELETE FROM `Order Items` WHERE `Id` % 10 = 0");
                    sql.execute("INSERT INTO `Order Items` VALUES (5000, 1, 2.5, 'n')");
                    sql.execute("UPDATE `line.items` SET `select` = NULL WHERE id % 6 = 0");
                    sql.execute("DELETE FROM `line.items` WHERE id > 650");
                    GroundTruth.awaitEqual(
                            job,
                            source,
                            catalog,
                            Map.of(
                                    "ShopFloor.Order Items",
                                    target,
                                    "ShopFloor.line.items",
                                    TableIdentifier.of("idents_m", "line_items")),
                            Duration.ofMinutes(2));
                } finally {
                    GroundTruth.cancel(job);
                    if (catalog instanceof Closeable) {
                        ((Closeable) catalog).close();
                    }
                }
            }
        }
    }
}
