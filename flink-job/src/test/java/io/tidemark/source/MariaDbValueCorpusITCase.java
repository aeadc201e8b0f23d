package io.tidemark.source;

import static io.tidemark.testing.ValueCorpus.equal;
import static io.tidemark.testing.ValueCorpus.quarantined;
import static io.tidemark.testing.ValueCorpus.quarantinedFromTheSnapshot;

import io.tidemark.config.PipelineConfig;
import io.tidemark.testing.GroundTruth;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.SharedMariaDb;
import io.tidemark.testing.TestClusters;
import io.tidemark.testing.TestJobs;
import io.tidemark.testing.TestPipelines;
import io.tidemark.testing.ValueCorpus;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The value corpus on MariaDB (the binlog source): every value below is written once before the job
 * starts (its snapshot reads it) and once after (the binlog reads it), under a lax {@code sql_mode}
 * so that zero dates are legal, and each one's outcome is asserted: equal to the source as {@code
 * verify} reads it, or in the quarantine table with its reason, the same on both paths. The table
 * of outcomes in docs/sources.md lists these.
 */
class MariaDbValueCorpusITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    /** The Iceberg catalog's store. */
    @RegisterExtension static final SharedDatabase CATALOG = new SharedDatabase("iceberg_catalog");

    @RegisterExtension static final SharedMariaDb MARIADB = new SharedMariaDb(CATALOG, "corpus");

    private static final ValueCorpus CORPUS =
            new ValueCorpus("corpus", "mcorpus")
                    .table(
                            "dates",
                            "date",
                            equal("'2024-02-29'"),
                            equal("'1582-10-10'"),
                            equal("'1582-10-04'"),
                            equal("'0001-01-01'"),
                            equal("'1000-01-01'"),
                            equal("'9999-12-31'"),
                            equal("'0000-00-00'"),
                            equal("NULL"))
                    .table(
                            "stamps",
                            "datetime(6)",
                            equal("'0001-01-01 00:00:00'"),
                            equal("'9999-12-31 23:59:59.999999'"),
                            equal("'1582-09-24 12:00:00.000001'"),
                            // java.sql.Timestamp has no 1582-10-05 to 10-14: the snapshot
                            // cannot tell this value from ten days later
                            quarantinedFromTheSnapshot(
                                    "'1582-10-10 12:00:00.000001'", "NOT_REPRESENTABLE"),
                            quarantinedFromTheSnapshot(
                                    "'1582-10-20 12:00:00'", "NOT_REPRESENTABLE"),
                            equal("'1582-10-25 00:00:00'"),
                            equal("'2024-06-01 12:00:00.123456'"),
                            equal("'0000-00-00 00:00:00'"))
                    .table(
                            "zoned",
                            "timestamp(6) NULL",
                            equal("'1970-01-01 00:00:01'"),
                            equal("'2038-01-19 03:14:07.999999'"),
                            equal("'2024-06-01 12:00:00.123456'"))
                    .table(
                            "times",
                            "time(6)",
                            equal("'10:00:00.123456'"),
                            equal("'00:00:00'"),
                            equal("'23:59:59.999999'"),
                            // MySQL's TIME is a duration: beyond a day, no Iceberg time
                            quarantined("'838:59:59'", "NOT_REPRESENTABLE"),
                            quarantined("'-01:00:01'", "NOT_REPRESENTABLE"),
                            // Debezium 1.9's snapshot reads a negative TIME under an hour as
                            // positive (the sign is the hours'); the sign is given back
                            quarantined("'-00:00:01'", "NOT_REPRESENTABLE"),
                            quarantined("'-00:30:00.5'", "NOT_REPRESENTABLE"),
                            // and not to its positive twin in the same chunk
                            equal("'00:30:00.5'"))
                    .table(
                            "numbers",
                            "decimal(12,2)",
                            equal("1.50"),
                            equal("9999999999.99"),
                            equal("-0.01"),
                            equal("0"),
                            equal("NULL"))
                    .table(
                            // BOOLEAN is tinyint(1), which holds any tinyint: read as int
                            "flags",
                            "tinyint(1)",
                            equal("0"),
                            equal("1"),
                            equal("2"),
                            equal("-1"),
                            equal("127"),
                            equal("-128"),
                            equal("NULL"))
                    .table(
                            "floats",
                            "double",
                            equal("1e308"),
                            equal("4.9e-324"),
                            equal("-1.5"),
                            equal("0"))
                    .table(
                            "texts",
                            "text",
                            equal("''"),
                            equal("NULL"),
                            equal("'line\\nbreak\\ttab'"),
                            equal("'emoji \uD83D\uDE00 quote '' backslash \\\\'"))
                    .table(
                            "uuids",
                            "char(36)",
                            equal("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
                            equal("NULL"));

    @Test
    void everyValueEndsEqualOrQuarantinedWithItsReasonOnBothPaths() throws Exception {
        try (Connection source = MARIADB.get().connect("corpus");
                Statement sql = source.createStatement()) {
            // zero dates are legal under a lax sql_mode, as in many old schemas
            sql.execute("SET SESSION sql_mode = ''");
            CORPUS.create(sql, " DEFAULT CHARSET utf8mb4");
            PipelineConfig config = TableDiscovery.resolve(pipeline());
            JobClient job = TestJobs.start(config);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                GroundTruth.awaitFirstCommit(job, catalog, CORPUS.targets());
                // the same values again, now through the binlog
                CORPUS.write(sql, 1);
                Map<String, TableIdentifier> views = CORPUS.equalViews(sql, Set.of());
                try (Connection verifier =
                        java.sql.DriverManager.getConnection(
                                config.source().jdbcUrl(),
                                config.source().username(),
                                config.source().password())) {
                    // read as verify reads the source (zero dates as null)
                    GroundTruth.awaitEqual(job, verifier, catalog, views, Duration.ofMinutes(2));
                }
                CORPUS.awaitQuarantine(catalog);
            } finally {
                GroundTruth.cancel(job);
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    private static PipelineConfig pipeline() {
        return PipelineYaml.mariaDb(
                        MARIADB.get(), "corpus", CATALOG.get(), CATALOG.dir(), "mcorpus-it")
                .set("pipeline.parallelism", 2)
                .table("corpus.*", "mcorpus.*")
                .config();
    }
}
