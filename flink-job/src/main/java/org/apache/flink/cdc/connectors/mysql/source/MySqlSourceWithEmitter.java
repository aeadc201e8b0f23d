package org.apache.flink.cdc.connectors.mysql.source;

import org.apache.flink.cdc.connectors.mysql.source.config.MySqlSourceConfig;
import org.apache.flink.cdc.connectors.mysql.source.metrics.MySqlSourceReaderMetrics;
import org.apache.flink.cdc.connectors.mysql.source.reader.MySqlRecordEmitter;
import org.apache.flink.cdc.debezium.DebeziumDeserializationSchema;

/**
 * Flink CDC's {@link MySqlSource} with a record emitter of Tidemark's. The constructor that takes
 * an emitter is package-private (Flink CDC's own pipeline connector calls it from this package), so
 * this bridge lives here; it holds no logic. It needs {@link MySqlSource} from the same class
 * loader (the job jar, which bundles the connector), not from a copy in Flink's {@code lib/}.
 */
public final class MySqlSourceWithEmitter {

    /** Makes the emitter of one reader (serializable: it travels with the source). */
    @FunctionalInterface
    public interface Emitters<T> extends java.io.Serializable {
        MySqlRecordEmitter<T> create(
                DebeziumDeserializationSchema<T> deserializer,
                MySqlSourceReaderMetrics metrics,
                MySqlSourceConfig config);
    }

    private MySqlSourceWithEmitter() {}

    /** {@code built}'s configuration and deserializer, its records emitted by {@code emitters}. */
    public static <T> MySqlSource<T> of(
            MySqlSource<T> built,
            DebeziumDeserializationSchema<T> deserializer,
            Emitters<T> emitters) {
        return new MySqlSource<>(
                built.getConfigFactory(),
                deserializer,
                (metrics, config) -> emitters.create(deserializer, metrics, config));
    }
}
