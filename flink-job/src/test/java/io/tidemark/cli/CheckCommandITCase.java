package io.tidemark.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.config.PipelineConfig;
import io.tidemark.job.JobPreparation;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testing.CliOutput;
import io.tidemark.testing.PipelineYaml;
import io.tidemark.testing.SharedDatabase;
import io.tidemark.testing.TestPipelines;
import java.io.Closeable;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code tidemark check}: a start's checks without the start, against real servers. A PostgreSQL
 * server left at its defaults ({@code wal_level = replica}) with a user that may not replicate is
 * reported with each fix, and refused by {@code run} before any job (the job's source failed when
 * it made its slot, at every restart); a ready pipeline checks clean; an Iceberg table with another
 * key and a table without a key are reported. Nothing is made or changed by a check: no
 * publication, no slot, no Iceberg table.
 */
class CheckCommandITCase {

    @RegisterExtension
    static final SharedDatabase DATABASE = new SharedDatabase("checked", "iceberg_catalog");

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The problems of a {@code --output json} run, as "subject, check: detail". */
    private static List<String> problems(CliOutput output) throws Exception {
        List<String> problems = new ArrayList<>();
        for (JsonNode finding : JSON.readTree(output.json()).path("findings")) {
            if (!finding.path("ok").asBoolean()) {
                problems.add(
                        finding.path("subject").asText()
                                + ", "
                                + finding.path("check").asText()
                                + ": "
                                + finding.path("detail").asText());
            }
        }
        return problems;
    }

    private static int count(Connection connection, String query) throws Exception {
        try (Statement s = connection.createStatement();
                ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aServerAtItsDefaultsIsReportedWithEachFixAndRefusedBeforeAnyJob() throws Exception {
        Path dir = DATABASE.dir().resolve("plain");
        try (EmbeddedDatabase plain = EmbeddedDatabase.startWithDefaults(dir)) {
            plain.createDatabase("plain");
            try (Connection admin = plain.connect("plain");
                    Statement sql = admin.createStatement()) {
                try (ResultSet rs = sql.executeQuery("SHOW wal_level")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("replica");
                }
                sql.execute("CREATE ROLE app LOGIN");
                sql.execute("CREATE TABLE public.orders (id integer PRIMARY KEY, v text)");
                sql.execute("INSERT INTO public.orders VALUES (1, 'a')");
                sql.execute("ALTER TABLE public.orders OWNER TO app");
                PipelineYaml file =
                        PipelineYaml.postgres(plain, DATABASE.get(), "plain", dir, "check-plain")
                                .set("source.username", "app")
                                .table("public.orders", "checked.plain_orders");
                Path written = file.write(dir);

                CliOutput checked =
                        CliOutput.run("check", "-c", written.toString(), "--output", "json");

                assertThat(checked.exitCode()).isEqualTo(CheckCommand.EXIT_PROBLEMS);
                assertThat(problems(checked))
                        .anySatisfy(
                                p ->
                                        assertThat(p)
                                                .contains(
                                                        "source source, server: wal_level is 'replica'")
                                                .contains("ALTER SYSTEM SET wal_level = logical"))
                        .anySatisfy(
                                p ->
                                        assertThat(p)
                                                .contains("user 'app' may not replicate")
                                                .contains("ALTER ROLE app REPLICATION"));
                // nothing made: no publication, no slot, no Iceberg table
                assertThat(count(admin, "SELECT count(*) FROM pg_publication")).isZero();
                assertThat(count(admin, "SELECT count(*) FROM pg_replication_slots")).isZero();
                Catalog catalog = TestPipelines.catalog(file.config());
                try {
                    assertThat(catalog.tableExists(TableIdentifier.of("checked", "plain_orders")))
                            .isFalse();
                } finally {
                    ((Closeable) catalog).close();
                }

                // the advice for the user, run as given: that problem is gone
                sql.execute("ALTER ROLE app REPLICATION");
                CliOutput again =
                        CliOutput.run("check", "-c", written.toString(), "--output", "json");
                assertThat(problems(again))
                        .noneSatisfy(p -> assertThat(p).contains("may not replicate"))
                        .anySatisfy(p -> assertThat(p).contains("wal_level is 'replica'"));

                // run refuses the server before any job, naming the fix (the job's source failed
                // when it made its slot, at every restart)
                PipelineConfig config = file.config();
                assertThatThrownBy(() -> JobPreparation.prepare(config))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("source 'source' (postgres-cdc) cannot be read")
                        .hasMessageContaining("ALTER SYSTEM SET wal_level = logical");
            }
        }
    }

    @Test
    void aReadyPipelineChecksCleanThenATargetWithAnotherKeyAndAKeylessTableAreReported()
            throws Exception {
        try (Connection source = DATABASE.get().connect("checked");
                Statement sql = source.createStatement()) {
            sql.execute("CREATE TABLE public.items (id bigint PRIMARY KEY, name text)");
            sql.execute("CREATE TABLE public.notes (body text)");
            PipelineYaml file =
                    PipelineYaml.postgres(DATABASE.get(), "checked", DATABASE.dir(), "check-ready")
                            .table("public.items", "checked.items");
            Path written = file.write(DATABASE.dir());
            int publications = count(source, "SELECT count(*) FROM pg_publication");

            CliOutput ready = CliOutput.run("check", "-c", written.toString());

            assertThat(ready.exitCode()).as(ready.out()).isZero();
            assertThat(ready.out())
                    .contains("ok       source source, server: ready for postgres-cdc")
                    .contains("ok       table checked.items, target: will be made")
                    .contains("ready: `tidemark run --config");
            assertThat(count(source, "SELECT count(*) FROM pg_publication"))
                    .isEqualTo(publications);
            assertThat(count(source, "SELECT count(*) FROM pg_replication_slots")).isZero();
            Catalog catalog = TestPipelines.catalog(file.config());
            try {
                assertThat(catalog.tableExists(TableIdentifier.of("checked", "items"))).isFalse();
                // an Iceberg table made elsewhere with another key, and a table without one
                ((SupportsNamespaces) catalog).createNamespace(Namespace.of("checked"));
                catalog.createTable(
                        TableIdentifier.of("checked", "items"),
                        new Schema(
                                List.of(
                                        Types.NestedField.required(1, "id", Types.LongType.get()),
                                        Types.NestedField.required(
                                                2, "name", Types.StringType.get())),
                                java.util.Set.of(2)));
                Path broken = file.table("public.notes", "checked.notes").write(DATABASE.dir());

                CliOutput reported =
                        CliOutput.run("check", "-c", broken.toString(), "--output", "json");

                assertThat(reported.exitCode()).isEqualTo(CheckCommand.EXIT_PROBLEMS);
                assertThat(problems(reported))
                        .anySatisfy(
                                p ->
                                        assertThat(p)
                                                .startsWith("table checked.items, target:")
                                                .contains("identifier fields [name]"))
                        .anySatisfy(
                                p ->
                                        assertThat(p)
                                                .startsWith("table public.notes, schema:")
                                                .containsIgnoringCase("primary key"));
            } finally {
                ((Closeable) catalog).close();
            }
        }
    }
}
