package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.decode.DebeziumDecoder;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * Values Postgres stores out of line (TOAST) on a plain server: two tables that differ only in
 * their replica identity hold ~19 KB incompressible text, jsonb, bytea and varchar values (rows
 * read by the snapshot, inserted through the log, inserted and updated in one transaction), then
 * every row's other column is updated, so each UPDATE leaves the large values unchanged and
 * Postgres sends them only where the replica identity holds them.
 *
 * <ul>
 *   <li>{@code REPLICA IDENTITY FULL}: the old image carries them; the table ends equal to the
 *       source in every column.
 *   <li>{@code DEFAULT} (what most tables have): those updates arrive without the values; each is
 *       quarantined with reason {@code UNAVAILABLE_VALUE} and Debezium's stand-in never reaches the
 *       table (the rows keep their previous version, as docs/sources.md says).
 * </ul>
 */
class ToastValuesITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("toast", "iceberg_catalog");

    private static final String COLUMNS =
            " (id bigint PRIMARY KEY, qty int NOT NULL, big text, js jsonb, bin bytea, vc varchar(30000))";

    /** Values from ~19 KB of md5 text: they stay out of line after compression. */
    private static final String VALUES =
            "SELECT g, 0, b, jsonb_build_object('v', b), decode(b, 'hex'), b "
                    + "FROM (SELECT g, (SELECT string_agg(md5(random()::text || g || i), '') "
                    + "FROM generate_series(1, 600) i) AS b FROM generate_series(%d, %d) g) s";

    @Test
    void unchangedOutOfLineValuesAreTheSourcesOrQuarantined() throws Exception {
        PipelineConfig config = pipeline();
        TableIdentifier full = TableIdentifier.of("toast", "docs_full");
        TableIdentifier plain = TableIdentifier.of("toast", "docs_default");
        try (Connection source = DATABASE.get().connect("toast");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE public.docs_full" + COLUMNS);
            sql.execute("ALTER TABLE public.docs_full REPLICA IDENTITY FULL");
            sql.execute("CREATE TABLE public.docs_default" + COLUMNS);
            for (String table : List.of("docs_full", "docs_default")) {
                sql.execute("INSERT INTO public." + table + " " + String.format(VALUES, 1, 20));
            }
            assertThat(outOfLineBytes(sql, "docs_default")).isGreaterThan(20 * 10_000L);

            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                GroundTruth.awaitFirstCommit(job, catalog, full, plain);
                for (String table : List.of("docs_full", "docs_default")) {
                    // through the log
                    sql.execute(
                            "INSERT INTO public." + table + " " + String.format(VALUES, 21, 40));
                    // inserted and updated in one transaction
                    source.setAutoCommit(false);
                    sql.execute(
                            "INSERT INTO public." + table + " " + String.format(VALUES, 41, 41));
                    sql.execute("UPDATE public." + table + " SET qty = 7 WHERE id = 41");
                    source.commit();
                    source.setAutoCommit(true);
                    // every row: the large values unchanged
                    sql.execute("UPDATE public." + table + " SET qty = qty + 1");
                    sql.execute("DELETE FROM public." + table + " WHERE id = 5");
                }

                GroundTruth.awaitEqual(
                        job,
                        source,
                        catalog,
                        Map.of("public.docs_full", full),
                        Duration.ofMinutes(2));
                // docs_default's 42 updates (one in the inserting transaction, then all 41
                // rows) arrived without the large values
                Awaitility.await("the default-identity table's updates quarantined")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    return unavailable(catalog, "public.docs_default") >= 42;
                                });
                assertThat(unavailable(catalog, "public.docs_default")).isEqualTo(42);
                assertThat(unavailable(catalog, "public.docs_full")).isZero();
                for (TableIdentifier target : List.of(full, plain)) {
                    assertThat(standIns(catalog.loadTable(target)))
                            .as("stand-ins in %s", target)
                            .isZero();
                }
                // the quarantined updates left their rows at the previous version; the delete
                // and the inserts applied. The delete is the last transaction, committed at a
                // checkpoint of its own after the quarantined updates: wait for it.
                Awaitility.await("docs_default's delete of id 5 committed")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    return defaultDiff(source, catalog, plain).extra() == 0;
                                });
                DiffReport report = defaultDiff(source, catalog, plain);
                assertThat(report.missing()).isZero();
                assertThat(report.extra()).isZero();
                assertThat(report.duplicate()).isZero();
                assertThat(report.stale()).isEqualTo(40);
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("toast", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    private static PipelineConfig pipeline() throws Exception {
        return TestPipelines.fromResource("toast.yaml", DATABASE.get(), DATABASE.dir(), "toast-it");
    }

    private static DiffReport defaultDiff(Connection source, Catalog catalog, TableIdentifier plain)
            throws Exception {
        return GroundTruth.diff(source, catalog, Map.of("public.docs_default", plain)).get(0);
    }

    private static long outOfLineBytes(Statement sql, String table) throws Exception {
        try (ResultSet rs =
                sql.executeQuery(
                        "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = '"
                                + table
                                + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Quarantined changes of {@code sourceTable} with reason UNAVAILABLE_VALUE. */
    private static long unavailable(Catalog catalog, String sourceTable) throws Exception {
        TableIdentifier quarantine =
                QuarantineTable.unrouted(TableIdentifier.of("toast", "docs_full"));
        if (!catalog.tableExists(quarantine)) {
            return 0;
        }
        Table table = catalog.loadTable(quarantine);
        table.refresh();
        long count = 0;
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
            for (Record row : rows) {
                if (sourceTable.equals(row.getField("source_table"))
                        && "UNAVAILABLE_VALUE".equals(row.getField("reasons"))) {
                    count++;
                }
            }
        }
        return count;
    }

    /** Values of the table that are Debezium's stand-in for an unsent value. */
    private static long standIns(Table table) throws Exception {
        table.refresh();
        byte[] standIn = DebeziumDecoder.UNAVAILABLE.getBytes(StandardCharsets.UTF_8);
        long count = 0;
        try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
            for (Record row : rows) {
                for (Types.NestedField field : table.schema().columns()) {
                    Object value = row.getField(field.name());
                    if (DebeziumDecoder.UNAVAILABLE.equals(value)
                            || (value instanceof ByteBuffer
                                    && ByteBuffer.wrap(standIn).equals(value))) {
                        count++;
                    }
                }
            }
        }
        return count;
    }
}
