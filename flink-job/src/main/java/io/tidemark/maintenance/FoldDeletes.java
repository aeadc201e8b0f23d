package io.tidemark.maintenance;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.runtime.RunContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.iceberg.Table;
import org.apache.iceberg.flink.TableLoader;
import org.apache.iceberg.flink.maintenance.api.ExternalMaintenanceTask;
import org.apache.iceberg.flink.maintenance.api.TaskResult;
import org.apache.iceberg.flink.maintenance.api.Trigger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The fold of a table's recent data and delete files ({@link DeleteFold}) as a task of its Iceberg
 * Flink {@code TableMaintenance}: scheduled like Iceberg's own tasks (for example {@link
 * #scheduleOnEqDeleteFileCount}), run under the same lock, so never beside the table's compaction.
 * A fold that fails (a compaction by another engine replaced the same files) is reported as the
 * task's failure and runs again at its next trigger; it never fails the job.
 */
public final class FoldDeletes {

    private FoldDeletes() {}

    /** The task; its snapshots carry {@code summary} (the run id, the code version). */
    public static Builder builder(Map<String, String> summary) {
        return new Builder(summary);
    }

    /** Builds the fold task of one table's maintenance. */
    public static final class Builder extends ExternalMaintenanceTask<Builder> {

        private static final String OPERATOR_NAME = "Fold deletes";

        private final HashMap<String, String> summary;

        private Builder(Map<String, String> summary) {
            this.summary = new HashMap<>(summary);
        }

        @Override
        protected DataStream<TaskResult> appendTask(DataStream<Trigger> triggers) {
            SingleOutputStreamOperator<TaskResult> fold =
                    triggers.process(new Processor(tableLoader(), summary))
                            .name(operatorName(OPERATOR_NAME))
                            .uid(OPERATOR_NAME + uidSuffix())
                            .forceNonParallel();
            // none set: the default group (as Iceberg's tasks do)
            return slotSharingGroup() == null ? fold : fold.slotSharingGroup(slotSharingGroup());
        }

        @Override
        protected String name() {
            return "FoldDeletes";
        }
    }

    /**
     * The result of a fold that failed with {@code e}. Its list of exceptions is an {@link
     * ArrayList}: the lock remover reads results through Flink's Kryo, which fills a collection of
     * the class written, and an immutable one ({@code List.of}) failed the job.
     */
    static TaskResult failed(Trigger trigger, Exception e) {
        List<Exception> exceptions = new ArrayList<>();
        exceptions.add(e);
        return new TaskResult(trigger.taskId(), trigger.timestamp(), false, exceptions);
    }

    /** Folds the table at each trigger. */
    private static final class Processor extends ProcessFunction<Trigger, TaskResult> {

        private static final long serialVersionUID = 1L;

        private static final Logger LOG = LoggerFactory.getLogger(Processor.class);

        private final TableLoader loader;
        private final HashMap<String, String> summary;

        private transient Table table;

        Processor(TableLoader loader, HashMap<String, String> summary) {
            this.loader = loader;
            this.summary = summary;
        }

        @Override
        public void open(Configuration parameters) {
            String runId = summary.get(Provenance.RUN_ID);
            if (runId != null) {
                // the task's thread (Iceberg's maintenance operators are chained to it)
                MDC.put(RunContext.MDC_RUN_ID, runId);
            }
            loader.open();
            table = loader.loadTable();
        }

        @Override
        public void processElement(Trigger trigger, Context context, Collector<TaskResult> out) {
            try {
                DeleteFold.fold(table, summary);
                out.collect(
                        new TaskResult(
                                trigger.taskId(), trigger.timestamp(), true, new ArrayList<>()));
            } catch (RuntimeException e) {
                LOG.warn(
                        "Could not fold the delete files of {}; folding again at its next trigger",
                        table.name(),
                        e);
                out.collect(failed(trigger, e));
            }
        }

        @Override
        public void close() throws Exception {
            loader.close();
        }
    }
}
