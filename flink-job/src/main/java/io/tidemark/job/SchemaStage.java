package io.tidemark.job;

import io.tidemark.config.PipelineConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.runtime.RunContext;
import io.tidemark.schema.LiveTableStage;
import io.tidemark.schema.SchemaApplier;
import io.tidemark.source.LiveTables;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The schema stage in the graph: the one subtask that changes Iceberg tables' schemas and makes the
 * tables of tables created in the source while the job runs ({@link SchemaApplier}), asked by the
 * writers and by the stage after the source ({@link LiveTableStage}).
 */
final class SchemaStage {

    private final DataStream<ChangeEvent> changes;

    /** What the stage after the source asks for (null: no pattern captures new tables). */
    private final DataStream<String> tablesToMake;

    private SchemaStage(DataStream<ChangeEvent> changes, DataStream<String> tablesToMake) {
        this.changes = changes;
        this.tablesToMake = tablesToMake;
    }

    /**
     * After the source: a change of a table created while the job runs waits there for its Iceberg
     * table; every operator after it reads the table from the catalog.
     */
    static SchemaStage afterSource(
            DataStream<ChangeEvent> changes, RunContext run, LiveTables live) {
        if (live.isEmpty()) {
            return new SchemaStage(changes, null);
        }
        SingleOutputStreamOperator<ChangeEvent> made =
                changes.process(new LiveTableStage(run, live), ChangeEventTypeInfo.INSTANCE)
                        .uid(Uids.LIVE_TABLES)
                        .name("live tables");
        return new SchemaStage(made, made.getSideOutput(LiveTableStage.REQUESTS));
    }

    /** The changes, past the stage after the source where there is one. */
    DataStream<ChangeEvent> changes() {
        return changes;
    }

    /**
     * The stage itself, taking {@code writersNeed} and the tables to make. Never chained to the
     * writers: at parallelism 1 the chain would take the stage's max parallelism, and savepoints of
     * the writers' chain would not restore at another one.
     */
    void attach(
            DataStream<String> writersNeed,
            PipelineConfig config,
            RunContext run,
            LiveTables live) {
        DataStream<String> requests =
                tablesToMake == null ? writersNeed : writersNeed.union(tablesToMake);
        requests.process(
                        new SchemaApplier(run, TidemarkJob.catalogLoader(config), live), Types.VOID)
                .uid(Uids.SCHEMA_STAGE)
                .name("schema changes")
                .setParallelism(1)
                .setMaxParallelism(1)
                .disableChaining()
                .sinkTo(new DiscardingSink<>())
                .uid(Uids.SCHEMA_END)
                .name("schema end")
                .setParallelism(1);
    }
}
