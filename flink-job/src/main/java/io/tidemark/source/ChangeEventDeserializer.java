package io.tidemark.source;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.decode.DebeziumDecoder;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;
import org.apache.flink.cdc.debezium.DebeziumDeserializationSchema;
import org.apache.flink.util.Collector;

/** The Flink CDC hook around {@link DebeziumDecoder}: Debezium records in, ChangeEvents out. */
public final class ChangeEventDeserializer implements DebeziumDeserializationSchema<ChangeEvent> {

    private static final long serialVersionUID = 1L;

    private final DebeziumDecoder decoder;

    public ChangeEventDeserializer(DebeziumDecoder decoder) {
        this.decoder = decoder;
    }

    @Override
    public void deserialize(SourceRecord record, Collector<ChangeEvent> out) {
        ChangeEvent event = decoder.decode(record);
        if (event != null) {
            out.collect(event);
        }
    }

    @Override
    public TypeInformation<ChangeEvent> getProducedType() {
        return ChangeEventTypeInfo.INSTANCE;
    }
}
