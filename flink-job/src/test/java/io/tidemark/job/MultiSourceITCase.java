package io.tidemark.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.Catalogs;
import io.tidemark.config.PipelineConfig;
import io.tidemark.runtime.RunContext;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.TableDamage;
import io.tidemark.testing.TestClusters;
import java.io.Closeable;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two shards (two embedded PostgreSQL servers) write one logical table; the pipeline merges them by
 * {@code event-time:updated_at}. Shard B's clock runs 3 s behind, and one of its transactions is
 * held open while shard A keeps writing, so arrival order and the declared order disagree. The
 * Iceberg table must equal the expected merge (computed from the writes by the same rule,
 * materialized as a table and diffed row by row), and the same writes applied in arrival order must
 * end different. Then the table is damaged by hand and re-read from both shards while they write
 * ({@code tidemark resnapshot}): it must end equal to the merge again.
 */
class MultiSourceITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    private static final Duration SHARD_B_SKEW = Duration.ofSeconds(-3);
    private static final int KEYS = 60;

    @TempDir static Path dir;

    private static EmbeddedDatabase shardA;
    private static EmbeddedDatabase shardB;

    @BeforeAll
    static void start() throws Exception {
        shardA = EmbeddedDatabase.start(dir.resolve("shard-a"));
        shardB = EmbeddedDatabase.start(dir.resolve("shard-b"));
        for (EmbeddedDatabase shard : List.of(shardA, shardB)) {
            shard.createDatabase("bank");
            try (Connection c = shard.connect("bank");
                    Statement s = c.createStatement()) {
                s.execute(
                        "CREATE TABLE public.accounts (id bigint PRIMARY KEY, owner text NOT NULL, "
                                + "balance numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL)");
                s.execute("ALTER TABLE public.accounts REPLICA IDENTITY FULL");
            }
        }
        shardA.createDatabase("iceberg_catalog");
        shardA.createDatabase("truth");
    }

    @AfterAll
    static void stop() throws Exception {
        for (EmbeddedDatabase shard : new EmbeddedDatabase[] {shardA, shardB}) {
            if (shard != null) {
                shard.close();
            }
        }
    }

    /**
     * One committed write: which shard (rank), its order there, and the row after (null: delete).
     */
    record Write(
            int shard,
            long shardSeq,
            long commitOrder,
            long id,
            String owner,
            BigDecimal balance,
            Instant updatedAt,
            boolean delete) {}

    /** Writes to one shard and records them. */
    static final class Shard {
        final int rank;
        final Connection connection;
        final Duration skew;
        final Map<Long, Write> rows = new HashMap<>();
        long seq;

        Shard(int rank, Connection connection, Duration skew) {
            this.rank = rank;
            this.connection = connection;
            this.skew = skew;
        }

        Instant clock() {
            return Instant.now().plus(skew).truncatedTo(ChronoUnit.MICROS);
        }
    }

    private final List<Write> history = new ArrayList<>();
    private long commits;

    private Write write(Shard shard, long id, Random random, boolean deletes) throws Exception {
        Write current = shard.rows.get(id);
        Write write;
        if (deletes && current != null && random.nextInt(5) == 0) {
            write = delete(shard, id);
        } else {
            Instant at = shard.clock();
            String owner = "owner-" + shard.rank + "-" + random.nextInt(1000);
            BigDecimal balance = BigDecimal.valueOf(random.nextInt(1_000_000), 2);
            try (PreparedStatement p =
                    shard.connection.prepareStatement(
                            "INSERT INTO public.accounts VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE "
                                    + "SET owner = EXCLUDED.owner, balance = EXCLUDED.balance, updated_at = EXCLUDED.updated_at")) {
                p.setLong(1, id);
                p.setString(2, owner);
                p.setBigDecimal(3, balance);
                p.setObject(4, at.atOffset(ZoneOffset.UTC));
                p.executeUpdate();
            }
            write = new Write(shard.rank, ++shard.seq, 0, id, owner, balance, at, false);
            shard.rows.put(id, write);
        }
        return write;
    }

    /** Deletes the row {@code id} that {@code shard} holds. */
    private static Write delete(Shard shard, long id) throws Exception {
        Write current = shard.rows.remove(id);
        try (PreparedStatement p =
                shard.connection.prepareStatement("DELETE FROM public.accounts WHERE id = ?")) {
            p.setLong(1, id);
            p.executeUpdate();
        }
        // a delete is ordered by its before image: the row's last updated_at
        return new Write(shard.rank, ++shard.seq, 0, id, null, null, current.updatedAt(), true);
    }

    private void committed(List<Write> writes) {
        for (Write w : writes) {
            history.add(
                    new Write(
                            w.shard(),
                            w.shardSeq(),
                            ++commits,
                            w.id(),
                            w.owner(),
                            w.balance(),
                            w.updatedAt(),
                            w.delete()));
        }
    }

    private void workload(Shard a, Shard b, Random random, int steps, boolean deletes)
            throws Exception {
        for (int i = 0; i < steps; i++) {
            Shard shard = random.nextBoolean() ? a : b;
            committed(List.of(write(shard, 1 + random.nextInt(KEYS), random, deletes)));
        }
        // delayed delivery: a transaction on shard B stays open while shard A writes the same keys
        b.connection.setAutoCommit(false);
        List<Write> held = new ArrayList<>();
        for (long id = 1; id <= 10; id++) {
            held.add(write(b, id, random, deletes));
        }
        for (long id = 1; id <= 10; id++) {
            committed(List.of(write(a, id, random, deletes)));
        }
        b.connection.commit();
        b.connection.setAutoCommit(true);
        committed(held);
    }

    /** The expected table: per key the newest write by (updated_at, shard rank, shard order). */
    static Map<Long, Write> merge(List<Write> writes) {
        Map<Long, Write> newest = new HashMap<>();
        Comparator<Write> rule =
                Comparator.comparing(Write::updatedAt)
                        .thenComparingInt(Write::shard)
                        .thenComparingLong(Write::shardSeq);
        for (Write w : writes) {
            newest.merge(w.id(), w, (x, y) -> rule.compare(x, y) >= 0 ? x : y);
        }
        newest.values().removeIf(Write::delete);
        return newest;
    }

    /** What an upsert sink that applies changes in arrival (commit) order ends with. */
    static Map<Long, Write> arrivalOrder(List<Write> writes) {
        Map<Long, Write> table = new HashMap<>();
        writes.stream()
                .sorted(Comparator.comparingLong(Write::commitOrder))
                .forEach(
                        w -> {
                            if (w.delete()) {
                                table.remove(w.id());
                            } else {
                                table.put(w.id(), w);
                            }
                        });
        return table;
    }

    private static PipelineYaml pipeline(Path dir) {
        return PipelineYaml.postgres(shardA, "bank", dir, "it-shards")
                .set("pipeline.parallelism", 2)
                .set("checkpoint.dir", null)
                .set("source", null)
                .set("sources", List.of(shard("shard_a", shardA), shard("shard_b", shardB)))
                .table("public.accounts", "bank.accounts", "ordering", "event-time:updated_at");
    }

    private static Map<String, Object> shard(String id, EmbeddedDatabase server) {
        Map<String, Object> source = new java.util.LinkedHashMap<>();
        source.put("id", id);
        source.put("type", "postgres");
        source.put("hostname", "127.0.0.1");
        source.put("port", server.port());
        source.put("database", "bank");
        source.put("username", "postgres");
        // a re-snapshot slow enough for the shards to write while it reads
        source.put("resnapshot", Map.of("rows-per-second", 40, "poll-interval", "1s"));
        return source;
    }

    @Test
    void mergesTwoShardsByTheDeclaredRuleNotByArrival() throws Exception {
        Random random = new Random(2026);
        try (Connection a = shardA.connect("bank");
                Connection b = shardB.connect("bank");
                Connection truth = shardA.connect("truth")) {
            Shard shardWriterA = new Shard(0, a, Duration.ZERO);
            Shard shardWriterB = new Shard(1, b, SHARD_B_SKEW);
            // before the start, upserts only: a delete before capture leaves no tombstone to merge
            workload(shardWriterA, shardWriterB, random, 300, false);

            PipelineYaml yaml = pipeline(dir);
            PipelineConfig config = yaml.config();
            RunContext run = RunContext.start(config.pipelineId(), null);
            List<TidemarkJob.ResolvedTable> tables = JobPreparation.prepare(config);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(
                            TidemarkJob.flinkConfiguration(config));
            TidemarkJob.assemble(env, config, run, tables, SourceStage.cdc(config));
            JobClient job = env.executeAsync(config.jobName());
            Catalog catalog =
                    Catalogs.load(
                            config.catalogName(),
                            config.catalogProperties(),
                            new org.apache.hadoop.conf.Configuration());
            try {
                // the snapshots of both shards merge by the rule
                materialize(truth, merge(history));
                awaitMerged(job, truth, catalog);

                // then the logs: upserts, deletes and a held transaction on the skewed shard
                workload(shardWriterA, shardWriterB, random, 400, true);

                Map<Long, Write> expected = merge(history);
                Map<Long, Write> byArrival = arrivalOrder(history);
                long wrongByArrival =
                        java.util.stream.LongStream.rangeClosed(1, KEYS)
                                .filter(
                                        id ->
                                                !Objects.equals(
                                                        rowOf(expected.get(id)),
                                                        rowOf(byArrival.get(id))))
                                .count();
                assertThat(wrongByArrival)
                        .as(
                                "keys on which arrival-order upsert ends different from the declared merge")
                        .isPositive();

                materialize(truth, expected);

                awaitMerged(job, truth, catalog);

                rereadsTheDamagedMergeFromBothShards(
                        yaml.write(dir), catalog, shardWriterA, shardWriterB, random);
                materialize(truth, merge(history));
                awaitMerged(job, truth, catalog);
            } finally {
                GroundTruth.cancel(job);
                shardA.dropSlot("bank", config.sources().get(0).slotName());
                shardB.dropSlot("bank", config.sources().get(1).slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    /**
     * Damages the table by hand (keys deleted, altered, added: {@link TableDamage}) and re-reads it
     * with {@code tidemark resnapshot} while both shards write; the re-read is done once both
     * shards' parts are, and records each.
     */
    private void rereadsTheDamagedMergeFromBothShards(
            Path file, Catalog catalog, Shard a, Shard b, Random random) throws Exception {
        TableIdentifier id = TableIdentifier.of("bank", "accounts");
        // keys whose newest version is shard A's and which shard B no longer holds: B's re-read
        // finds them missing, and must not delete A's row (B ranks after A: at equal event times
        // its changes win)
        for (long key = 40; key <= 45; key++) {
            committed(List.of(write(a, key, random, false)));
            if (b.rows.containsKey(key)) {
                committed(List.of(delete(b, key)));
            }
        }
        TableDamage.corrupt(
                catalog.loadTable(id),
                0,
                (schema, key, v, n) -> {
                    org.apache.iceberg.data.GenericRecord row =
                            org.apache.iceberg.data.GenericRecord.create(schema);
                    row.setField("id", key);
                    row.setField("owner", "damaged " + v);
                    row.setField("balance", BigDecimal.valueOf(n, 2));
                    row.setField("updated_at", OffsetDateTime.parse("2020-01-01T00:00:00Z"));
                    return row;
                });
        java.util.concurrent.CompletableFuture<Integer> resnapshot =
                java.util.concurrent.CompletableFuture.supplyAsync(
                        () ->
                                io.tidemark.cli.Tidemark.execute(
                                        "resnapshot",
                                        "--config",
                                        file.toString(),
                                        "--table",
                                        "bank.accounts",
                                        "--wait",
                                        "3m"));
        int writes = 0;
        int whileReading = 0;
        while (!resnapshot.isDone() || writes < 50) {
            whileReading += resnapshot.isDone() ? 0 : 1;
            // keys 1..15 only: the others end right only if the re-read puts them right
            Shard shard = random.nextBoolean() ? a : b;
            committed(List.of(write(shard, 1 + random.nextInt(15), random, true)));
            writes++;
        }
        assertThat(resnapshot.get()).as("tidemark resnapshot --wait of the merged table").isZero();
        org.apache.iceberg.Table table = catalog.loadTable(id);
        String outcome =
                table.properties().get(io.tidemark.source.resnapshot.ResnapshotRequests.COMPLETED);
        assertThat(outcome).matches("\\d+ done: shard_a: done: .*; shard_b: done: .*");
        assertThat(whileReading).as("changes written while the re-snapshot read").isPositive();
    }

    /** Waits until the Iceberg table equals the expected merge materialized in {@code truth}. */
    private static void awaitMerged(JobClient job, Connection truth, Catalog catalog)
            throws Exception {
        GroundTruth.awaitEqual(
                job,
                truth,
                catalog,
                Map.of("public.expected_accounts", TableIdentifier.of("bank", "accounts")),
                Duration.ofMinutes(2));
    }

    /**
     * Writes the expected merge as a table, the ground truth the Iceberg table is diffed against.
     */
    private static void materialize(Connection truth, Map<Long, Write> expected) throws Exception {
        try (Statement s = truth.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public.expected_accounts");
            s.execute(
                    "CREATE TABLE public.expected_accounts (id bigint PRIMARY KEY, owner text NOT NULL, "
                            + "balance numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL)");
        }
        try (PreparedStatement p =
                truth.prepareStatement(
                        "INSERT INTO public.expected_accounts VALUES (?, ?, ?, ?)")) {
            for (Write w : expected.values()) {
                p.setLong(1, w.id());
                p.setString(2, w.owner());
                p.setBigDecimal(3, w.balance());
                p.setObject(4, OffsetDateTime.ofInstant(w.updatedAt(), ZoneOffset.UTC));
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    private static List<Object> rowOf(Write w) {
        return w == null ? null : List.of(w.owner(), w.balance(), w.updatedAt());
    }
}
