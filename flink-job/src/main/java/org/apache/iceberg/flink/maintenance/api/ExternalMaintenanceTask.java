package org.apache.iceberg.flink.maintenance.api;

import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * A maintenance task of Iceberg's Flink {@link TableMaintenance} defined outside Iceberg: the
 * methods a task implements are package-private in Iceberg 1.11 ({@code append}, {@code
 * maintenanceTaskName}), so a task of another package cannot join the table's maintenance, its
 * schedule and its lock. This class, in Iceberg's package, opens them as protected methods and
 * nothing else.
 */
public abstract class ExternalMaintenanceTask<T extends ExternalMaintenanceTask<?>>
        extends MaintenanceTaskBuilder<T> {

    /**
     * The task's operators, after the stream of its triggers: one {@link TaskResult} per trigger,
     * from operators of the {@link #uidSuffix()}, {@link #slotSharingGroup()} and {@link
     * #parallelism()} set.
     */
    protected abstract DataStream<TaskResult> appendTask(DataStream<Trigger> triggers);

    /** The task's name in logs and metrics. */
    protected abstract String name();

    @Override
    final DataStream<TaskResult> append(DataStream<Trigger> triggers) {
        return appendTask(triggers);
    }

    @Override
    final String maintenanceTaskName() {
        return name();
    }
}
