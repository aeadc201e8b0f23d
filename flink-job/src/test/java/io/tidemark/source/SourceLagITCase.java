package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link SourceLag} against a real PostgreSQL server: unknown (-1) while the pipeline's slot is not
 * made; once it is, the WAL written since its confirmed position (here by a database the pipeline
 * does not even read, while its own tables send nothing), then back near zero when the slot
 * confirms the server's current position, as Flink CDC does when a checkpoint completes.
 */
class SourceLagITCase {

    @RegisterExtension static final SharedDatabase DATABASE = new SharedDatabase("lagged", "other");

    @Test
    void theWalAheadOfTheSlotsConfirmedPosition() throws Exception {
        PipelineConfig config =
                PipelineYaml.postgres(DATABASE.get(), "lagged", DATABASE.dir(), "lag-it")
                        .table("public.t", "lagged.t")
                        .config();
        String slot = config.source().slotName();
        try (Connection source = DATABASE.get().connect("lagged");
                Statement sql = source.createStatement();
                Connection other = DATABASE.get().connect("other");
                Statement otherSql = other.createStatement();
                SourceLag lag = SourceLag.of(config.sources())) {
            sql.execute("CREATE TABLE public.t (id integer PRIMARY KEY)");
            lag.register(new UnregisteredMetricsGroup());
            // unknown while the slot is not made
            assertThat(lag.bytesBehind(config.source().id())).isEqualTo(-1);
            sql.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
            Awaitility.await("known once the slot is made")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> lag.bytesBehind(config.source().id()) >= 0);
            otherSql.execute(
                    "CREATE TABLE filler AS SELECT g, repeat('x', 200) AS v"
                            + " FROM generate_series(1, 20000) g");
            Awaitility.await("the WAL written since the slot's position")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> lag.bytesBehind(config.source().id()) > 2_000_000);

            sql.execute("SELECT pg_replication_slot_advance('" + slot + "', pg_current_wal_lsn())");
            Awaitility.await("near zero once the slot confirms the current position")
                    .atMost(Duration.ofSeconds(30))
                    .until(
                            () -> {
                                long bytes = lag.bytesBehind(config.source().id());
                                return bytes >= 0 && bytes < 100_000;
                            });
            assertThat(lag.bytesBehind("no-such-source")).isEqualTo(-1);
        } finally {
            DATABASE.get().dropSlot("lagged", slot);
        }
    }
}
