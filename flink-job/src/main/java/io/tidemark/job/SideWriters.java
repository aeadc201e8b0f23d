package io.tidemark.job;

import io.tidemark.commit.AppendWriter;
import io.tidemark.commit.HistoryWriter;
import io.tidemark.config.PipelineConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.reconcile.Reconciler;
import io.tidemark.runtime.RunContext;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.table.data.RowData;

/**
 * The writers of the side tables, on the same checkpoints as the targets' writer: the versions of
 * the rows of the tables that keep a history, the late changes under the quarantine late policy,
 * the changes the contract gate quarantined. Their file lists join the targets' for the committer.
 */
final class SideWriters {

    private SideWriters() {}

    static DataStream<byte[]> attach(
            DataStream<byte[]> written,
            PipelineConfig config,
            RunContext run,
            JobWiring wiring,
            DataStream<RowData> quarantined,
            SingleOutputStreamOperator<ChangeEvent> reconciled) {
        TypeInformation<byte[]> bytes = PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
        DataStream<byte[]> toCommit = written;
        if (!wiring.histories().isEmpty()) {
            // keyed like the reconciler, whose subtask emitted each version: no exchange
            toCommit =
                    toCommit.union(
                            DataStreamUtils.reinterpretAsKeyedStream(
                                            reconciled.getSideOutput(Reconciler.HISTORY),
                                            (KeySelector<Tuple2<Long, ChangeEvent>, String>)
                                                    version -> Reconciler.keyOf(version.f1),
                                            Types.STRING)
                                    .transform(
                                            "write history",
                                            bytes,
                                            new HistoryWriter(
                                                    run,
                                                    TidemarkJob.catalogLoader(config),
                                                    wiring.histories()))
                                    .uid(Uids.HISTORY_WRITER));
        }
        if (!wiring.lateTables().isEmpty()) {
            toCommit =
                    toCommit.union(
                            reconciled
                                    .getSideOutput(Reconciler.LATE)
                                    .transform(
                                            "write late",
                                            bytes,
                                            new AppendWriter(
                                                    run,
                                                    TidemarkJob.catalogLoader(config),
                                                    wiring.lateTables(),
                                                    "late"))
                                    .uid(Uids.LATE_WRITER));
        }
        if (!wiring.quarantineTables().isEmpty()) {
            toCommit =
                    toCommit.union(
                            quarantined
                                    .transform(
                                            "write quarantine",
                                            bytes,
                                            new AppendWriter(
                                                    run,
                                                    TidemarkJob.catalogLoader(config),
                                                    wiring.quarantineTables(),
                                                    "quarantine"))
                                    .uid(Uids.QUARANTINE_WRITER));
        }
        return toCommit;
    }
}
