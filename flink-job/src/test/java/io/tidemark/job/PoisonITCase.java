package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import io.tidemark.cli.Tidemark;
import io.tidemark.commit.CommitListener;
import io.tidemark.commit.TidemarkCommitter;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfigLoader;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.decode.DebeziumDecoder;
import io.tidemark.runtime.RunContext;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.source.ChangeEventDeserializer;
import io.tidemark.source.PostgresCdcSource;
import io.tidemark.testing.CliOutput;
import io.tidemark.testing.CommitHistory;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Field;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Schema;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;
import org.apache.flink.cdc.debezium.DebeziumDeserializationSchema;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;
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
 * Poison records against a table contract, on a real PostgreSQL source: the contract is narrower
 * than the source table (an {@code int} for a {@code bigint} column, a required column the source
 * lets be null, allowed values, a maximum length, a pattern, a timestamp range), so the database
 * accepts rows the contract refuses. Seven kinds of bad rows, plus rows whose change arrives
 * damaged ({@link CorruptingDeserializer}: a broken envelope, a missing column, a null key) and
 * changes of a table the pipeline does not capture (the source reads {@code public.ghosts} too),
 * 100 each, are mixed into 50,000 valid changes (during the snapshot and in the log), and the job
 * is made to fail twice inside commits while bad rows are in flight.
 *
 * <p>The quarantine table must hold exactly the bad rows (none missing, none twice, each with its
 * reasons), the target must equal the source minus the bad rows, every checkpoint must be committed
 * once, and the only restarts must be the injected ones: a poison record never stops the job.
 */
class PoisonITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("iceberg_catalog");

    private static final String PIPELINE = "poison-it";
    private static final int SEEDED = 20_000;
    private static final long BAD_FROM = 1_000_000;
    private static final int PER_KIND = 100;

    /** The bad kinds: what is wrong with the row (as SQL values), and the reasons expected. */
    private enum Kind {
        TOO_LONG("'ABC-1234567890123'", "'new'", "1", "'2026-01-01'", "'n'", "TOO_LONG"),
        NOT_ALLOWED("'ABC-1'", "'lost'", "1", "'2026-01-01'", "'n'", "NOT_ALLOWED_VALUE"),
        OLD_TIMESTAMP("'ABC-1'", "'new'", "1", "'1970-01-01'", "'n'", "OUT_OF_RANGE"),
        NULL_REQUIRED("'ABC-1'", "'new'", "1", "'2026-01-01'", "NULL", "NOT_NULL"),
        TOO_BIG_FOR_INT("'ABC-1'", "'new'", "5000000000", "'2026-01-01'", "'n'", "WRONG_TYPE"),
        BAD_PATTERN("'abc_1'", "'new'", "1", "'2026-01-01'", "'n'", "PATTERN_MISMATCH"),
        /** A valid row whose change envelope {@link CorruptingDeserializer} breaks. */
        CORRUPT_ENVELOPE("'ABC-1'", "'new'", "1", "'2026-01-01'", "'corrupt'", "CORRUPT_ENVELOPE"),
        /** A valid row whose change arrives without its {@code note} column. */
        MISSING_COLUMN("'ABC-1'", "'new'", "1", "'2026-01-01'", "'missing'", "MISSING_COLUMN"),
        /** A valid row whose change arrives with a null key (its id moves into {@code note}). */
        NULL_KEY("'ABC-1'", "'new'", "1", "'2026-01-01'", "'nullkey'", "NULL_KEY"),
        SEVERAL(
                "'abc_1234567890123'",
                "'lost'",
                "5000000000",
                "'1970-01-01'",
                "NULL",
                "PATTERN_MISMATCH,TOO_LONG,NOT_ALLOWED_VALUE,WRONG_TYPE,OUT_OF_RANGE,NOT_NULL");

        final String sku;
        final String status;
        final String qty;
        final String orderedAt;
        final String note;
        final String reasons;

        Kind(String sku, String status, String qty, String orderedAt, String note, String reasons) {
            this.sku = sku;
            this.status = status;
            this.qty = qty;
            this.orderedAt = orderedAt;
            this.note = note;
            this.reasons = reasons;
        }
    }

    static final String CONTRACT =
            """
            table: public.items
            version: 1
            columns:
              - {name: id, type: long, nullable: false}
              - {name: sku, type: string, nullable: false}
              - {name: status, type: string}
              - {name: qty, type: int}
              - {name: ordered_at, type: timestamp}
              - {name: note, type: string, nullable: false}
            primary-key: [id]
            schema-evolution: quarantine
            constraints:
              - {column: sku, max-length: 12, pattern: '[A-Z]{3}-[0-9]+'}
              - {column: status, allowed-values: [new, paid, shipped]}
              - {column: ordered_at, range: {min: '2000-01-01T00:00:00'}}
            """;

    /**
     * Tidemark's deserializer behind one that damages changes by the note of their row, as a broken
     * or foreign producer would deliver them: {@code corrupt}, the envelope's operation becomes
     * {@code ?}; {@code missing}, the row image loses its {@code note} column; {@code nullkey}, the
     * key column becomes null (the id goes into {@code note} so the test can find the row).
     */
    static final class CorruptingDeserializer
            implements DebeziumDeserializationSchema<ChangeEvent> {
        private static final long serialVersionUID = 1L;
        private final ChangeEventDeserializer inner;

        CorruptingDeserializer(ChangeEventDeserializer inner) {
            this.inner = inner;
        }

        @Override
        public void deserialize(SourceRecord record, Collector<ChangeEvent> out) throws Exception {
            if (record.value() instanceof Struct value
                    && value.schema().field("after") != null
                    && value.getStruct("after") != null
                    && value.getStruct("after").schema().field("note") != null) {
                Object note = value.getStruct("after").get("note");
                Struct broken = null;
                if ("corrupt".equals(note)) {
                    broken = new Struct(value.schema());
                    for (Field field : value.schema().fields()) {
                        broken.put(field, value.get(field));
                    }
                    broken.put("op", "?");
                } else if ("missing".equals(note) || "nullkey".equals(note)) {
                    broken = withAfter(value, (String) note);
                }
                if (broken != null) {
                    record =
                            record.newRecord(
                                    record.topic(),
                                    record.kafkaPartition(),
                                    record.keySchema(),
                                    record.key(),
                                    broken.schema(),
                                    broken,
                                    record.timestamp());
                }
            }
            inner.deserialize(record, out);
        }

        /** The envelope with its after image rebuilt: without note, or with a null id. */
        private static Struct withAfter(Struct value, String how) {
            Struct after = value.getStruct("after");
            SchemaBuilder rowSchema = SchemaBuilder.struct().name(after.schema().name()).optional();
            for (Field field : after.schema().fields()) {
                if (how.equals("missing") && field.name().equals("note")) {
                    continue;
                }
                rowSchema.field(
                        field.name(),
                        how.equals("nullkey") && field.name().equals("id")
                                ? Schema.OPTIONAL_INT64_SCHEMA
                                : field.schema());
            }
            Schema row = rowSchema.build();
            Struct image = new Struct(row);
            for (Field field : row.fields()) {
                image.put(field.name(), after.get(field.name()));
            }
            if (how.equals("nullkey")) {
                image.put("id", null);
                image.put("note", "nullkey-" + after.get("id"));
            }
            SchemaBuilder envelope = SchemaBuilder.struct().name(value.schema().name());
            for (Field field : value.schema().fields()) {
                envelope.field(field.name(), field.name().equals("after") ? row : field.schema());
            }
            Schema envelopeSchema = envelope.build();
            Struct broken = new Struct(envelopeSchema);
            for (Field field : envelopeSchema.fields()) {
                broken.put(
                        field.name(),
                        field.name().equals("after") ? image : value.get(field.name()));
            }
            return broken;
        }

        @Override
        public TypeInformation<ChangeEvent> getProducedType() {
            return inner.getProducedType();
        }
    }

    /**
     * The pipeline's source, capturing one more table than the pipeline file names ({@code
     * public.ghosts}: changes for a table the pipeline does not know) through {@link
     * CorruptingDeserializer}.
     */
    private static TidemarkJob.ChangeSource poisonedSource(PipelineConfig config) {
        return (env, primaryKeys, watermarks) -> {
            SourceConfig source = config.sources().get(0);
            return env.fromSource(
                            PostgresCdcSource.create(
                                    source,
                                    List.of("public.items", "public.ghosts"),
                                    new CorruptingDeserializer(
                                            new ChangeEventDeserializer(
                                                    new DebeziumDecoder(
                                                            source.id(), primaryKeys)))),
                            watermarks,
                            "postgres-cdc-" + source.id(),
                            ChangeEventTypeInfo.INSTANCE)
                    .uid(Uids.source(source.id()))
                    .name("source: postgres-cdc " + source.id() + " (poisoned)");
        };
    }

    /** Fails the next commit of the target once each time the test arms it: one restart each. */
    static final class ArmedFailure implements CommitListener {
        private static final long serialVersionUID = 1L;
        static final AtomicBoolean ARMED = new AtomicBoolean();
        static final AtomicInteger FIRED = new AtomicInteger();

        @Override
        public void beforeCommit(String table, long checkpointId) {
            if (table.endsWith(".items") && ARMED.compareAndSet(true, false)) {
                throw new IllegalStateException("injected restart " + FIRED.incrementAndGet());
            }
        }

        /** Arms one failure and waits until a commit hit it. */
        static void restartOnce() {
            int before = FIRED.get();
            ARMED.set(true);
            Awaitility.await("injected restart " + (before + 1))
                    .atMost(Duration.ofMinutes(2))
                    .until(() -> FIRED.get() > before);
        }
    }

    @Test
    void badRecordsAreQuarantinedExactlyOnceAndNeverStopTheJob() throws Exception {
        Path dir = DATABASE.dir();
        Path contracts = dir.resolve("contracts");
        Files.createDirectories(contracts.resolve("public.items"));
        Files.writeString(contracts.resolve("public.items/v1.yaml"), CONTRACT);
        DATABASE.get().createDatabase("poison_src");
        Path file =
                PipelineYaml.postgres(DATABASE.get(), "poison_src", dir, PIPELINE)
                        .set("pipeline.parallelism", 2)
                        .set("checkpoint.dir", dir.resolve("checkpoints-poison").toUri().toString())
                        .set("source.slot.name", "poison_slot")
                        .set("source.scan.incremental.snapshot.chunk.size", 4000)
                        .set("contracts.dir", contracts.toString())
                        .table("public.items", "poison.items", "contract", 1)
                        .write(dir);
        PipelineConfig config = new PipelineConfigLoader().load(file);
        TableIdentifier target = TableIdentifier.of("poison", "items");
        TableIdentifier quarantine = QuarantineTable.of(target);
        TableIdentifier unrouted = QuarantineTable.unrouted(target);
        try (Connection source = DATABASE.get().connect("poison_src");
                Statement sql = source.createStatement()) {
            sql.execute(
                    "CREATE TABLE public.items (id bigint PRIMARY KEY, sku text NOT NULL, status text,"
                            + " qty bigint, ordered_at timestamp, note text)");
            sql.execute("ALTER TABLE public.items REPLICA IDENTITY FULL");
            sql.execute("CREATE TABLE public.ghosts (id bigint PRIMARY KEY, what text)");
            insertGhosts(sql, 1, PER_KIND / 2);
            sql.execute(
                    "INSERT INTO public.items SELECT g, 'SKU-' || g, 'new', g % 50, "
                            + "TIMESTAMP '2026-01-01' + g * INTERVAL '1 minute', 'n' || g "
                            + "FROM generate_series(1, "
                            + SEEDED
                            + ") g");
            // the ground truth: the source without the bad rows
            sql.execute(
                    "CREATE VIEW public.items_valid AS SELECT * FROM public.items WHERE id < "
                            + BAD_FROM);
            long nextBad = BAD_FROM;
            // half of every kind before the start: read by the snapshot
            nextBad = insertBad(sql, nextBad, PER_KIND / 2);

            Catalog catalog = TestPipelines.catalog(config);
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(PIPELINE, "poison-run"),
                            new ArmedFailure(),
                            null,
                            poisonedSource(config));
            try {
                // the publication Tidemark prepared names the pipeline's tables only; the log
                // carries the ghosts' changes from here on
                sql.execute(
                        "ALTER PUBLICATION "
                                + config.sources().get(0).publication()
                                + " ADD TABLE public.ghosts");
                // 30,000 valid changes in the log, the other half of the bad rows between them
                for (int round = 0; round < 6; round++) {
                    sql.execute(
                            "UPDATE public.items SET qty = (qty + 1) % 50, status = 'paid' WHERE id < "
                                    + BAD_FROM
                                    + " AND id % 6 = "
                                    + round);
                    if (round == 1 || round == 4) {
                        nextBad = insertBad(sql, nextBad, PER_KIND / 4);
                        insertGhosts(sql, round == 1 ? 51 : 76, PER_KIND / 4);
                        // a failure inside the commit of these changes: the job restarts
                        ArmedFailure.restartOnce();
                    }
                    sql.execute(
                            "INSERT INTO public.items SELECT g, 'NEW-' || g, 'shipped', 1,"
                                    + " TIMESTAMP '2030-01-01', 'x' FROM generate_series("
                                    + (SEEDED + 1 + round * 1_000)
                                    + ", "
                                    + (SEEDED + (round + 1) * 1_000)
                                    + ") g");
                    sql.execute(
                            "DELETE FROM public.items WHERE id BETWEEN "
                                    + (round * 600 + 1)
                                    + " AND "
                                    + (round * 600 + 600));
                }
                assertThat(nextBad - BAD_FROM).isEqualTo((long) PER_KIND * Kind.values().length);

                Map<String, TableIdentifier> truth = Map.of("public.items_valid", target);
                GroundTruth.awaitEqual(job, source, catalog, truth, Duration.ofMinutes(4));
                Awaitility.await("every bad row in quarantine")
                        .atMost(Duration.ofMinutes(2))
                        .until(
                                () -> {
                                    GroundTruth.assertJobRunning(job);
                                    return quarantined(catalog.loadTable(quarantine)).size()
                                                    >= PER_KIND * Kind.values().length
                                            && quarantined(catalog.loadTable(unrouted)).size()
                                                    >= PER_KIND;
                                });
                assertThat(ArmedFailure.FIRED.get()).as("injected restarts").isEqualTo(2);
                List<String> failures = TestClusters.exceptionHistory(MINI_CLUSTER, job);
                assertThat(failures)
                        .as(
                                "the job's failovers: the injected ones only, none from a poison record")
                        .hasSize(2)
                        .allSatisfy(f -> assertThat(f).contains("injected restart"));

                // the quarantine table: each bad row once, with its reasons, nothing else
                Map<Long, List<Record>> rows = quarantined(catalog.loadTable(quarantine));
                assertThat(rows).hasSize(PER_KIND * Kind.values().length);
                for (Map.Entry<Long, List<Record>> entry : rows.entrySet()) {
                    long id = entry.getKey();
                    assertThat(entry.getValue()).as("quarantined rows of key %s", id).hasSize(1);
                    Record row = entry.getValue().get(0);
                    Kind kind = Kind.values()[(int) ((id - BAD_FROM) % Kind.values().length)];
                    assertThat(row.getField("reasons").toString().split(","))
                            .as("reasons of key %s (%s)", id, kind)
                            .containsExactlyInAnyOrder(kind.reasons.split(","));
                    assertThat(row.getField("contract")).isEqualTo("public.items v1");
                    assertThat(row.getField("contract_version")).isEqualTo(1);
                    assertThat(row.getField("details").toString()).doesNotContain("lost");
                    assertThat(row.getField("payload").toString())
                            .contains(
                                    kind == Kind.CORRUPT_ENVELOPE
                                            ? "after=Struct{id=" + id + ","
                                            : kind == Kind.NULL_KEY
                                                    ? "\"note\":\"nullkey-" + id + "\""
                                                    : "\"id\":" + id);
                    if (kind == Kind.CORRUPT_ENVELOPE) {
                        assertThat(row.getField("operation")).isEqualTo("MALFORMED");
                    } else {
                        assertThat(row.getField("operation")).isIn("READ", "INSERT");
                    }
                }
                // changes of the table the pipeline does not capture: each once, in the
                // pipeline's unrouted quarantine table
                Map<Long, List<Record>> ghosts = quarantined(catalog.loadTable(unrouted));
                assertThat(ghosts.keySet())
                        .containsExactlyInAnyOrderElementsOf(
                                java.util.stream.LongStream.rangeClosed(1, PER_KIND)
                                        .boxed()
                                        .toList());
                for (List<Record> ghost : ghosts.values()) {
                    assertThat(ghost).hasSize(1);
                    assertThat(ghost.get(0).getField("source_table")).isEqualTo("public.ghosts");
                    assertThat(ghost.get(0).getField("reasons")).isEqualTo("UNKNOWN_TABLE");
                    assertThat(ghost.get(0).getField("contract")).isEqualTo("none");
                }
                CommitHistory.assertEachCheckpointOnce(catalog.loadTable(unrouted), PIPELINE);
                // the quarantine command counts them by table, contract and reason
                String printed = printed("quarantine", "--config", file.toString(), "--list", "2");
                assertThat(printed)
                        .contains(
                                "poison.items__quarantine: 1000 quarantined change(s) {public.items v1=1000}")
                        .containsPattern("CORRUPT_ENVELOPE +100\n")
                        .containsPattern("MISSING_COLUMN +100\n")
                        .containsPattern("NULL_KEY +100\n")
                        .containsPattern("NOT_ALLOWED_VALUE +200\n")
                        .containsPattern("NOT_NULL +200\n")
                        .containsPattern("OUT_OF_RANGE +200\n")
                        .containsPattern("PATTERN_MISMATCH +200\n")
                        .containsPattern("TOO_LONG +200\n")
                        .containsPattern("WRONG_TYPE +200\n")
                        .contains(
                                "poison.tidemark_unrouted__quarantine: 100 quarantined change(s) {none=100}")
                        .containsPattern("UNKNOWN_TABLE +100\n")
                        .doesNotContain("payload");
                // the same as one JSON document, for scripts
                CliOutput asJson =
                        CliOutput.run(
                                "quarantine",
                                "--config",
                                file.toString(),
                                "--list",
                                "2",
                                "--output",
                                "json");
                assertThat(asJson.exitCode()).isZero();
                com.fasterxml.jackson.databind.JsonNode json =
                        new com.fasterxml.jackson.databind.ObjectMapper().readTree(asJson.json());
                com.fasterxml.jackson.databind.JsonNode items =
                        json.path("tables").path("poison.items__quarantine");
                assertThat(items.path("total").asLong()).isEqualTo(1000);
                assertThat(items.path("byReason").path("WRONG_TYPE").asLong()).isEqualTo(200);
                assertThat(items.path("newest")).hasSize(2);
                assertThat(items.path("newest").get(0).has("payload")).isFalse();
                assertThat(
                                json.path("tables")
                                        .path("poison.tidemark_unrouted__quarantine")
                                        .path("byReason")
                                        .path("UNKNOWN_TABLE")
                                        .asLong())
                        .isEqualTo(100);
                // the job itself checked that in = passed + quarantined, per checkpoint
                Awaitility.await("checkpoints the committer found to add up")
                        .atMost(Duration.ofMinutes(1))
                        .until(
                                () ->
                                        job.getAccumulators()
                                                                .get()
                                                                .get(
                                                                        TidemarkCommitter
                                                                                .CHECKPOINTS_VERIFIED)
                                                        instanceof Long verified
                                                && verified > 0);
                // exactly once, with the counts in the commits
                CommitHistory.assertEachCheckpointOnce(catalog.loadTable(target), PIPELINE);
                CommitHistory.assertEachCheckpointOnce(catalog.loadTable(quarantine), PIPELINE);
                long counted = 0;
                for (Snapshot snapshot : catalog.loadTable(quarantine).snapshots()) {
                    counted += Long.parseLong(snapshot.summary().get(Provenance.ROWS_QUARANTINED));
                    assertThat(snapshot.summary()).containsEntry(Provenance.CONTRACT_VERSION, "1");
                }
                assertThat(counted).isEqualTo((long) PER_KIND * Kind.values().length);
                assertThat(catalog.loadTable(target).currentSnapshot().summary())
                        .containsEntry(Provenance.CONTRACT_VERSION, "1");
                DiffReport report =
                        GroundTruthDiff.diff(
                                source, "public.items_valid", catalog.loadTable(target));
                assertThat(report.isClean()).as(report.summary()).isTrue();
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("poison_src", "poison_slot");
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
    }

    /** What a command of the command line printed; it must succeed. */
    private static String printed(String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            assertThat(Tidemark.execute(args)).as(String.join(" ", args)).isZero();
        } finally {
            System.setOut(out);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }

    /** Inserts {@code perKind} rows of every bad kind, keys from {@code next}; the next key. */
    private static long insertBad(Statement sql, long next, int perKind) throws Exception {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < perKind; i++) {
            for (Kind kind : Kind.values()) {
                long id = next++;
                // keys cycle through the kinds in declaration order
                Kind expected = Kind.values()[(int) ((id - BAD_FROM) % Kind.values().length)];
                assertThat(expected).isEqualTo(kind);
                values.add(
                        "("
                                + id
                                + ", "
                                + kind.sku
                                + ", "
                                + kind.status
                                + ", "
                                + kind.qty
                                + ", TIMESTAMP "
                                + kind.orderedAt
                                + ", "
                                + kind.note
                                + ")");
            }
        }
        sql.execute("INSERT INTO public.items VALUES " + String.join(", ", values));
        return next;
    }

    /** Ghost rows {@code from} .. {@code from + count - 1}. */
    private static void insertGhosts(Statement sql, long from, int count) throws Exception {
        sql.execute(
                "INSERT INTO public.ghosts SELECT g, 'boo' FROM generate_series("
                        + from
                        + ", "
                        + (from + count - 1)
                        + ") g");
    }

    private static final Pattern PAYLOAD_ID = Pattern.compile("after=Struct\\{id=(\\d+)");

    private static final Pattern NULL_KEY_ID = Pattern.compile("nullkey-(\\d+)");

    /**
     * The quarantine table's rows by the key they carry; an undecodable change has none, its key is
     * read from its payload.
     */
    private static Map<Long, List<Record>> quarantined(Table table) throws Exception {
        table.refresh();
        Map<Long, List<Record>> rows = new HashMap<>();
        if (table.currentSnapshot() == null) {
            return rows;
        }
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                long id;
                Object key = record.getField("key");
                if (key != null && !key.toString().equals("[null]")) {
                    id = Long.parseLong(key.toString().replaceAll("[\\[\\]\"]", ""));
                } else {
                    Matcher matcher =
                            (key == null ? PAYLOAD_ID : NULL_KEY_ID)
                                    .matcher(record.getField("payload").toString());
                    assertThat(matcher.find()).as("key in %s", record).isTrue();
                    id = Long.parseLong(matcher.group(1));
                }
                rows.computeIfAbsent(id, k -> new ArrayList<>()).add(record.copy());
            }
        }
        return rows;
    }
}
