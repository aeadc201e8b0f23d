package io.tidemark.benchmarks.e2e;

import io.tidemark.catalog.Catalogs;
import io.tidemark.testbed.EmbeddedDatabase;
import java.io.Closeable;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.catalog.Catalog;

/**
 * The end-to-end benchmark: on one generated table, in one run, Tidemark's pipeline and the Flink
 * SQL baseline (postgres-cdc into an Iceberg v2 upsert table), each several times, alternating
 * which goes first, and the source's own limits (COPY export, raw logical decoding). Prints
 * progress, writes a Markdown report and PNG charts under the results directory.
 *
 * <pre>
 * ./mvnw -q -Pbench compile -pl benchmarks -am -Dbench.args="--preset quick"
 * </pre>
 */
public final class CdcBenchmark {

    private CdcBenchmark() {}

    /** Both sides' runs and the source's limits, per repetition. */
    public record Result(
            BenchSettings settings,
            List<RunFigures> runs,
            List<ShardFigures> shardRuns,
            List<Double> copyRates,
            List<Double> rawDecodingRates,
            Path report) {}

    public static void main(String[] args) throws Exception {
        String preset = "default";
        Integer rows = null;
        Integer changes = null;
        Integer backlog = null;
        Integer repetitions = null;
        Integer chunkSize = null;
        Path work = Path.of("target", "bench");
        Path results = Path.of("results");
        String only = null;
        String variant = null;
        int buckets = 0;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--preset" -> preset = value;
                case "--rows" -> rows = Integer.parseInt(value);
                case "--changes" -> changes = Integer.parseInt(value);
                case "--backlog" -> backlog = Integer.parseInt(value);
                case "--repetitions" -> repetitions = Integer.parseInt(value);
                case "--chunk-size" -> chunkSize = Integer.parseInt(value);
                case "--work-dir" -> work = Path.of(value);
                case "--results-dir" -> results = Path.of(value);
                case "--only" -> only = value;
                case "--variant" -> variant = value;
                case "--bucket" -> buckets = Integer.parseInt(value);
                default -> {
                    System.err.println(
                            "usage: [--preset default|quick|smoke] [--rows N] [--changes M] [--backlog B]"
                                    + " [--repetitions R] [--chunk-size C] [--only SIDE[,SIDE]: tidemark, flink-sql,"
                                    + " tidemark-rocksdb, tidemark-bucket, tidemark-poll500] [--bucket N: also Tidemark with"
                                    + " partition-by bucket(N, id)] [--variant single|multi] [--work-dir D]"
                                    + " [--results-dir D]; unknown "
                                    + args[i]);
                    System.exit(2);
                }
            }
            i++;
        }
        BenchSettings settings =
                BenchSettings.preset(preset, work.toAbsolutePath(), results.toAbsolutePath())
                        .withSizes(rows, changes, backlog, repetitions)
                        .withSplitSize(chunkSize);
        run(settings, only, variant, buckets, System.out);
        System.exit(0);
    }

    /** Runs the benchmark with {@code settings}; progress and the report go to {@code out}. */
    public static Result run(BenchSettings settings, PrintStream out) throws Exception {
        return run(settings, null, null, 0, out);
    }

    /**
     * Runs the benchmark; {@code only} (or null for both) names the one side to run, for profiling
     * it alone (a comma-separated list names several); {@code variant} ({@code single} or {@code
     * multi}, or null for both) the workload; {@code buckets} above 0 adds Tidemark's side with the
     * table partitioned by {@code bucket(buckets, id)} ({@code tidemark-bucket}), on the
     * single-table workload, whose changes fall half on 1% hot keys.
     */
    public static Result run(
            BenchSettings settings, String only, String variant, int buckets, PrintStream out)
            throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path work = settings.workDir();
        deleteRecursively(work);
        Files.createDirectories(work);
        Files.createDirectories(settings.resultsDir());
        out.printf(
                "Benchmark preset %s: %,d rows, %,d changes, a backlog of %,d, %d repetition(s) per"
                        + " side, parallelism %d, checkpoints every %ds, split size %,d%n",
                settings.preset(),
                settings.rows(),
                settings.changes(),
                settings.backlog(),
                settings.repetitions(),
                settings.parallelism(),
                settings.checkpointInterval().toSeconds(),
                settings.splitSize());
        List<RunFigures> runs = new ArrayList<>();
        List<ShardFigures> shardRuns = new ArrayList<>();
        List<Double> copyRates = new ArrayList<>();
        List<Double> rawRates = new ArrayList<>();
        try (EmbeddedDatabase database = EmbeddedDatabase.start(work.resolve("postgres"))) {
            database.createDatabase(Side.Bench.SOURCE_DATABASE);
            database.createDatabase(Side.Bench.CATALOG_DATABASE);
            String warehouse = work.resolve("warehouse").toUri().toString();
            Side.Bench bench = new Side.Bench(database, settings, warehouse);
            Map<String, String> catalogProperties = new HashMap<>();
            catalogProperties.put("type", "jdbc");
            catalogProperties.put("uri", database.jdbcUrl(Side.Bench.CATALOG_DATABASE));
            catalogProperties.put("jdbc.user", EmbeddedDatabase.USER);
            catalogProperties.put("jdbc.password", "");
            catalogProperties.put("jdbc.schema-version", "V1");
            catalogProperties.put("warehouse", warehouse);
            Catalog catalog =
                    Catalogs.load(
                            Side.Bench.CATALOG_NAME,
                            catalogProperties,
                            new org.apache.hadoop.conf.Configuration());
            try {
                SideRunner runner = new SideRunner(bench, catalog, out);
                List<Side> all = new ArrayList<>();
                all.add(new TidemarkSide(false));
                all.add(new FlinkSqlSide());
                all.add(new TidemarkSide(true));
                if (buckets > 0) {
                    all.add(new TidemarkSide(false, buckets));
                }
                List<String> named = only == null ? null : List.of(only.split(","));
                // a setting's before and after in one run: only when named
                TidemarkSide poll500 = TidemarkSide.debeziumPollInterval();
                if (named != null && named.contains(poll500.name())) {
                    all.add(poll500);
                }
                List<Side> sides =
                        all.stream()
                                .filter(side -> named == null || named.contains(side.name()))
                                .toList();
                if (settings.warmUp()) {
                    // one small untimed run of each side first: the JVM's warm-up is nobody's cost
                    SideRunner warm =
                            new SideRunner(
                                    new Side.Bench(
                                            database,
                                            BenchSettings.smoke(work, settings.resultsDir()),
                                            warehouse),
                                    catalog,
                                    new PrintStream(java.io.OutputStream.nullOutputStream()));
                    for (Side side : sides) {
                        warm.run(side, 0, null, new double[1]);
                    }
                    out.println("Warm-up runs of every side done");
                }
                boolean single = variant == null || variant.equals("single");
                boolean multi = variant == null || variant.equals("multi");
                if (!single && !multi) {
                    throw new IllegalArgumentException(
                            "unknown variant '" + variant + "': single or multi");
                }
                for (int rep = 1; single && rep <= settings.repetitions(); rep++) {
                    try (Connection source = database.connect(Side.Bench.SOURCE_DATABASE)) {
                        SourceTable.generate(source, settings.rows());
                        double copy = SourceTable.copyRate(source, settings.rows());
                        copyRates.add(copy);
                        out.printf(
                                "Repetition %d: COPY export of the table %,.0f rows/s%n",
                                rep, copy);
                    }
                    // rotate which side goes first: the machine warms up and is shared
                    List<Side> order = new ArrayList<>(sides);
                    java.util.Collections.rotate(order, rep - 1);
                    for (Side side : order) {
                        double[] raw = {Double.NaN};
                        boolean measureRaw = side.name().equals("tidemark");
                        runs.add(runner.run(side, rep, measureRaw ? "raw_" + rep : null, raw));
                        if (measureRaw) {
                            rawRates.add(raw[0]);
                            out.printf(
                                    "  raw logical decoding (pgoutput) of the stream: %,.0f changes/s%n",
                                    raw[0]);
                        }
                    }
                }
                // the multi-source variant: two shards writing the same keys, out of order
                if (multi) {
                    out.printf(
                            "Multi-source variant: 2 shards x %,d rows (the same keys), %,d changes"
                                    + " delivered out of order%n",
                            settings.shardRows(), settings.shardChanges());
                }
                ShardRunner shardRunner = new ShardRunner(bench, catalog, out);
                // the state backend's cost is measured by the single-table variant
                List<Side> shardSides =
                        sides.stream()
                                .filter(side -> !side.name().endsWith("-rocksdb"))
                                .filter(side -> !side.name().endsWith("-bucket"))
                                .toList();
                for (int rep = 1; multi && rep <= settings.repetitions(); rep++) {
                    List<Side> order =
                            rep % 2 == 1 || shardSides.size() < 2
                                    ? shardSides
                                    : List.of(shardSides.get(1), shardSides.get(0));
                    for (Side side : order) {
                        shardRuns.add(shardRunner.run(side, rep));
                    }
                }
            } finally {
                if (catalog instanceof Closeable closeable) {
                    closeable.close();
                }
            }
        }
        Path report = BenchReport.write(settings, runs, shardRuns, copyRates, rawRates, out);
        return new Result(settings, runs, shardRuns, copyRates, rawRates, report);
    }

    static void deleteRecursively(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
