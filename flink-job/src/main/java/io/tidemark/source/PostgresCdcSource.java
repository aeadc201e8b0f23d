package io.tidemark.source;

import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.config.StartupMode;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.DebeziumDecoder;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.cdc.connectors.base.options.StartupOptions;
import org.apache.flink.cdc.connectors.postgres.source.PostgresSourceBuilder.PostgresIncrementalSource;
import org.apache.flink.cdc.connectors.postgres.source.config.PostgresSourceConfigFactory;
import org.apache.flink.cdc.connectors.postgres.source.offset.PostgresOffsetFactory;
import org.apache.flink.cdc.debezium.DebeziumDeserializationSchema;
import org.apache.flink.util.Preconditions;

/**
 * Builds the Flink CDC Postgres incremental source: pgoutput, parallel snapshot chunks with
 * exactly-once hand-over to the log ({@link SnapshotHandOver}, through {@link
 * PostgresHandOverDialect}: Flink CDC 3.5's own hand-over loses a change made while a chunk is
 * read, issue 17), decoded straight into {@link ChangeEvent}s.
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

    /**
     * What the source's Debezium needs to know of {@code tables}' columns, read from the source
     * when the job is built: the generated columns as a {@code column.exclude.list} (see {@link
     * PostgresGeneratedColumns}) and the primary key columns ({@code schema.table.column}), which
     * keep Debezium's decimals (see {@link NumericTextConverter}).
     */
    record SourceColumns(String generated, String keys) {}

    private static SourceColumns sourceColumns(SourceConfig source, List<String> tables) {
        try (java.sql.Connection connection = SourceDialect.of(source).connect()) {
            List<String> keys = new java.util.ArrayList<>();
            for (String table : tables) {
                String[] parts = table.split("\\.", 2);
                for (String column :
                        PostgresSchemaReader.primaryKey(connection, parts[0], parts[1])) {
                    keys.add(table + "." + column);
                }
            }
            return new SourceColumns(
                    PostgresGeneratedColumns.excludeList(
                            PostgresGeneratedColumns.of(connection, tables)),
                    String.join(",", keys));
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(
                    "cannot read the columns of " + tables + ": " + e.getMessage(), e);
        }
    }

    private static String append(String list, String item) {
        return list == null || list.isBlank() ? item : list + "," + item;
    }

    /** The source of {@code tables} with its own deserializer (tests wrap Tidemark's). */
    public static PostgresIncrementalSource<ChangeEvent> create(
            SourceConfig source,
            List<String> tables,
            DebeziumDeserializationSchema<ChangeEvent> deserializer) {
        PostgresSourceConfigFactory factory = configFactory(source, tables, source.slotName());
        factory.startupOptions(startupOptions(source.startupMode()));
        // a table added to the pipeline file is snapshotted, then followed in the log, when the
        // job restores from a savepoint (the existing tables keep their state)
        factory.scanNewlyAddedTableEnabled(true);
        PostgresOffsetFactory offsets = new PostgresOffsetFactory();
        return PostgresSplitSerializer.install(
                new PostgresIncrementalSource<>(
                        factory,
                        Preconditions.checkNotNull(deserializer),
                        offsets,
                        new PostgresHandOverDialect(factory.create(0))),
                offsets);
    }

    /** Debezium's pause before it tries again to start reading a slot another session holds. */
    static final String SLOT_RETRY_DELAY = "slot.retry.delay.ms";

    /** How many times Debezium tries to start reading a slot another session holds. */
    static final String SLOT_MAX_RETRIES = "slot.max.retries";

    /**
     * How long Debezium's log reader sleeps when the slot has sent nothing new, and its queue's
     * reader when the queue is empty.
     */
    static final String POLL_INTERVAL = "poll.interval.ms";

    /** {@link #POLL_INTERVAL} while a snapshot chunk and its backfill are read, unless set. */
    static final String CHUNK_POLL_INTERVAL = "50";

    /**
     * Debezium's settings for {@code source} as Tidemark reads it, over {@code columns}: the
     * publication Tidemark prepares, decimals as text, the user's {@code source.debezium.*}, each
     * {@code source.jdbc.properties} entry also as {@code database.<property>} (so the connector's
     * own connections, the replication one included, take it, TLS settings for one), unless the
     * user set that one in {@code source.debezium} too.
     */
    static Properties debeziumProperties(SourceConfig source, SourceColumns columns) {
        Properties debezium = new Properties();
        debezium.setProperty("publication.name", source.publication());
        // Tidemark prepares the publication (PostgresPublication); Debezium must never rewrite it
        debezium.setProperty("publication.autocreate.mode", "disabled");
        debezium.setProperty("decimal.handling.mode", "precise");
        // a slot still held by the connection that just used it (a chunk's backfill before the
        // next one's, a reader of a failed task): tried again every 500 ms for a minute, as long
        // as Debezium's six tries 10 s apart, which stalled a snapshot 10 s at such a hand-over
        debezium.setProperty(SLOT_RETRY_DELAY, "500");
        debezium.setProperty(SLOT_MAX_RETRIES, "120");
        source.jdbcProperties()
                .forEach((key, value) -> debezium.setProperty("database." + key, value));
        debezium.putAll(source.properties());
        // the decoder recognises Debezium's stand-in for an unsent value by this text
        debezium.setProperty("unavailable.value.placeholder", DebeziumDecoder.UNAVAILABLE);
        // a TRUNCATE is a change like any other: each table's 'truncate' policy decides
        debezium.setProperty("truncate.handling.mode", "include");
        String generated = columns.generated();
        // numerics as their text: NaN and infinities reach the decoder as themselves
        debezium.setProperty(
                "converters", append(debezium.getProperty("converters"), "tidemark_numeric"));
        debezium.setProperty("tidemark_numeric.type", NumericTextConverter.class.getName());
        debezium.setProperty("tidemark_numeric." + NumericTextConverter.KEYS, columns.keys());
        if (!generated.isEmpty()) {
            String excluded = debezium.getProperty("column.exclude.list");
            debezium.setProperty(
                    "column.exclude.list",
                    excluded == null || excluded.isBlank()
                            ? generated
                            : excluded + "," + generated);
        }
        return debezium;
    }

    /**
     * Flink CDC's settings for reading {@code tables} of {@code source} as Tidemark reads them
     * (Debezium's properties, the publication, numerics as text, generated columns left out), with
     * {@code slotName} as the replication slot (a chunk's backfill uses {@code slotName_N}).
     */
    static PostgresSourceConfigFactory configFactory(
            SourceConfig source, List<String> tables, String slotName) {
        Properties debezium = debeziumProperties(source, sourceColumns(source, tables));
        String[] schemas =
                tables.stream()
                        .map(t -> t.substring(0, t.indexOf('.')))
                        .distinct()
                        .toArray(String[]::new);
        // the builder's settings, on a factory of our own: the source is built with Tidemark's
        // dialect (PostgresSourceBuilder.build() always uses Flink CDC's)
        PostgresSourceConfigFactory factory = new PostgresSourceConfigFactory();
        factory.hostname(source.hostname());
        factory.port(source.port());
        factory.database(source.database());
        factory.schemaList(schemas);
        // Debezium reads each entry as a regular expression: a name with spaces, '$' and the
        // like is escaped
        factory.tableList(
                tables.stream()
                        .map(t -> t.matches("[\\w.]+") ? t : TableConfig.regex(t))
                        .toArray(String[]::new));
        factory.username(source.username());
        factory.password(source.password());
        factory.slotName(slotName);
        factory.decodingPluginName("pgoutput");
        factory.splitSize(source.splitSize());
        factory.fetchSize(source.fetchSize());
        factory.heartbeatInterval(source.heartbeatInterval());
        // a partitioned table is read as one (its partitions' rows, and its partitions' changes,
        // which the publication reports under its name)
        factory.setIncludePartitionedTables(true);
        factory.debeziumProperties(debezium);
        return factory;
    }

    static StartupOptions startupOptions(StartupMode mode) {
        return switch (mode) {
            case LATEST_OFFSET -> StartupOptions.latest();
            case COMMITTED_OFFSET -> StartupOptions.committed();
            case INITIAL -> StartupOptions.initial();
        };
    }
}
