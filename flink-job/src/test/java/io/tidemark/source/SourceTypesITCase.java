package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.JobPreparation;
import io.tidemark.runtime.RunContext;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Postgres user-defined types real schemas use: an enum is captured as its label (a string), a
 * domain as its underlying type (integer with a check, varchar), through the snapshot and the log
 * alike; the table ends equal to the source. A table keyed by a uuid is snapshotted in chunks whose
 * bounds are uuids, each audited against the source. A generated column is left out (the log does
 * not carry it), and the other columns equal the source; a {@code time} (microseconds) is captured
 * as its text, a {@code time(3)} as a time. A table keyed by bytea (which Postgres cannot take the
 * min of, and whose values are byte arrays) is captured at parallelism 2. An array column is
 * refused with a fix that works.
 */
class SourceTypesITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("types", "iceberg_catalog");

    @Test
    void enumsAndDomainsAreTheirLabelsAndUnderlyingTypes() throws Exception {
        TableIdentifier target = TableIdentifier.of("types", "typed");
        try (Connection source = DATABASE.get().connect("types");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
            sql.execute("CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0)");
            sql.execute("CREATE DOMAIN short_text AS varchar(20)");
            sql.execute(
                    "CREATE TABLE public.typed (id bigint PRIMARY KEY, m mood, "
                            + "p positive_int NOT NULL, s short_text)");
            sql.execute("ALTER TABLE public.typed REPLICA IDENTITY FULL");
            sql.execute(
                    "INSERT INTO public.typed SELECT g, (ARRAY['sad','ok','happy'])[1 + g % 3]::mood, "
                            + "g, 's' || g FROM generate_series(1, 100) g");
            // a uuid key: the chunks' bounds are uuids (their audit counts them as such)
            sql.execute("CREATE TABLE public.tokens (id uuid PRIMARY KEY, v text NOT NULL)");
            sql.execute(
                    "INSERT INTO public.tokens SELECT md5(g::text)::uuid, 'v' || g "
                            + "FROM generate_series(1, 1200) g");
            // a generated column: logical replication does not send it, so it is not captured
            sql.execute(
                    "CREATE TABLE public.lines (id bigint PRIMARY KEY, price numeric(10,2) NOT NULL, "
                            + "qty integer NOT NULL, at time NOT NULL, at_ms time(3), "
                            + "total numeric(12,2) GENERATED ALWAYS AS (price * qty) STORED)");
            sql.execute(
                    "INSERT INTO public.lines (id, price, qty, at, at_ms) "
                            + "SELECT g, g * 1.25, g % 7, time '10:00:00.123456' + g * interval '1.000001 s', "
                            + "time '10:00:00.123' FROM generate_series(1, 300) g");
            sql.execute(
                    "CREATE VIEW public.lines_captured AS SELECT id, price, qty, at, at_ms FROM public.lines");
            // a bytea key: Postgres has no min(bytea), and a byte[] has no value equality
            sql.execute("CREATE TABLE public.blobs (id bytea PRIMARY KEY, v text NOT NULL)");
            sql.execute(
                    "INSERT INTO public.blobs SELECT decode(md5(g::text), 'hex'), 'v' || g "
                            + "FROM generate_series(1, 1200) g");

            PipelineConfig config = pipeline();
            long audited = ChunkAudit.AUDITED.get();
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                Schema schema = catalog.loadTable(target).schema();
                assertThat(schema.findType("m")).isEqualTo(Types.StringType.get());
                assertThat(schema.findType("p")).isEqualTo(Types.IntegerType.get());
                assertThat(schema.findType("s")).isEqualTo(Types.StringType.get());
                assertThat(
                                catalog.loadTable(TableIdentifier.of("types", "lines"))
                                        .schema()
                                        .findField("total"))
                        .as("a generated column is not captured")
                        .isNull();
                // time(6): Iceberg's Flink writers would keep milliseconds; text keeps microseconds
                assertThat(
                                catalog.loadTable(TableIdentifier.of("types", "lines"))
                                        .schema()
                                        .findType("at"))
                        .isEqualTo(Types.StringType.get());
                assertThat(
                                catalog.loadTable(TableIdentifier.of("types", "lines"))
                                        .schema()
                                        .findType("at_ms"))
                        .isEqualTo(Types.TimeType.get());
                GroundTruth.awaitFirstCommit(job, catalog, target);
                sql.execute(
                        "INSERT INTO public.typed SELECT g, 'happy', g, NULL "
                                + "FROM generate_series(101, 150) g");
                sql.execute(
                        "UPDATE public.typed SET m = 'sad', p = p + 1000, s = 'x' WHERE id % 4 = 0");
                sql.execute("UPDATE public.typed SET m = NULL WHERE id % 9 = 0");
                sql.execute("DELETE FROM public.typed WHERE id % 10 = 0");

                sql.execute("UPDATE public.tokens SET v = v || '!' WHERE v LIKE '%7'");
                sql.execute(
                        "INSERT INTO public.tokens SELECT md5(g::text)::uuid, 'n' || g "
                                + "FROM generate_series(2001, 2050) g");

                sql.execute("UPDATE public.lines SET qty = qty + 1 WHERE id % 3 = 0");
                sql.execute(
                        "INSERT INTO public.lines (id, price, qty, at) "
                                + "VALUES (1000, 9.99, 2, '23:59:59.999999')");
                sql.execute("UPDATE public.lines SET at = '00:00:00' WHERE id = 7");

                sql.execute("UPDATE public.blobs SET v = v || '!' WHERE v LIKE '%3'");
                sql.execute("DELETE FROM public.blobs WHERE v LIKE '%5'");
                sql.execute(
                        "INSERT INTO public.blobs SELECT decode(md5(g::text), 'hex'), 'n' || g "
                                + "FROM generate_series(2001, 2050) g");
                // a key that changes: a delete of the old bytes, an insert of the new
                sql.execute(
                        "UPDATE public.blobs SET id = decode('00ff', 'hex') "
                                + "WHERE id = decode(md5('1'), 'hex')");

                GroundTruth.awaitEqual(
                        job,
                        source,
                        catalog,
                        Map.of(
                                "public.typed",
                                target,
                                "public.tokens",
                                TableIdentifier.of("types", "tokens"),
                                "public.blobs",
                                TableIdentifier.of("types", "blobs"),
                                "public.lines_captured",
                                TableIdentifier.of("types", "lines")),
                        Duration.ofMinutes(2));
                // every chunk audited, the uuid-keyed ones too (1,200 rows in chunks of 500)
                assertThat(ChunkAudit.AUDITED.get() - audited).isGreaterThanOrEqualTo(4);
                assertThat(ChunkAudit.DIFFERED.get()).isZero();
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("types", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    /**
     * An array column is refused at the start with the reason (the CDC reader makes an unchanged
     * out-of-line array an empty one) and a fix; the fix, run as given, makes the table capturable
     * and it ends equal to the source, its arrays as their JSON text.
     */
    @Test
    void arraysAreRefusedWithAFixThatWorks() throws Exception {
        TableIdentifier target = TableIdentifier.of("types", "tagged");
        try (Connection source = DATABASE.get().connect("types");
                Statement sql = source.createStatement()) {
            sql.execute(
                    "CREATE TABLE public.tagged (id bigint PRIMARY KEY, tags text[], note text)");
            sql.execute("ALTER TABLE public.tagged REPLICA IDENTITY FULL");
            sql.execute(
                    "INSERT INTO public.tagged SELECT g, ARRAY['t' || g, NULL, 'x'], 'n' || g "
                            + "FROM generate_series(1, 50) g");
            PipelineConfig config =
                    PipelineYaml.postgres(DATABASE.get(), "types", DATABASE.dir(), "arrays-it")
                            .table("public.tagged", "types.tagged")
                            .config();

            String fix = null;
            try {
                JobPreparation.prepare(config);
            } catch (IllegalArgumentException e) {
                assertThat(e.getMessage())
                        .contains("column 'tags': arrays (text[]) are not captured")
                        .contains("an empty one");
                fix = e.getMessage().replaceAll("(?s).*\\((ALTER TABLE [^;]*);.*", "$1");
            }
            assertThat(fix).startsWith("ALTER TABLE public.tagged ALTER COLUMN");
            sql.execute(fix);

            JobClient job = TestJobs.start(config);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                GroundTruth.awaitFirstCommit(job, catalog, target);
                sql.execute("UPDATE public.tagged SET note = 'changed' WHERE id % 3 = 0");
                sql.execute(
                        "UPDATE public.tagged SET tags = '[\"a\", \"b\"]'::jsonb WHERE id % 5 = 0");
                sql.execute("INSERT INTO public.tagged VALUES (100, '[]'::jsonb, NULL)");
                sql.execute("DELETE FROM public.tagged WHERE id = 7");
                GroundTruth.awaitEqual(
                        job,
                        source,
                        catalog,
                        Map.of("public.tagged", target),
                        Duration.ofMinutes(2));
                assertThat(catalog.loadTable(target).schema().findType("tags"))
                        .isEqualTo(Types.StringType.get());
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("types", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    private static PipelineConfig pipeline() throws Exception {
        return TestPipelines.fromResource("types.yaml", DATABASE.get(), DATABASE.dir(), "types-it");
    }
}
