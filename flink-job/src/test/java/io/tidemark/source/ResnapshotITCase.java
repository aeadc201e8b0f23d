package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.cli.Tidemark;
import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.source.resnapshot.ResnapshotRequests;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.IcebergFiles;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.io.OutputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 19, re-snapshot one table online: a target table corrupted by hand through Iceberg (50 rows
 * deleted, 30 rows altered, 20 rows the source never had) is re-read with {@code tidemark
 * resnapshot} while a workload changes both tables of the pipeline and the other table keeps
 * committing; the re-read is placed in each key's order (a change made during it is never
 * overwritten), both tables end equal to the source in every column, and the table records the
 * re-snapshot's outcome; its commits name the request. The table's key is text, timestamptz and
 * bigint, declared in another order than its columns. Then {@code tidemark verify --repair} finds
 * the same damage elsewhere and re-reads only the differing key buckets.
 */
class ResnapshotITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("resnap", "iceberg_catalog");

    private static final TableIdentifier ITEMS = TableIdentifier.of("resnap", "items");
    private static final TableIdentifier OTHERS = TableIdentifier.of("resnap", "others");

    /**
     * The {@code at} of key {@code id} is this plus {@code id} seconds; its {@code tag} t(id % 7).
     */
    private static final String AT = "timestamptz '2024-01-01 00:00:00+00'";

    private static final java.time.OffsetDateTime AT_VALUE =
            java.time.OffsetDateTime.parse("2024-01-01T00:00:00Z");

    @Test
    void aCorruptedTableIsReadAgainWhileThePipelineRuns() throws Exception {
        Path file =
                TestPipelines.writeResource(
                        "resnapshot.yaml", DATABASE.get(), DATABASE.dir(), "resnapshot-it");
        PipelineConfig config =
                TestPipelines.fromResource(
                        "resnapshot.yaml", DATABASE.get(), DATABASE.dir(), "resnapshot-it");
        try (Connection source = DATABASE.get().connect("resnap");
                Statement sql = source.createStatement()) {
            // a key of three types, declared in another order than the columns: the re-read's
            // deletes must name each key as the log's changes do
            sql.execute(
                    "CREATE TABLE public.items (id bigint, tag text, at timestamptz, v text, n int,"
                            + " PRIMARY KEY (tag, at, id))");
            sql.execute(
                    "INSERT INTO public.items SELECT g, 't' || (g % 7), "
                            + AT
                            + " + g * interval '1 second', 'v' || g, g FROM generate_series(1, 3000) g");
            sql.execute("CREATE TABLE public.others (id bigint PRIMARY KEY, v text)");
            sql.execute(
                    "INSERT INTO public.others SELECT g, 'o' || g FROM generate_series(1, 1000) g");

            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null);
            Catalog catalog = TestPipelines.catalog(config);
            Map<String, TableIdentifier> tables =
                    Map.of("public.items", ITEMS, "public.others", OTHERS);
            try {
                GroundTruth.awaitEqual(job, source, catalog, tables, Duration.ofMinutes(2));

                corrupt(catalog.loadTable(ITEMS), 0);
                DiffReport broken =
                        GroundTruthDiff.diff(source, "public.items", catalog.loadTable(ITEMS));
                assertThat(broken.missing()).isEqualTo(50);
                assertThat(broken.stale()).isEqualTo(30);
                assertThat(broken.extra()).isEqualTo(20);

                Table others = catalog.loadTable(OTHERS);
                int othersCommits = commits(others);
                try (Workload workload = new Workload()) {
                    int exit = tidemark("resnapshot", file, "resnap.items", "--wait", "3m");
                    assertThat(exit).as("tidemark resnapshot --wait").isZero();
                    assertThat(workload.changes.get())
                            .as("changes made while the table was read again")
                            .isGreaterThan(20);
                }
                others.refresh();
                assertThat(commits(others))
                        .as("the other table kept committing during the re-snapshot")
                        .isGreaterThan(othersCommits);

                GroundTruth.awaitEqual(job, source, catalog, tables, Duration.ofMinutes(2));
                Table items = catalog.loadTable(ITEMS);
                String outcome = items.properties().get(ResnapshotRequests.COMPLETED);
                assertThat(outcome)
                        .matches("\\d+ done: \\d+ rows re-read in \\d+ chunks .*")
                        .contains("keys of the table checked for deletion")
                        .contains("checkpoint ");
                long request = ResnapshotRequests.requested(items);
                assertThat(ResnapshotRequests.completed(items)).isEqualTo(request);
                // the commits that hold the re-read rows name the request in their provenance
                assertThat(items.snapshots())
                        .anyMatch(
                                snapshot ->
                                        Long.toString(request)
                                                .equals(
                                                        snapshot.summary()
                                                                .get(Provenance.RESNAPSHOT)));

                // verify --repair: the same damage elsewhere, repaired by re-reading only the key
                // buckets that differ, while the workload goes on
                corrupt(items, 1000);
                try (Workload workload = new Workload()) {
                    int exit =
                            tidemark(
                                    "verify",
                                    file,
                                    "resnap.items",
                                    "--repair",
                                    "--repair-wait",
                                    "3m");
                    assertThat(exit).as("tidemark verify --repair").isZero();
                }
                items.refresh();
                String repaired = items.properties().get(ResnapshotRequests.COMPLETED);
                assertThat(repaired).contains("buckets)");
                long reread =
                        Long.parseLong(
                                repaired.replaceAll("^\\d+ done: (\\d+) rows re-read.*$", "$1"));
                assertThat(reread)
                        .as("rows re-read: the damaged keys' buckets, not the table (%s)", repaired)
                        .isBetween(20L, 400L);
                GroundTruth.awaitEqual(job, source, catalog, tables, Duration.ofMinutes(2));

                // a table that is not the pipeline's: bad usage, naming the targets
                int refused = tidemark("resnapshot", file, "resnap.nothing");
                assertThat(refused).isEqualTo(Tidemark.EXIT_USAGE);
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("resnap", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    /** Runs a {@code tidemark} command on {@code file} and {@code table}; its exit code. */
    private static int tidemark(String command, Path file, String table, String... options) {
        List<String> args = new ArrayList<>(List.of(command, "--config", file.toString()));
        args.addAll(List.of("--table", table));
        args.addAll(List.of(options));
        return Tidemark.execute(args.toArray(String[]::new));
    }

    private static int commits(Table table) {
        int n = 0;
        for (org.apache.iceberg.Snapshot ignored : table.snapshots()) {
            n++;
        }
        return n;
    }

    /**
     * Through Iceberg, as a stray job or a hand-written fix would: keys 1..80 (plus {@code offset})
     * deleted by equality deletes, keys 51..80 written back with other values, keys 900001..900020
     * added.
     */
    private static void corrupt(Table table, long offset) throws Exception {
        Schema schema = table.schema();
        Schema key = schema.select("id", "tag", "at");
        GenericAppenderFactory factory =
                new GenericAppenderFactory(
                        schema,
                        PartitionSpec.unpartitioned(),
                        schema.identifierFieldIds().stream().mapToInt(Integer::intValue).toArray(),
                        key,
                        null);
        OutputFile deletes =
                table.io()
                        .newOutputFile(
                                table.locationProvider()
                                        .newDataLocation("corrupt-deletes-" + offset + ".parquet"));
        EqualityDeleteWriter<Record> deleteWriter =
                factory.newEqDeleteWriter(
                        EncryptedFiles.plainAsEncryptedOutput(deletes), FileFormat.PARQUET, null);
        try (deleteWriter) {
            for (long id = offset + 1; id <= offset + 80; id++) {
                GenericRecord record = GenericRecord.create(key);
                record.setField("id", id);
                record.setField("tag", "t" + (id % 7));
                record.setField("at", AT_VALUE.plusSeconds(id));
                deleteWriter.write(record);
            }
        }
        DeleteFile deleteFile = deleteWriter.toDeleteFile();
        List<Record> written = new ArrayList<>();
        for (long id = offset + 51; id <= offset + 80; id++) {
            written.add(row(schema, id, "altered by hand", -1));
        }
        for (long id = offset + 900_001; id <= offset + 900_020; id++) {
            written.add(row(schema, id, "never in the source", -1));
        }
        DataFile dataFile = IcebergFiles.parquet(table, written);
        table.newRowDelta().addDeletes(deleteFile).addRows(dataFile).commit();
    }

    private static Record row(Schema schema, long id, String v, int n) {
        GenericRecord record = GenericRecord.create(schema);
        record.setField("id", id);
        record.setField("tag", "t" + (id % 7));
        record.setField("at", AT_VALUE.plusSeconds(id));
        record.setField("v", v);
        record.setField("n", n);
        return record;
    }

    /**
     * Small transactions on both tables every 20 ms (updates of existing keys, new keys, deletes),
     * until closed.
     */
    private static final class Workload implements AutoCloseable {
        final AtomicLong changes = new AtomicLong();
        private final ScheduledExecutorService executor =
                Executors.newSingleThreadScheduledExecutor();
        private final Connection connection;

        Workload() throws Exception {
            connection = DATABASE.get().connect("resnap");
            executor.scheduleAtFixedRate(this::step, 0, 20, TimeUnit.MILLISECONDS);
        }

        private void step() {
            long n = changes.incrementAndGet();
            try (Statement s = connection.createStatement()) {
                s.execute(
                        "UPDATE public.items SET v = 'w"
                                + n
                                + "', n = "
                                + n
                                + " WHERE id = "
                                + (1 + n * 37 % 3000));
                long id = 10_000 + n;
                s.execute(
                        "INSERT INTO public.items VALUES ("
                                + id
                                + ", 't"
                                + (id % 7)
                                + "', "
                                + AT
                                + " + "
                                + id
                                + " * interval '1 second', 'new', 0)");
                s.execute("DELETE FROM public.items WHERE id = " + (100 + n * 13 % 2900));
                s.execute(
                        "UPDATE public.others SET v = 'w"
                                + n
                                + "' WHERE id = "
                                + (1 + n * 7 % 1000));
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() throws Exception {
            executor.shutdown();
            assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            connection.close();
        }
    }
}
