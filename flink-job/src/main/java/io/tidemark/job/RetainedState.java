package io.tidemark.job;

import io.tidemark.config.PipelineConfig;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.core.execution.RestoreMode;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.runtime.OperatorIDPair;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.jobgraph.JobVertex;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where one pipeline's checkpoints and savepoints live, and the newest of them a start resumes
 * from.
 *
 * <p>Each pipeline keeps its state in a directory of its own under the configured one: {@code
 * <checkpoint dir>/<pipeline id>/<flink job id>/chk-<n>} and {@code <savepoint dir>/<pipeline
 * id>/savepoint-*}, so the newest retained checkpoint or savepoint of a pipeline is found without
 * knowing the Flink job id of the run that wrote it (each submission gets a new one). A checkpoint
 * is a candidate once its {@code _metadata} exists; a candidate whose metadata does not load (a
 * process killed while writing it) is skipped with a warning, and the next older one is taken.
 */
public final class RetainedState {

    private static final Logger LOG = LoggerFactory.getLogger(RetainedState.class);

    private static final Pattern CHECKPOINT = Pattern.compile("chk-(\\d+)");
    private static final Pattern SAVEPOINT = Pattern.compile("savepoint-.+");
    private static final String METADATA = "_metadata";

    /** A pipeline's own checkpoint and savepoint directories (URIs), each null when none. */
    public record Locations(String checkpoints, String savepoints) {

        /** Sets them on a job's configuration (checkpoint storage and default savepoint dir). */
        public void applyTo(Configuration conf) {
            if (checkpoints != null) {
                conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints);
            }
            if (savepoints != null) {
                conf.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, savepoints);
            }
        }
    }

    /** A checkpoint or savepoint to restore: its pointer (directory URI), kind and age. */
    public record Found(String pointer, Kind kind, long checkpointId, Instant taken) {

        /**
         * A retained checkpoint is claimed (the restored job deletes it once it has a newer one); a
         * savepoint stays the user's.
         */
        public RestoreMode restoreMode() {
            return kind == Kind.CHECKPOINT ? RestoreMode.CLAIM : RestoreMode.NO_CLAIM;
        }

        /** For people: {@code retained checkpoint 42 (taken 2026-...) at file:/...}. */
        public String describe() {
            return String.format(
                    "%s %d (taken %s) at %s",
                    kind == Kind.CHECKPOINT ? "retained checkpoint" : "savepoint of checkpoint",
                    checkpointId,
                    taken,
                    pointer);
        }
    }

    /** What was found. */
    public enum Kind {
        CHECKPOINT,
        SAVEPOINT
    }

    private RetainedState() {}

    /**
     * The pipeline's directories: the pipeline file's {@code checkpoint.dir} and {@code
     * checkpoint.savepoint-dir}, else the cluster's {@code state.checkpoints.dir} and {@code
     * state.savepoints.dir} from {@code ambient}, else (in-process only, {@code localDefault} not
     * null) {@code localDefault/checkpoints} and {@code localDefault/savepoints}; each with the
     * pipeline id appended.
     */
    public static Locations locate(
            PipelineConfig config, ReadableConfig ambient, String localDefault) {
        String checkpoints = config.checkpointDir();
        if (checkpoints == null) {
            checkpoints = ambient.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY);
        }
        if (checkpoints == null && localDefault != null) {
            checkpoints = child(localDefault, "checkpoints");
        }
        String savepoints = config.savepointDir();
        if (savepoints == null) {
            savepoints = ambient.get(CheckpointingOptions.SAVEPOINT_DIRECTORY);
        }
        if (savepoints == null && localDefault != null) {
            savepoints = child(localDefault, "savepoints");
        }
        return new Locations(
                checkpoints == null ? null : child(checkpoints, config.pipelineId()),
                savepoints == null ? null : child(savepoints, config.pipelineId()));
    }

    /**
     * The newest readable checkpoint or savepoint under {@code locations}, by the time its metadata
     * was written; empty when there is none.
     */
    public static Optional<Found> newest(Locations locations) throws IOException {
        List<Candidate> candidates = new ArrayList<>();
        if (locations.checkpoints() != null) {
            Path root = new Path(locations.checkpoints());
            for (FileStatus job : list(root)) {
                if (!job.isDir()) {
                    continue;
                }
                for (FileStatus checkpoint : list(job.getPath())) {
                    if (checkpoint.isDir()
                            && CHECKPOINT.matcher(checkpoint.getPath().getName()).matches()) {
                        addIfComplete(candidates, checkpoint.getPath(), Kind.CHECKPOINT);
                    }
                }
            }
        }
        if (locations.savepoints() != null) {
            for (FileStatus savepoint : list(new Path(locations.savepoints()))) {
                if (savepoint.isDir()
                        && SAVEPOINT.matcher(savepoint.getPath().getName()).matches()) {
                    addIfComplete(candidates, savepoint.getPath(), Kind.SAVEPOINT);
                }
            }
        }
        candidates.sort(Comparator.comparingLong(Candidate::modified).reversed());
        for (Candidate candidate : candidates) {
            Optional<Long> checkpointId = readCheckpointId(candidate.metadata());
            if (checkpointId.isPresent()) {
                return Optional.of(
                        new Found(
                                candidate.directory().toUri().toString(),
                                candidate.kind(),
                                checkpointId.get(),
                                Instant.ofEpochMilli(candidate.modified())));
            }
        }
        return Optional.empty();
    }

    /**
     * {@code restore}, allowed to leave state unrestored when the only state {@code graph} has no
     * operator for is that of table maintenance ({@code maintenance}: its operators' ids), which a
     * start without maintenance, or with other tasks, drops (their schedules begin again). Any
     * other unmatched state keeps the restore strict, and Flink names it. {@code maintenance} is
     * asked only when some state is unmatched (it plans every table's maintenance graph).
     */
    public static SavepointRestoreSettings withMaintenanceDropped(
            SavepointRestoreSettings restore, JobGraph graph, Supplier<Set<OperatorID>> maintenance)
            throws IOException {
        if (!restore.restoreSavepoint() || restore.allowNonRestoredState()) {
            return restore;
        }
        Set<OperatorID> unmatched = operatorsWithState(restore.getRestorePath());
        for (JobVertex vertex : graph.getVertices()) {
            for (OperatorIDPair ids : vertex.getOperatorIDs()) {
                unmatched.remove(ids.getGeneratedOperatorID());
                ids.getUserDefinedOperatorID().ifPresent(unmatched::remove);
            }
        }
        if (unmatched.isEmpty() || !maintenance.get().containsAll(unmatched)) {
            return restore;
        }
        LOG.info(
                "{} holds the state of {} table maintenance operator(s) this start does not run "
                        + "(maintenance.* tasks changed or turned off): it is dropped, the "
                        + "schedules begin again",
                restore.getRestorePath(),
                unmatched.size());
        return SavepointRestoreSettings.forPath(
                restore.getRestorePath(), true, restore.getRestoreMode());
    }

    /** The operators whose state the checkpoint or savepoint at {@code pointer} holds. */
    static Set<OperatorID> operatorsWithState(String pointer) throws IOException {
        Path metadata =
                pointer.endsWith(METADATA)
                        ? new Path(pointer)
                        : new Path(new Path(pointer), METADATA);
        try (InputStream in = metadata.getFileSystem().open(metadata);
                DataInputStream data = new DataInputStream(in)) {
            CheckpointMetadata read =
                    Checkpoints.loadCheckpointMetadata(
                            data, RetainedState.class.getClassLoader(), pointer);
            Set<OperatorID> operators = new HashSet<>();
            for (OperatorState state : read.getOperatorStates()) {
                if (state.getStateSize() > 0 || state.getCoordinatorState() != null) {
                    operators.add(state.getOperatorID());
                }
            }
            return operators;
        }
    }

    private record Candidate(Path directory, Path metadata, Kind kind, long modified) {}

    private static void addIfComplete(List<Candidate> candidates, Path directory, Kind kind)
            throws IOException {
        Path metadata = new Path(directory, METADATA);
        FileSystem fs = metadata.getFileSystem();
        if (fs.exists(metadata)) {
            FileStatus status = fs.getFileStatus(metadata);
            candidates.add(new Candidate(directory, metadata, kind, status.getModificationTime()));
        }
    }

    private static Optional<Long> readCheckpointId(Path metadata) {
        try (InputStream in = metadata.getFileSystem().open(metadata);
                DataInputStream data = new DataInputStream(in)) {
            CheckpointMetadata read =
                    Checkpoints.loadCheckpointMetadata(
                            data,
                            RetainedState.class.getClassLoader(),
                            metadata.getParent().toString());
            return Optional.of(read.getCheckpointId());
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "Skipping {}: its metadata does not load ({}); an older checkpoint or "
                            + "savepoint is used instead",
                    metadata.getParent(),
                    e.toString());
            return Optional.empty();
        }
    }

    private static FileStatus[] list(Path directory) throws IOException {
        FileSystem fs = directory.getFileSystem();
        if (!fs.exists(directory)) {
            return new FileStatus[0];
        }
        FileStatus[] statuses = fs.listStatus(directory);
        return statuses == null ? new FileStatus[0] : statuses;
    }

    private static String child(String directory, String name) {
        return directory.endsWith("/") ? directory + name : directory + "/" + name;
    }
}
