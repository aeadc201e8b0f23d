package io.tidemark.commit;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.catalog.provenance.Provenance.CommitPoint;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The committer's lineage and what each table holds of it: the run id of the run that started
 * without state, inherited by restored runs, so that (pipeline id, lineage, checkpoint id) names
 * one commit. Per table it knows the newest commit point of the lineage ({@link
 * Provenance#lastCommitted}) and the committed-through mark as this committer last saw or wrote it
 * (a mark changed since means another job of the pipeline committed: {@link #checkNoOtherJob}).
 */
final class Lineage {

    private static final Logger LOG = LoggerFactory.getLogger(Lineage.class);

    private final Catalog catalog;
    private final String pipelineId;
    private final String runId;
    private String id;

    /**
     * A lineage started without state whose sources snapshot every table: its first commit to each
     * target table removes every row the table held before it. Null for a restored lineage (its
     * tables hold its own rows) and for starts that read the log only.
     */
    private final String replacing;

    private final Map<String, CommitPoint> committedThrough = new HashMap<>();

    /** Per table, its committed-through mark for this pipeline as last seen or written. */
    private final Map<String, String> markSeen = new HashMap<>();

    /**
     * @param restored the lineage of the restored state, or null for a start without state, which
     *     is a new lineage even when the run id is reused (its checkpoint ids start again from 1)
     * @param restoredReplacing the replacing lineage the restored state names (null if none)
     * @param snapshotsOnFreshStart without state: whether this start snapshots every table again
     */
    Lineage(
            Catalog catalog,
            String pipelineId,
            String runId,
            String restored,
            String restoredReplacing,
            boolean snapshotsOnFreshStart) {
        this.catalog = catalog;
        this.pipelineId = pipelineId;
        this.runId = runId;
        this.id = restored != null ? restored : fresh(runId);
        // the sources read every table again: what the tables hold from before this start goes
        // with the first commit, so rows deleted in the source meanwhile do not stay
        this.replacing = restored != null ? restoredReplacing : snapshotsOnFreshStart ? id : null;
    }

    private static String fresh(String runId) {
        return runId + "." + UUID.randomUUID().toString().substring(0, 8);
    }

    String id() {
        return id;
    }

    /** The replacing lineage, for the committer's state; null if none. */
    String replacing() {
        return replacing;
    }

    /** Reads what {@code table} holds of this lineage: its newest commit point and its mark. */
    void read(String name) {
        Table table = catalog.loadTable(TableIdentifier.parse(name));
        committedThrough.put(name, Provenance.lastCommitted(table, pipelineId, id));
        markSeen.put(name, table.properties().get(Provenance.committedThroughKey(pipelineId)));
    }

    boolean knows(String name) {
        return committedThrough.containsKey(name);
    }

    /** The newest commit point of this lineage in {@code name}. */
    CommitPoint committedThrough(String name) {
        return committedThrough.get(name);
    }

    /**
     * A restore never sees commits newer than its checkpoint, except when it is a rollback: a job
     * started from an older savepoint or retained checkpoint than the lineage's last commit. Its
     * checkpoint ids continue from that older checkpoint and so repeat ids already committed; under
     * the same lineage they would be skipped as committed and their changes lost. Such a restore
     * continues in a new lineage, after what the restored state itself held was committed (or found
     * committed) under the old one.
     */
    void forkIfRestoredBehindCommits(long restoredCheckpointId) {
        String newest = null;
        long newestCheckpoint = Long.MIN_VALUE;
        for (Map.Entry<String, CommitPoint> table : committedThrough.entrySet()) {
            if (table.getValue().checkpointId() > newestCheckpoint) {
                newest = table.getKey();
                newestCheckpoint = table.getValue().checkpointId();
            }
        }
        if (newestCheckpoint <= restoredCheckpointId) {
            return;
        }
        String forked = fresh(runId);
        LOG.warn(
                "Restored checkpoint {} of lineage {} is older than checkpoint {} already committed to {}: "
                        + "a rollback to an older savepoint or checkpoint. Continuing in lineage {}; "
                        + "changes after checkpoint {} that the source delivers again are applied again (keyed upserts, idempotent)",
                restoredCheckpointId,
                id,
                newestCheckpoint,
                newest,
                forked,
                restoredCheckpointId);
        id = forked;
        for (String name : Map.copyOf(committedThrough).keySet()) {
            read(name);
        }
    }

    /**
     * Fails the job, without restarts and without committing, when the committed-through mark of
     * {@code table} (target {@code name}) is not the one this committer last saw: another job of
     * the pipeline committed to it since.
     */
    void checkNoOtherJob(String name, Table table, long checkpointId) {
        String mark = table.properties().get(Provenance.committedThroughKey(pipelineId));
        if (Objects.equals(mark, markSeen.get(name))) {
            return;
        }
        throw new SuppressRestartsException(
                new IllegalStateException(
                        String.format(
                                "table %s was committed to by another job of pipeline %s since this "
                                        + "one last looked (its last commit is now '%s', this job knew "
                                        + "'%s'): two jobs run the pipeline, for example both started "
                                        + "from one savepoint or checkpoint. This job stops without "
                                        + "committing checkpoint %d; keep one job running, and if "
                                        + "it is not the one you meant, stop it and start the pipeline "
                                        + "again (it resumes from its newest retained checkpoint)",
                                name, pipelineId, mark, markSeen.get(name), checkpointId)));
    }

    /**
     * Whether the next commit to {@code target} is the first of a lineage that replaces its tables'
     * rows: a target table (the late and quarantine tables keep their rows) without a commit of
     * this lineage in its history.
     */
    boolean replaces(CommitTarget target) {
        return id.equals(replacing)
                && !target.side()
                && CommitPoint.NONE.equals(committedThrough.get(target.table()));
    }

    /** Sets the committed-through mark of {@code point} on {@code properties}, and returns it. */
    String mark(UpdateProperties properties, CommitPoint point) {
        String marked = Provenance.committedThroughValue(id, point);
        properties.set(Provenance.committedThroughKey(pipelineId), marked);
        return marked;
    }

    /** After {@code point} and its {@code mark} were committed to {@code name}. */
    void committed(String name, CommitPoint point, String mark) {
        committedThrough.put(name, point);
        markSeen.put(name, mark);
    }

    @Override
    public String toString() {
        return id + " committed through " + committedThrough;
    }
}
