package io.tidemark.source;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.cdc.connectors.base.options.StartupOptions;
import org.apache.flink.cdc.connectors.postgres.source.PostgresSourceBuilder;
import org.apache.flink.cdc.connectors.postgres.source.PostgresSourceBuilder.PostgresIncrementalSource;

/**
 * Builds the Flink CDC Postgres incremental source: pgoutput, parallel snapshot chunks with
 * exactly-once hand-over to the log, decoded straight into {@link ChangeEvent}s.
 */
public final class PostgresCdcSource {

    private PostgresCdcSource() {}

    /**
     * @param primaryKeys source table ({@code schema.table}) to its resolved key columns
     */
    public static PostgresIncrementalSource<ChangeEvent> create(
            PipelineConfig config, Map<String, List<String>> primaryKeys) {
        SourceConfig source = config.source();
        Properties debezium = new Properties();
        debezium.setProperty("publication.name", source.publication());
        // Tidemark prepares the publication (PostgresPublication); Debezium must never rewrite it
        debezium.setProperty("publication.autocreate.mode", "disabled");
        debezium.setProperty("decimal.handling.mode", "precise");
        debezium.putAll(source.properties());
        String[] tables = config.tables().stream().map(TableConfig::source).toArray(String[]::new);
        String[] schemas =
                config.tables().stream()
                        .map(t -> t.source().substring(0, t.source().indexOf('.')))
                        .distinct()
                        .toArray(String[]::new);
        return PostgresSourceBuilder.PostgresIncrementalSource.<ChangeEvent>builder()
                .hostname(source.hostname())
                .port(source.port())
                .database(source.database())
                .schemaList(schemas)
                .tableList(tables)
                .username(source.username())
                .password(source.password())
                .slotName(source.slotName())
                .decodingPluginName("pgoutput")
                .splitSize(source.splitSize())
                .fetchSize(source.fetchSize())
                .heartbeatInterval(source.heartbeatInterval())
                .startupOptions(
                        "latest-offset".equals(source.startupMode())
                                ? StartupOptions.latest()
                                : StartupOptions.initial())
                .debeziumProperties(debezium)
                .deserializer(new ChangeEventDeserializer(new DebeziumDecoder(primaryKeys)))
                .build();
    }
}
