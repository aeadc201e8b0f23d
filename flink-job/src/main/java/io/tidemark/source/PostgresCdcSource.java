package io.tidemark.source;

import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.cdc.connectors.base.options.StartupOptions;
import org.apache.flink.cdc.connectors.postgres.source.PostgresSourceBuilder;
import org.apache.flink.cdc.connectors.postgres.source.PostgresSourceBuilder.PostgresIncrementalSource;
import org.apache.flink.cdc.debezium.DebeziumDeserializationSchema;

/**
 * Builds the Flink CDC Postgres incremental source: pgoutput, parallel snapshot chunks with
 * exactly-once hand-over to the log, decoded straight into {@link ChangeEvent}s.
 *
 * <p>Newly added tables are scanned: a pipeline restored from a savepoint with one more table in
 * its file snapshots that table and then follows it in the log, while the tables it had keep their
 * state. The publication gains the table before the job starts ({@link PostgresPublication}).
 */
public final class PostgresCdcSource {

    private PostgresCdcSource() {}

    /**
     * @param source the database to read
     * @param tables the tables ({@code schema.table}) this source captures
     * @param primaryKeys source table to its resolved key columns
     */
    public static PostgresIncrementalSource<ChangeEvent> create(
            SourceConfig source, List<String> tables, Map<String, List<String>> primaryKeys) {
        return create(
                source,
                tables,
                new ChangeEventDeserializer(new DebeziumDecoder(source.id(), primaryKeys)));
    }

    /** The source of {@code tables} with its own deserializer (tests wrap Tidemark's). */
    public static PostgresIncrementalSource<ChangeEvent> create(
            SourceConfig source,
            List<String> tables,
            DebeziumDeserializationSchema<ChangeEvent> deserializer) {
        Properties debezium = new Properties();
        debezium.setProperty("publication.name", source.publication());
        // Tidemark prepares the publication (PostgresPublication); Debezium must never rewrite it
        debezium.setProperty("publication.autocreate.mode", "disabled");
        debezium.setProperty("decimal.handling.mode", "precise");
        debezium.putAll(source.properties());
        String[] schemas =
                tables.stream()
                        .map(t -> t.substring(0, t.indexOf('.')))
                        .distinct()
                        .toArray(String[]::new);
        return PostgresSourceBuilder.PostgresIncrementalSource.<ChangeEvent>builder()
                .hostname(source.hostname())
                .port(source.port())
                .database(source.database())
                .schemaList(schemas)
                .tableList(tables.toArray(String[]::new))
                .username(source.username())
                .password(source.password())
                .slotName(source.slotName())
                .decodingPluginName("pgoutput")
                .splitSize(source.splitSize())
                .fetchSize(source.fetchSize())
                .heartbeatInterval(source.heartbeatInterval())
                .startupOptions(startupOptions(source.startupMode()))
                // a table added to the pipeline file is snapshotted, then followed in the log,
                // when the job restores from a savepoint (the existing tables keep their state)
                .scanNewlyAddedTableEnabled(true)
                .debeziumProperties(debezium)
                .deserializer(deserializer)
                .build();
    }

    static StartupOptions startupOptions(String mode) {
        switch (mode) {
            case "latest-offset":
                return StartupOptions.latest();
            case "committed-offset":
                return StartupOptions.committed();
            default:
                return StartupOptions.initial();
        }
    }
}
