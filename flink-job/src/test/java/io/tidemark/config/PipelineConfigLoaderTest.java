package io.tidemark.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.SqlNames;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.BinlogOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PipelineConfigLoaderTest {

    private static final String VALID =
            """
                    pipeline:
                      id: shop
                      parallelism: 2
                    checkpoint:
                      interval: 5s
                    source:
                      type: postgres
                      hostname: db.internal
                      database: shop
                      username: replicator
                      password: ${env:PG_PASSWORD}
                    catalog:
                      type: jdbc
                      properties:
                        uri: jdbc:postgresql://catalog/iceberg
                        jdbc.user: iceberg
                        jdbc.password: ${env:CATALOG_PASSWORD}
                        warehouse: s3://bucket/warehouse
                    tables:
                      - source: public.customers
                        target: shop.customers
                      - source: public.orders
                        primary-key: [id]
                    """;

    private static final Map<String, String> ENV =
            Map.of("PG_PASSWORD", "s3cr3t-pg", "CATALOG_PASSWORD", "s3cr3t-cat");

    private final PipelineConfigLoader loader = new PipelineConfigLoader(ENV::get);

    private PipelineConfig parse(String yaml) {
        return loader.parse(yaml, "pipeline.yaml");
    }

    @Test
    void readsAValidFileWithDefaults() {
        PipelineConfig config = parse(VALID);

        assertThat(config.pipelineId()).isEqualTo("shop");
        assertThat(config.jobName()).isEqualTo("tidemark-shop");
        assertThat(config.parallelism()).isEqualTo(2);
        assertThat(config.maxParallelism()).isEqualTo(128);
        assertThat(config.checkpointInterval()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.checkpointTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(config.stateBackend()).isEqualTo("hashmap");
        assertThat(config.source().port()).isEqualTo(5432);
        assertThat(config.source().password()).isEqualTo("s3cr3t-pg");
        assertThat(config.source().slotName()).isEqualTo("tidemark_shop");
        assertThat(config.source().publication()).isEqualTo("tidemark_shop");
        assertThat(config.source().startupMode()).isEqualTo(StartupMode.INITIAL);
        assertThat(config.catalogName()).isEqualTo("tidemark");
        assertThat(config.catalogProperties())
                .containsEntry("type", "jdbc")
                .containsEntry("jdbc.password", "s3cr3t-cat");
        assertThat(config.tables())
                .containsExactly(
                        new PipelineConfig.TableConfig(
                                "public.customers", "shop.customers", List.of()),
                        new PipelineConfig.TableConfig(
                                "public.orders", "public.orders", List.of("id")));
    }

    @Test
    void historyIsReadPerTableAndDescribed() {
        PipelineConfig config =
                parse(
                        VALID.replace(
                                "    target: shop.customers",
                                "    target: shop.customers\n    history: scd2"));
        assertThat(config.tables().get(0).history()).isTrue();
        assertThat(config.tables().get(1).history()).isFalse();
        assertThat(config.describe())
                .contains(
                        "    target: shop.customers\n    primary-key: (source key)\n    history: scd2\n");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "    target: shop.customers",
                                                "    target: shop.customers\n    history: scd3")))
                .hasMessageContaining("'tables[0].history': expected one of [none, scd2]");
    }

    @Test
    void describeMasksEverySecret() {
        String described = parse(VALID).describe();

        assertThat(described)
                .doesNotContain("s3cr3t-pg")
                .doesNotContain("s3cr3t-cat")
                .contains("password: ***")
                .contains("jdbc.password: ***")
                .contains("hostname: db.internal");
        assertThat(parse(VALID).toString()).doesNotContain("s3cr3t");
    }

    @Test
    void unknownKeyIsNamedWithASuggestion() {
        assertThatThrownBy(() -> parse(VALID.replace("  hostname:", "  hostnme:")))
                .isInstanceOf(ConfigException.class)
                .hasMessage(
                        "pipeline.yaml: unknown key 'source.hostnme' (did you mean 'source.hostname'?)");
    }

    @Test
    void pointsAndTheTransactionBoundAreReadAndChecked() {
        assertThat(parse(VALID).points().enabled()).isFalse();
        assertThat(parse(VALID).reconcile().transactionMaxChanges()).isEqualTo(20_000);
        PipelineConfig config =
                parse(
                        VALID
                                + "points:\n  table: shop.tidemark_points\n  retain: 50\n"
                                + "reconcile:\n  transaction-max-changes: 0\n");
        assertThat(config.points()).isEqualTo(new PointsConfig("shop.tidemark_points", 50));
        assertThat(config.reconcile().transactionMaxChanges()).isZero();
        assertThat(config.describe()).contains("points:\n  table: shop.tidemark_points");
        assertThatThrownBy(() -> parse(VALID + "points:\n  table: tidemark_points\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(
                        "'points.table': 'tidemark_points' is not <namespace>.<table>");
    }

    @Test
    void unknownKeyWithoutCloseMatchPointsToTheReference() {
        assertThatThrownBy(() -> parse(VALID + "extras:\n  colour: blue\n"))
                .hasMessage(
                        "pipeline.yaml: unknown key 'extras.colour'; see the configuration reference, docs/configuration.md");
    }

    @Test
    void unknownKeyInATableEntry() {
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "    primary-key: [id]", "    primary_key: [id]")))
                .hasMessage(
                        "pipeline.yaml: unknown key 'tables[1].primary_key' (did you mean 'primary-key'?)");
    }

    @Test
    void missingRequiredKeyIsNamed() {
        assertThatThrownBy(() -> parse(VALID.replace("  database: shop\n", "")))
                .hasMessage(
                        "pipeline.yaml: missing required key 'source.database' (a string: Database name.)");
    }

    @Test
    void missingPipelineId() {
        assertThatThrownBy(() -> parse(VALID.replace("  id: shop\n", "")))
                .hasMessageStartingWith(
                        "pipeline.yaml: missing required key 'pipeline.id' (a string: ");
    }

    @Test
    void missingTables() {
        String noTables = VALID.substring(0, VALID.indexOf("tables:"));
        assertThatThrownBy(() -> parse(noTables))
                .hasMessage(
                        "pipeline.yaml: missing required key 'tables' (a list of {source, target, primary-key})");
    }

    @Test
    void missingCatalogType() {
        assertThatThrownBy(() -> parse(VALID.replace("  type: jdbc\n", "")))
                .hasMessage(
                        "pipeline.yaml: missing required key 'catalog.type' (one of [jdbc, rest, hadoop, hive]), "
                                + "or set 'catalog.properties.catalog-impl'");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '"',
            value = {
                "  parallelism: 2|  parallelism: two|'pipeline.parallelism': expected an integer, got 'two'",
                "  parallelism: 2|  parallelism: 0|'pipeline.parallelism': expected an integer from 1 to 32768, got 0",
                "  interval: 5s|  interval: soon|'checkpoint.interval': expected a duration such as 500ms, 10s or 2min, got 'soon'",
                "  type: postgres|  type: oracle|'source.type': expected one of [postgres, mysql], got 'oracle'",
                "  type: jdbc|  type: glue|'catalog.type': expected one of [jdbc, rest, hadoop, hive], got 'glue'",
                "  hostname: db.internal|  hostname: [a, b]|'source.hostname': expected a string, got 'a list'",
                "  database: shop|  port: 99999\\n  database: shop|'source.port': expected an integer from 1 to 65535, got 99999",
            })
    void wrongKindOfValueIsNamed(String from, String to, String message) {
        assertThatThrownBy(() -> parse(VALID.replace(from, to.replace("\\n", "\n"))))
                .isInstanceOf(ConfigException.class)
                .hasMessage("pipeline.yaml: " + message);
    }

    @Test
    void wrongKindNeverEchoesASecret() {
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "  password: ${env:PG_PASSWORD}",
                                                "  password: [hunter2]")))
                .hasMessage("pipeline.yaml: 'source.password': expected a string, got '***'");
    }

    @Test
    void unsetEnvironmentVariableIsNamed() {
        PipelineConfigLoader noEnv = new PipelineConfigLoader(name -> null);
        assertThatThrownBy(() -> noEnv.parse(VALID, "pipeline.yaml"))
                .hasMessage(
                        "pipeline.yaml: 'source.password': environment variable PG_PASSWORD is not set; "
                                + "export it or put the value in the file");
    }

    @Test
    void maintenanceIsOffUnlessScheduledAndNeedsALock() {
        assertThat(parse(VALID).maintenance().enabled()).isFalse();
        String scheduled =
                VALID.replace(
                        "tables:\n",
                        "maintenance:\n  compaction: {every-commits: 50}\n"
                                + "  expire-snapshots: {every-commits: 20, retain-last: 10}\n"
                                + "tables:\n");
        MaintenanceConfig maintenance = parse(scheduled).maintenance();
        assertThat(maintenance.enabled()).isTrue();
        assertThat(maintenance.compactEveryCommits()).isEqualTo(50);
        assertThat(maintenance.compactDeleteFileThreshold()).as("size alone").isZero();
        assertThat(maintenance.expireEveryCommits()).isEqualTo(20);
        assertThat(maintenance.retainLast()).isEqualTo(10);
        assertThat(maintenance.maxSnapshotAge()).isEqualTo(Duration.ofDays(1));
        assertThat(maintenance.orphanFilesEvery()).isZero();
        // the JDBC catalog's database holds the lock, unless the file names another
        assertThat(maintenance.lockJdbcUri()).isEqualTo("jdbc:postgresql://catalog/iceberg");
        assertThat(parse(scheduled).describe())
                .contains("compaction.every-commits: 50")
                .doesNotContain("s3cr3t");
        assertThat(
                        parse(
                                        scheduled.replace(
                                                "{every-commits: 50}",
                                                "{every-commits: 50, delete-file-threshold: 100}"))
                                .maintenance()
                                .compactDeleteFileThreshold())
                .isEqualTo(100);
        assertThat(maintenance.foldEveryDeleteFiles()).as("off unless scheduled").isZero();
        MaintenanceConfig folding =
                parse(
                                VALID.replace(
                                        "tables:\n",
                                        "maintenance:\n  fold-deletes: {every-delete-files: 3}\n"
                                                + "tables:\n"))
                        .maintenance();
        assertThat(folding.enabled()).as("the fold alone is scheduled maintenance").isTrue();
        assertThat(folding.foldEveryDeleteFiles()).isEqualTo(3);

        assertThatThrownBy(
                        () ->
                                parse(
                                        scheduled
                                                .replace("  type: jdbc\n", "  type: rest\n")
                                                .replace(
                                                        "    uri: jdbc:postgresql://catalog/iceberg",
                                                        "    uri: http://catalog:8181")))
                .hasMessageContaining("set 'maintenance.lock.jdbc-uri'");
        assertThatThrownBy(
                        () ->
                                parse(
                                        scheduled.replace(
                                                "maintenance:\n",
                                                "maintenance:\n  min-interval: 500ms\n")))
                .hasMessage(
                        "pipeline.yaml: 'maintenance.min-interval': expected at least 1s, got PT0.5S");
        // orphan-file removal, never of files younger than an hour (a commit may be under way)
        assertThat(
                        parse(
                                        scheduled.replace(
                                                "maintenance:\n",
                                                "maintenance:\n  orphan-files: {every: 1d}\n"))
                                .maintenance()
                                .orphanFilesMinAge())
                .isEqualTo(Duration.ofDays(3));
        assertThatThrownBy(
                        () ->
                                parse(
                                        scheduled.replace(
                                                "maintenance:\n",
                                                "maintenance:\n  orphan-files: {every: 1d, min-age: 10m}\n")))
                .hasMessageStartingWith(
                        "pipeline.yaml: 'maintenance.orphan-files.min-age': expected at least 1h, got PT10M")
                .hasMessageContaining("keep the default, 3d");
        assertThat(
                        parse(
                                        scheduled.replace(
                                                "maintenance:\n",
                                                "maintenance:\n  orphan-files: {every: 0s}\n"))
                                .maintenance()
                                .orphanFilesEvery())
                .isZero();
    }

    @Test
    void aSecretInsideAValueIsMaskedToo() {
        assertThat(
                        ConfigDescription.mask(
                                "uri",
                                "jdbc:postgresql://db:5432/iceberg?user=u&password=p4ss&ssl=true"))
                .isEqualTo("jdbc:postgresql://db:5432/iceberg?user=u&password=***&ssl=true");
        assertThat(ConfigDescription.mask("uri", "jdbc:mysql://u:p4ss@db:3306/iceberg"))
                .isEqualTo("jdbc:mysql://u:***@db:3306/iceberg");
        assertThat(ConfigDescription.mask("uri", "thrift://metastore:9083"))
                .isEqualTo("thrift://metastore:9083");
        assertThat(ConfigDescription.mask("jdbc.password", "p4ss")).isEqualTo("***");
    }

    @Test
    void aSecretMountedAsAFileIsRead(@TempDir Path dir) throws Exception {
        Path secret = dir.resolve("pg-password");
        java.nio.file.Files.writeString(secret, "s3cr:et}\n");
        PipelineConfig config =
                parse(
                        VALID.replace(
                                "  password: ${env:PG_PASSWORD}",
                                "  password: ${file:" + secret + "}"));
        // the mounted file's final line break is no part of the value
        assertThat(config.source().password()).isEqualTo("s3cr:et}");
        assertThat(config.describe()).doesNotContain("s3cr");

        Path missing = dir.resolve("absent");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "  password: ${env:PG_PASSWORD}",
                                                "  password: ${file:" + missing + "}")))
                .hasMessage(
                        "pipeline.yaml: 'source.password': cannot read ${file:"
                                + missing
                                + "} (NoSuchFileException); mount the secret there or put the "
                                + "value in the file");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "  password: ${env:PG_PASSWORD}",
                                                "  password: ${file:secrets/pw}")))
                .hasMessageContaining("${file:secrets/pw} needs an absolute path");
    }

    @Test
    void badTableNames() {
        assertThatThrownBy(
                        () -> parse(VALID.replace("source: public.customers", "source: customers")))
                .hasMessage(
                        "pipeline.yaml: 'tables[0].source': expected schema.table, or a pattern such as "
                                + "schema.* (MySQL: database.table), got 'customers': expected schema.table");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "source: public.customers",
                                                "source: public.Order Items")))
                .hasMessage(
                        "pipeline.yaml: 'tables[0].source': expected schema.table, or a pattern such as "
                                + "schema.* (MySQL: database.table), got 'public.Order Items': "
                                + "unexpected ' Items' (quote a name that holds spaces, dots or other "
                                + "characters)");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "source: public.customers",
                                                "source: 'public.\"Order Items'")))
                .hasMessageEndingWith("a quoted name is not closed (\" missing)");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                        "source: public.customers",
                                                        "source: 'public.\"Order Items\"'")
                                                .replace("    target: shop.customers\n", "")))
                .hasMessage(
                        "pipeline.yaml: 'tables[0].target' is missing and the source's name "
                                + "'public.Order Items' is not one an Iceberg table takes here: name "
                                + "the target (namespace.table; letters, digits and underscores, lower "
                                + "case for Trino)");
        assertThatThrownBy(
                        () -> parse(VALID.replace("target: shop.customers", "target: customers")))
                .hasMessage(
                        "pipeline.yaml: 'tables[0].target': expected namespace.table, got 'customers'");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "source: public.orders",
                                                "source: public.customers")))
                .hasMessage(
                        "pipeline.yaml: 'tables[1].source': table 'public.customers' is listed twice");
    }

    @Test
    void namesThatNeedQuotesAreKeptAsTheDatabaseStoresThem() {
        PipelineConfig config =
                parse(
                        VALID.replace(
                                        "source: public.customers",
                                        "source: '\"Sales\".\"Order Items\"'")
                                .replace("source: public.orders", "source: 'public.`a.b`'"));
        assertThat(config.tables())
                .extracting(PipelineConfig.TableConfig::source)
                .containsExactly("Sales.Order Items", "public.a.b");
        assertThat(SqlNames.parseQualified("public.\"say \"\"hi\"\"\""))
                .isEqualTo("public.say \"hi\"");
        assertThat(SqlNames.parseQualified("Shop.Orders")).isEqualTo("Shop.Orders");
        assertThat(SqlNames.parseQualified("\"My Shop\".*")).isEqualTo("My Shop.*");
        assertThatThrownBy(() -> SqlNames.parseQualified("\"a.b\".c"))
                .hasMessageContaining("a schema (database) name with a dot cannot be captured");
        assertThatThrownBy(() -> SqlNames.parseQualified("*.c"))
                .hasMessageContaining("is not a name part");
        assertThatThrownBy(() -> SqlNames.parseQualified("public.\"a*\""))
                .hasMessageContaining("reads as a pattern");
        // the table filter reads names literally
        assertThat(
                        "Sales.Order Items"
                                .matches(PipelineConfig.TableConfig.regex("Sales.Order Items")))
                .isTrue();
        assertThat("public.a$b".matches(PipelineConfig.TableConfig.regex("public.a$b"))).isTrue();
        assertThat("public.axb".matches(PipelineConfig.TableConfig.regex("public.a.b"))).isFalse();
        // advice a user copies into psql
        assertThat(SqlNames.forStatement("public.orders")).isEqualTo("public.orders");
        assertThat(SqlNames.forStatement("Sales.Order Items"))
                .isEqualTo("\"Sales\".\"Order Items\"");
        assertThat(SqlNames.forStatement("public.user")).isEqualTo("public.\"user\"");
    }

    @Test
    void readsAMySqlSourceWithItsDefaults() {
        PipelineConfig config =
                parse(
                        VALID.replace("  type: postgres", "  type: mysql")
                                .replace("public.", "shop."));
        PipelineConfig.SourceConfig source = config.source();
        assertThat(source.kind()).isEqualTo(SourceKind.MYSQL);
        assertThat(source.port()).isEqualTo(3306);
        assertThat(source.serverTimeZone()).isEqualTo("UTC");
        // GTID order where the server has GTIDs on, resolved when the job is built
        assertThat(source.binlogOrder()).isNull();
        assertThat(
                        parse(
                                        VALID.replace(
                                                "  type: postgres",
                                                "  type: mysql\n  binlog-order: binlog-position"))
                                .source()
                                .binlogOrder())
                .isEqualTo(BinlogOrder.BINLOG_POSITION);
        assertThat(source.slotName()).isNull();
        // one id per parallel reader, derived from the pipeline id: stable across restarts
        assertThat(source.serverId()).matches("\\d+-\\d+");
        String[] range = source.serverId().split("-");
        assertThat(Long.parseLong(range[1]) - Long.parseLong(range[0])).isEqualTo(1);
        assertThat(parse(VALID.replace("  type: postgres", "  type: mysql")).source().serverId())
                .isEqualTo(source.serverId());
        assertThat(source.jdbcUrl()).startsWith("jdbc:mysql://db.internal:3306/shop?");
        assertThat(config.describe()).contains("server-id: " + source.serverId());
        assertThat(
                        parse(
                                        VALID.replace(
                                                "  type: postgres",
                                                "  type: mysql\n  server-id: 5400-5403\n  port: 3307"))
                                .source())
                .extracting(
                        PipelineConfig.SourceConfig::serverId, PipelineConfig.SourceConfig::port)
                .containsExactly("5400-5403", 3307);
    }

    @Test
    void mySqlSettingsAreCheckedAndNotMixedWithPostgresOnes() {
        String mysql = VALID.replace("  type: postgres", "  type: mysql");
        assertThatThrownBy(
                        () -> parse(mysql.replace("  username:", "  server-id: 5400\n  username:")))
                .hasMessage(
                        "pipeline.yaml: 'source.server-id': 1 id(s) for pipeline.parallelism 2; every "
                                + "parallel binlog reader needs its own, e.g. '5400-5401'");
        assertThatThrownBy(
                        () -> parse(mysql.replace("  username:", "  server-id: 9-x\n  username:")))
                .hasMessage(
                        "pipeline.yaml: 'source.server-id': expected a server id or a range 'N-M', got '9-x'");
        assertThatThrownBy(() -> parse(mysql.replace("  username:", "  slot.name: s\n  username:")))
                .hasMessage(
                        "pipeline.yaml: 'source.slot.name' is for postgres sources, and this one is mysql; remove it");
        assertThatThrownBy(
                        () ->
                                parse(
                                        mysql.replace(
                                                "  username:",
                                                "  jdbc.properties.connectionTimeZone: UTC\n  username:")))
                .hasMessageContaining(
                        "'source.jdbc.properties.connectionTimeZone': Tidemark sets it");
        assertThatThrownBy(
                        () -> parse(VALID.replace("  username:", "  server-id: 1-4\n  username:")))
                .hasMessage(
                        "pipeline.yaml: 'source.server-id' is for mysql sources, and this one is postgres; remove it");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "  username:",
                                                "  binlog-order: gtid\n  username:")))
                .hasMessage(
                        "pipeline.yaml: 'source.binlog-order' is for mysql sources, and this one is postgres; remove it");
        assertThatThrownBy(
                        () ->
                                parse(
                                        mysql.replace(
                                                "  username:",
                                                "  binlog-order: gtids\n  username:")))
                .hasMessageContaining("'source.binlog-order'")
                .hasMessageContaining("gtids");
    }

    @Test
    void tablePatternsAndTheirTargets() {
        PipelineConfig config =
                parse(
                        VALID.replace(
                                "  - source: public.customers\n    target: shop.customers",
                                "  - source: public.*\n    target: lake.pg_*"));
        PipelineConfig.TableConfig pattern = config.tables().get(0);
        assertThat(pattern.isPattern()).isTrue();
        assertThat(pattern.matches("public.invoices")).isTrue();
        assertThat(pattern.matches("other.invoices")).isFalse();
        assertThat(pattern.forTable("public.invoices").target()).isEqualTo("lake.pg_invoices");
        assertThat(config.tables().get(1).isPattern()).isFalse();
        assertThatThrownBy(config::requireResolvedTables)
                .hasMessageContaining("table pattern 'public.*' is not resolved");
        PipelineConfig.TableConfig question =
                parse(
                                VALID.replace(
                                        "  - source: public.customers\n    target: shop.customers",
                                        "  - source: public.cust?mers\n    target: shop.*"))
                        .tables()
                        .get(0);
        assertThat(question.matches("public.customers")).isTrue();
        assertThat(question.matches("public.custoomers")).isFalse();
        // the default target keeps the source's names
        assertThat(
                        parse(
                                        VALID.replace(
                                                "  - source: public.customers\n    target: shop.customers",
                                                "  - source: public.inv_*"))
                                .tables()
                                .get(0)
                                .forTable("public.inv_2026")
                                .target())
                .isEqualTo("public.inv_2026");
        assertThatThrownBy(
                        () -> parse(VALID.replace("source: public.customers", "source: public.*")))
                .hasMessageContaining("'tables[0].target': the source is a pattern");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                        "  - source: public.customers\n    target: shop.customers",
                                                        "  - source: public.*\n    contract: 1")
                                                .replace(
                                                        "catalog:",
                                                        "contracts:\n  dir: c\ncatalog:")))
                .hasMessageContaining("'tables[0].contract': a contract is one table's");
    }

    @Test
    void newTablesIsForPatternsAndCaptureForMySql() {
        String pattern =
                VALID.replace(
                        "  - source: public.customers\n    target: shop.customers",
                        "  - source: public.*\n    target: lake.*\n    new-tables: capture");
        assertThatThrownBy(() -> parse(pattern))
                .hasMessage(
                        "pipeline.yaml: 'tables[0].new-tables': capture follows tables created while running "
                                + "in the MySQL binlog; the source is postgres (a publication names its "
                                + "tables): use 'ignore' and restart from a savepoint");
        PipelineConfig mysql = parse(pattern.replace("  type: postgres", "  type: mysql"));
        assertThat(mysql.tables().get(0).capturesNewTables()).isTrue();
        assertThat(mysql.tables().get(0).sourceOfTarget("lake.invoices"))
                .isEqualTo("public.invoices");
        assertThat(mysql.tables().get(0).sourceOfTarget("shop.invoices")).isNull();
        assertThat(mysql.tables().get(1).capturesNewTables()).isFalse();
        assertThat(mysql.describe()).contains("  - source: public.*\n    target: lake.*\n");
        assertThat(mysql.describe()).contains("    new-tables: capture\n");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "    target: shop.customers",
                                                "    target: shop.customers\n    new-tables: capture")))
                .hasMessageContaining(
                        "'tables[0].new-tables': only a pattern (such as schema.*) can match tables created later");
        assertThatThrownBy(
                        () ->
                                parse(
                                        pattern.replace("  type: postgres", "  type: mysql")
                                                .replace(
                                                        "new-tables: capture",
                                                        "new-tables: capture\n    late-policy: quarantine")))
                .hasMessageContaining("'tables[0].late-policy': quarantine needs a late table");
        assertThatThrownBy(
                        () ->
                                parse(
                                        pattern.replace("  type: postgres", "  type: mysql")
                                                .replace(
                                                        "new-tables: capture",
                                                        "new-tables: capture\n    history: scd2")))
                .hasMessageContaining(
                        "'tables[0].history': scd2 needs a history table per target, made before the start");
        assertThatThrownBy(() -> parse(pattern.replace("new-tables: capture", "new-tables: maybe")))
                .hasMessageContaining("'tables[0].new-tables': expected one of [ignore, capture]");
    }

    @Test
    void badPipelineIdAndSlot() {
        assertThatThrownBy(() -> parse(VALID.replace("  id: shop", "  id: shop demo")))
                .hasMessage(
                        "pipeline.yaml: 'pipeline.id': expected letters, digits, '_' or '-', got 'shop demo'");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "  username:",
                                                "  slot.name: Bad-Slot\n  username:")))
                .hasMessage(
                        "pipeline.yaml: 'source.slot.name': expected lower-case letters, digits and '_' (at most 63), got 'Bad-Slot'");
    }

    @Test
    void maxParallelismBelowParallelism() {
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "  parallelism: 2",
                                                "  parallelism: 4\n  max-parallelism: 2")))
                .hasMessage(
                        "pipeline.yaml: 'pipeline.max-parallelism' (2) must be at least 'pipeline.parallelism' (4)");
    }

    @Test
    void notYamlAndNotAMap() {
        assertThatThrownBy(() -> parse("pipeline: [unclosed"))
                .hasMessageStartingWith("pipeline.yaml: not valid YAML: ");
        assertThatThrownBy(() -> parse("- just\n- a list\n"))
                .hasMessage(
                        "pipeline.yaml: expected a YAML map with pipeline, checkpoint, source, catalog and tables");
    }

    @Test
    void missingFileIsNamed() {
        assertThatThrownBy(() -> loader.load(Path.of("/nonexistent/pipeline.yaml")))
                .hasMessage(
                        "/nonexistent/pipeline.yaml: no such file; pass an existing pipeline file to --config");
    }

    @Test
    void everyDocumentedKeyIsAccepted() {
        String full =
                VALID.replace(
                                "  parallelism: 2",
                                "  parallelism: 2\n  name: my-job\n  max-parallelism: 256")
                        .replace(
                                "  interval: 5s",
                                "  interval: 5s\n  timeout: 2min\n  dir: file:///cp\n  savepoint-dir: file:///sp\n  state-backend: rocksdb")
                        .replace(
                                "  username: replicator",
                                "  username: replicator\n  port: 6543\n  slot.name: s1\n  publication: p1\n"
                                        + "  scan.startup.mode: latest-offset\n  heartbeat.interval: 10s\n"
                                        + "  scan.incremental.snapshot.chunk.size: 100\n"
                                        + "  scan.snapshot.fetch.size: 50\n"
                                        + "  resnapshot.poll-interval: 2s\n"
                                        + "  debezium.snapshot.mode: never\n"
                                        + "  debezium:\n    tombstones.on.delete: \"false\"\n"
                                        + "  jdbc.properties.sslmode: require\n")
                        .replace("catalog:\n", "catalog:\n  name: lake\n");
        PipelineConfig config = parse(full);

        assertThat(config.jobName()).isEqualTo("my-job");
        assertThat(config.maxParallelism()).isEqualTo(256);
        assertThat(config.checkpointTimeout()).isEqualTo(Duration.ofMinutes(2));
        assertThat(config.checkpointDir()).isEqualTo("file:///cp");
        assertThat(config.savepointDir()).isEqualTo("file:///sp");
        assertThat(config.stateBackend()).isEqualTo("rocksdb");
        assertThat(config.source().port()).isEqualTo(6543);
        assertThat(config.source().slotName()).isEqualTo("s1");
        assertThat(config.source().publication()).isEqualTo("p1");
        assertThat(config.source().startupMode()).isEqualTo(StartupMode.LATEST_OFFSET);
        assertThat(config.source().heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.source().splitSize()).isEqualTo(100);
        assertThat(config.source().fetchSize()).isEqualTo(50);
        assertThat(config.source().resnapshotPollInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(config.source().properties())
                .containsEntry("snapshot.mode", "never")
                .containsEntry("tombstones.on.delete", "false");
        assertThat(config.source().jdbcProperties())
                .containsExactly(Map.entry("sslmode", "require"));
        assertThat(config.source().jdbcUrl())
                .isEqualTo("jdbc:postgresql://db.internal:6543/shop?sslmode=require");
        assertThat(config.catalogName()).isEqualTo("lake");
    }

    @Test
    void aPatternExcludesTablesByNameOrPattern() {
        String yaml =
                VALID.replace(
                        "tables:\n",
                        "tables:\n  - source: public.*\n    exclude: [audit_log, public.tmp_*]\n");
        TableConfig pattern =
                parse(yaml).tables().stream()
                        .filter(TableConfig::isPattern)
                        .findFirst()
                        .orElseThrow();
        assertThat(pattern.exclude()).containsExactly("public.audit_log", "public.tmp_*");
        assertThat(pattern.matches("public.accounts")).isTrue();
        assertThat(pattern.matches("public.audit_log")).isFalse();
        assertThat(pattern.matches("public.tmp_1")).isFalse();
        assertThat(pattern.matches("public.audit_logs")).isTrue();
        // Debezium's table filter: the same tables, in one expression
        Pattern filter = Pattern.compile(pattern.filterRegex());
        for (String table :
                List.of(
                        "public.accounts",
                        "public.audit_log",
                        "public.tmp_1",
                        "public.audit_logs")) {
            assertThat(filter.matcher(table).matches()).as(table).isEqualTo(pattern.matches(table));
        }
        assertThat(parse(yaml).describe()).contains("exclude: [public.audit_log, public.tmp_*]");

        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "tables:\n",
                                                "tables:\n  - source: public.*\n    exclude: [other.t]\n")))
                .hasMessage(
                        "pipeline.yaml: 'tables[0].exclude': 'other.t' is not of the pattern's namespace 'public'");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "tables:\n",
                                                "tables:\n  - source: public.x\n    exclude: [y]\n")))
                .hasMessage(
                        "pipeline.yaml: 'tables[0].exclude': only a pattern (such as schema.*) leaves tables out; 'public.x' names one table");
    }

    @Test
    void aTableIsLaidOutByPartitionPropertiesAndSortOrder() {
        String yaml =
                VALID.replace(
                        "tables:\n",
                        "tables:\n  - source: public.items\n"
                                + "    partition-by: [bucket(16, id), tenant]\n"
                                + "    sort-order: [id desc]\n"
                                + "    table-properties: {write.parquet.compression-codec: zstd}\n");
        TableConfig items =
                parse(yaml).tables().stream()
                        .filter(t -> t.source().equals("public.items"))
                        .findFirst()
                        .orElseThrow();
        assertThat(items.layout().partitionBy()).containsExactly("bucket(16, id)", "tenant");
        assertThat(items.layout().sortOrder()).containsExactly("id desc");
        assertThat(items.layout().properties())
                .containsExactly(Map.entry("write.parquet.compression-codec", "zstd"));
        assertThat(parse(yaml).describe())
                .contains(
                        "partition-by: [bucket(16, id), tenant]",
                        "sort-order: [id desc]",
                        "write.parquet.compression-codec: zstd");
        assertThatThrownBy(() -> parse(yaml.replace("bucket(16, id)", "bucket(id)")))
                .hasMessage(
                        "pipeline.yaml: 'tables[0]': partition-by 'bucket(id)': expected a column or an Iceberg "
                                + "transform: bucket(N, column), truncate(W, column), year(column), "
                                + "month(column), day(column), hour(column)");
        assertThatThrownBy(
                        () ->
                                parse(
                                        yaml.replace(
                                                "{write.parquet.compression-codec: zstd}",
                                                "{format-version: 3}")))
                .hasMessageContaining("table property 'format-version' is Tidemark's own");
    }

    @Test
    void tidemarksOldNamesAreDeprecatedAliasesOfFlinkCdcs() {
        String old =
                VALID.replace(
                        "  username: replicator",
                        "  username: replicator\n  slot-name: s1\n"
                                + "  startup-mode: latest-offset\n  heartbeat-interval: 10s\n"
                                + "  snapshot:\n    split-size: 100\n    fetch-size: 50\n"
                                + "  properties:\n    snapshot.mode: never");
        PipelineConfig config = parse(old);
        assertThat(config.source().slotName()).isEqualTo("s1");
        assertThat(config.source().startupMode()).isEqualTo(StartupMode.LATEST_OFFSET);
        assertThat(config.source().heartbeatInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.source().splitSize()).isEqualTo(100);
        assertThat(config.source().fetchSize()).isEqualTo(50);
        assertThat(config.source().properties()).containsEntry("snapshot.mode", "never");
        assertThat(config.describe())
                .contains("slot.name: s1", "scan.incremental.snapshot.chunk.size: 100")
                .doesNotContain("slot-name");

        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "  username: replicator",
                                                "  username: replicator\n  slot-name: s1\n  slot.name: s2")))
                .hasMessage(
                        "pipeline.yaml: 'source.slot-name' and 'source.slot.name' name the same option; keep 'source.slot.name'");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "  username: replicator",
                                                "  username: replicator\n  debezium.a: x\n  debezium:\n    a: y")))
                .hasMessage(
                        "pipeline.yaml: 'source.debezium.a' is set twice (once in the map 'source.debezium')");
    }

    private static final String TWO_SOURCES =
            VALID.replace(
                            "source:\n  type: postgres\n  hostname: db.internal\n  database: shop\n"
                                    + "  username: replicator\n  password: ${env:PG_PASSWORD}\n",
                            "sources:\n  - id: eu\n    type: postgres\n    hostname: eu.db\n    database: shop\n"
                                    + "    username: r\n  - id: us\n    type: postgres\n    hostname: us.db\n"
                                    + "    database: shop\n    username: r\n")
                    .replace(
                            "    primary-key: [id]",
                            "    primary-key: [id]\n    ordering: event-time:updated_at")
                    .replace(
                            "    target: shop.customers",
                            "    target: shop.customers\n    sources: [eu]");

    @Test
    void readsSeveralSources() {
        PipelineConfig config = parse(TWO_SOURCES);

        assertThat(config.sources())
                .extracting(PipelineConfig.SourceConfig::id)
                .containsExactly("eu", "us");
        assertThat(config.sources())
                .extracting(PipelineConfig.SourceConfig::slotName)
                .containsExactly("tidemark_shop_eu", "tidemark_shop_us");
        assertThat(config.tables().get(0).sources()).containsExactly("eu");
        assertThat(config.tables().get(1).sources()).containsExactly("eu", "us");
        assertThat(config.tables().get(1).ordering()).hasToString("event-time:updated_at");
    }

    @Test
    void aTableOfSeveralSourcesNeedsAnEventTimeRule() {
        assertThatThrownBy(
                        () ->
                                parse(
                                        TWO_SOURCES.replace(
                                                "    ordering: event-time:updated_at\n", "")))
                .hasMessage(
                        "pipeline.yaml: 'tables[1].ordering': table 'public.orders' is fed by 2 sources "
                                + "[eu, us]; commit order exists only within one source, so declare 'event-time:<column>'");
    }

    @Test
    void sourcesErrorsNameTheEntry() {
        assertThatThrownBy(() -> parse(TWO_SOURCES.replace("hostname: us.db", "hostnme: us.db")))
                .hasMessage(
                        "pipeline.yaml: unknown key 'sources[1].hostnme' (did you mean 'sources[1].hostname'?)");
        assertThatThrownBy(() -> parse(TWO_SOURCES.replace("sources: [eu]", "sources: [asia]")))
                .hasMessage(
                        "pipeline.yaml: 'tables[0].sources': no source with id 'asia' (sources: [eu, us])");
        assertThatThrownBy(() -> parse(TWO_SOURCES.replace("- id: us", "- id: eu")))
                .hasMessage("pipeline.yaml: 'sources[1].id': source 'eu' is declared twice");
        assertThatThrownBy(() -> parse(TWO_SOURCES + "source:\n  hostname: x\n"))
                .hasMessage(
                        "pipeline.yaml: set either 'source' (one database) or 'sources' (a list), not both");
    }

    @Test
    void badOrderingAndLatePolicyAreNamed() {
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "    primary-key: [id]",
                                                "    primary-key: [id]\n    ordering: arrival")))
                .hasMessage(
                        "pipeline.yaml: 'tables[1].ordering': expected 'commit-order' or 'event-time:<column>', got 'arrival'");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "    primary-key: [id]",
                                                "    primary-key: [id]\n    late-policy: drop")))
                .hasMessage(
                        "pipeline.yaml: 'tables[1].late-policy': expected one of [apply-if-newer, quarantine, fail], got 'drop'");
    }

    @Test
    void contractVersionsAndTheirDirectory() {
        String withContract =
                VALID.replace("    primary-key: [id]", "    primary-key: [id]\n    contract: v2");
        assertThatThrownBy(() -> parse(withContract))
                .hasMessage(
                        "pipeline.yaml: 'tables[1].contract' names a contract version but 'contracts.dir' is not set");
        PipelineConfig config = parse(withContract + "contracts:\n  dir: contracts\n");
        assertThat(config.contractsDir()).isEqualTo("contracts");
        assertThat(config.tables().get(1).contract()).isEqualTo(2);
        assertThat(config.tables().get(0).contract()).isNull();
        assertThat(config.describe()).contains("contract: v2").contains("dir: contracts");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "    primary-key: [id]",
                                                "    primary-key: [id]\n    contract: latest")))
                .hasMessage(
                        "pipeline.yaml: 'tables[1].contract': expected a contract version (1, 2, ... or v1, v2, ...), got 'latest'");
    }

    @Test
    void schemaEvolutionAndTruncatePoliciesOfTablesWithoutAContract() {
        PipelineConfig defaults = parse(VALID);
        assertThat(defaults.tables())
                .allSatisfy(
                        t -> {
                            assertThat(t.schemaEvolution()).isEqualTo(EvolutionPolicy.EVOLVE);
                            assertThat(t.truncate()).isEqualTo(TruncatePolicy.APPLY);
                        });

        PipelineConfig strict =
                parse(
                        VALID.replace("pipeline:\n", "pipeline:\n  schema-evolution: fail\n")
                                .replace(
                                        "    primary-key: [id]",
                                        "    primary-key: [id]\n    schema-evolution: quarantine\n"
                                                + "    truncate: fail"));
        assertThat(strict.tables().get(0).schemaEvolution()).isEqualTo(EvolutionPolicy.FAIL);
        assertThat(strict.tables().get(1).schemaEvolution()).isEqualTo(EvolutionPolicy.QUARANTINE);
        assertThat(strict.tables().get(1).truncate()).isEqualTo(TruncatePolicy.FAIL);
        assertThat(
                        parse(
                                        VALID.replace(
                                                "pipeline:\n",
                                                "pipeline:\n  schema-evolution: lenient\n"))
                                .tables()
                                .get(0)
                                .schemaEvolution())
                .isEqualTo(EvolutionPolicy.LENIENT);

        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                        "    primary-key: [id]",
                                                        "    primary-key: [id]\n    contract: v2\n"
                                                                + "    schema-evolution: evolve")
                                                + "contracts:\n  dir: contracts\n"))
                .hasMessageContaining("'tables[1].schema-evolution': the table has a contract");
        assertThatThrownBy(
                        () ->
                                parse(
                                        VALID.replace(
                                                "    primary-key: [id]",
                                                "    primary-key: [id]\n    truncate: ignore")))
                .hasMessageContaining(
                        "'tables[1].truncate': expected one of [apply, quarantine, fail]");
    }
}
