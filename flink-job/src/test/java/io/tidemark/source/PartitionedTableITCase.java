package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.commit.CommitListener;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.JobPreparation;
import io.tidemark.runtime.RunContext;
import io.tidemark.testing.GroundTruth;
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
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Postgres partitioned table ({@code PARTITION BY RANGE}, two partitions, 3,001 rows) captured
 * through a pattern as one Iceberg table: the pattern matches the partitioned table, not its
 * partitions; its rows are snapshotted and its partitions' changes followed under its name
 * (publication {@code publish_via_partition_root}), a partition attached while the job runs
 * included; the table ends equal to the source, and a second start (a restart) prepares the same
 * publication again without failing.
 */
class PartitionedTableITCase {

    @RegisterExtension static final MiniClusterExtension MINI_CLUSTER = TestClusters.miniCluster();

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("parts", "iceberg_catalog");

    @Test
    void aPartitionedTableIsCapturedAsOne() throws Exception {
        TableIdentifier target = TableIdentifier.of("parts", "readings");
        try (Connection source = DATABASE.get().connect("parts");
                Statement sql = source.createStatement()) {
            sql.execute(
                    "CREATE TABLE public.readings (id bigint PRIMARY KEY, v text NOT NULL) "
                            + "PARTITION BY RANGE (id)");
            sql.execute(
                    "CREATE TABLE public.readings_low PARTITION OF public.readings "
                            + "FOR VALUES FROM (0) TO (2000)");
            sql.execute(
                    "CREATE TABLE public.readings_high PARTITION OF public.readings "
                            + "FOR VALUES FROM (2000) TO (4000)");
            sql.execute(
                    "INSERT INTO public.readings SELECT g, 'v' || g FROM generate_series(0, 3000) g");

            PipelineConfig config = TableDiscovery.resolve(pipeline());
            assertThat(config.tables())
                    .singleElement()
                    .satisfies(t -> assertThat(t.source()).isEqualTo("public.readings"));
            JobClient job =
                    TestJobs.start(
                            config,
                            RunContext.start(config.pipelineId(), null),
                            CommitListener.NONE,
                            null);
            Catalog catalog = TestPipelines.catalog(config);
            try {
                GroundTruth.awaitFirstCommit(job, catalog, target);
                // changes in both partitions, one moving a row across them
                sql.execute(
                        "INSERT INTO public.readings VALUES (3001, 'new high'), (0, 'x') "
                                + "ON CONFLICT (id) DO UPDATE SET v = 'upserted'");
                sql.execute("UPDATE public.readings SET v = v || '!' WHERE id % 10 = 0");
                sql.execute("DELETE FROM public.readings WHERE id % 7 = 0");
                sql.execute("UPDATE public.readings SET id = 3500 WHERE id = 1");
                // a partition attached while the job runs
                sql.execute(
                        "CREATE TABLE public.readings_top PARTITION OF public.readings "
                                + "FOR VALUES FROM (4000) TO (6000)");
                sql.execute(
                        "INSERT INTO public.readings SELECT g, 'top' || g FROM generate_series(4000, 4099) g");

                GroundTruth.awaitEqual(
                        job,
                        source,
                        catalog,
                        Map.of("public.readings", target),
                        Duration.ofMinutes(2));
                // a restart prepares the same publication again
                JobPreparation.prepare(config);
            } finally {
                GroundTruth.cancel(job);
                DATABASE.get().dropSlot("parts", config.source().slotName());
                if (catalog instanceof Closeable) {
                    ((Closeable) catalog).close();
                }
            }
        }
    }

    private static PipelineConfig pipeline() throws Exception {
        return TestPipelines.fromResource(
                "partitioned.yaml", DATABASE.get(), DATABASE.dir(), "partitioned-it");
    }
}
