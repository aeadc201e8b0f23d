package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfigLoader;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The Postgres connector's own connections (Debezium's, the replication one included) take the
 * pipeline's {@code source.jdbc.properties} as {@code database.<property>}, which Debezium passes
 * to the JDBC driver, so TLS set once reaches every connection; a {@code
 * source.debezium.database.*} setting of the user's wins.
 */
class PostgresCdcSourceTest {

    private static SourceConfig source(String extra) {
        return new PipelineConfigLoader()
                .parse(
                        """
                        pipeline: {id: jdbc-props}
                        checkpoint: {interval: 10s, dir: 'file:///cp'}
                        source:
                          type: postgres
                          hostname: db.internal
                          database: shop
                          username: replicator
                        %s
                        catalog: {type: jdbc, properties: {uri: 'jdbc:postgresql://c/iceberg', warehouse: 'file:///w'}}
                        tables:
                          - {source: public.orders, target: shop.orders}
                        """
                                .formatted(extra),
                        "jdbc-props.yaml")
                .source();
    }

    private static final PostgresCdcSource.SourceColumns COLUMNS =
            new PostgresCdcSource.SourceColumns("", "public.orders.id");

    @Test
    void jdbcPropertiesReachTheConnectorsOwnConnections() {
        Properties debezium =
                PostgresCdcSource.debeziumProperties(
                        source(
                                "  jdbc.properties.sslmode: verify-full\n"
                                        + "  jdbc.properties.sslrootcert: /etc/ssl/pg-ca.pem"),
                        COLUMNS);

        assertThat(debezium)
                .containsEntry("database.sslmode", "verify-full")
                .containsEntry("database.sslrootcert", "/etc/ssl/pg-ca.pem")
                .containsEntry("publication.autocreate.mode", "disabled");
    }

    @Test
    void aDebeziumDatabaseSettingOfTheUsersWins() {
        Properties debezium =
                PostgresCdcSource.debeziumProperties(
                        source(
                                "  jdbc.properties.sslmode: require\n"
                                        + "  debezium.database.sslmode: verify-ca"),
                        COLUMNS);

        assertThat(debezium).containsEntry("database.sslmode", "verify-ca");
        assertThat(source("").jdbcProperties()).isEmpty();
        assertThat(PostgresCdcSource.debeziumProperties(source(""), COLUMNS))
                .doesNotContainKey("database.sslmode");
    }

    @Test
    void aSlotAnotherSessionStillHoldsIsTriedAgainSoonForAMinuteUnlessTheUserSetsIt() {
        assertThat(PostgresCdcSource.debeziumProperties(source(""), COLUMNS))
                .containsEntry(PostgresCdcSource.SLOT_RETRY_DELAY, "500")
                .containsEntry(PostgresCdcSource.SLOT_MAX_RETRIES, "120");
        assertThat(
                        PostgresCdcSource.debeziumProperties(
                                source(
                                        "  debezium.slot.retry.delay.ms: 2000\n"
                                                + "  debezium.slot.max.retries: 30"),
                                COLUMNS))
                .containsEntry(PostgresCdcSource.SLOT_RETRY_DELAY, "2000")
                .containsEntry(PostgresCdcSource.SLOT_MAX_RETRIES, "30");
    }

    @Test
    void snapshotChunksArePolledEvery50MillisecondsUnlessThePipelineSetsItTheLogKeepsItsOwn() {
        Properties none = PostgresCdcSource.debeziumProperties(source(""), COLUMNS);
        assertThat(none).doesNotContainKey(PostgresCdcSource.POLL_INTERVAL);
        assertThat(chunkPolling(none)).isEqualTo(50);
        Properties set =
                PostgresCdcSource.debeziumProperties(
                        source("  debezium.poll.interval.ms: 500"), COLUMNS);
        assertThat(chunkPolling(set)).isEqualTo(500);
    }

    private static long chunkPolling(Properties debezium) {
        Properties all = new Properties();
        all.putAll(debezium);
        all.setProperty("database.server.name", "test");
        all.setProperty("topic.prefix", "test");
        io.debezium.connector.postgresql.PostgresConnectorConfig config =
                new io.debezium.connector.postgresql.PostgresConnectorConfig(
                        io.debezium.config.Configuration.from(all));
        return PostgresHandOverContext.chunkPolling(config).getPollInterval().toMillis();
    }
}
