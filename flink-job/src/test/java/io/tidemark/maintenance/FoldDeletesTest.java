package io.tidemark.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.flink.maintenance.api.TaskResult;
import org.apache.iceberg.flink.maintenance.api.Trigger;
import org.junit.jupiter.api.Test;

/**
 * The fold task's results cross the network to Iceberg's lock remover through Flink's serializer of
 * {@link TaskResult} (Kryo): a failed fold's result read back, its exception with it (an immutable
 * list of exceptions failed the job's maintenance, seen in {@code MaintenanceBenchmark} when a fold
 * lost a race).
 */
class FoldDeletesTest {

    @Test
    void aFailedFoldsResultCrossesTheNetwork() throws Exception {
        TaskResult failed =
                FoldDeletes.failed(
                        Trigger.create(1_234L, 3),
                        new ValidationException("Missing required files to delete: %s", "f"));
        TypeSerializer<TaskResult> serializer =
                TypeInformation.of(TaskResult.class).createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(256);
        serializer.serialize(failed, out);
        TaskResult read = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        assertThat(read.taskIndex()).isEqualTo(3);
        assertThat(read.startEpoch()).isEqualTo(1_234L);
        assertThat(read.success()).isFalse();
        assertThat(read.exceptions())
                .singleElement()
                .satisfies(
                        e ->
                                assertThat(e)
                                        .isInstanceOf(ValidationException.class)
                                        .hasMessageContaining("Missing required files"));
    }
}
