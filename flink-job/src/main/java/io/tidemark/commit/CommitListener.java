package io.tidemark.commit;

import java.io.Serializable;

/**
 * Called by the committer around each table commit. The default does nothing; operators of the
 * pipeline can hook in auditing, and the failover tests use it to fail inside a commit.
 */
public interface CommitListener extends Serializable {

    CommitListener NONE = new CommitListener() {};

    /** Before the snapshot of {@code table} for {@code checkpointId} is committed. */
    default void beforeCommit(String table, long checkpointId) throws Exception {}

    /**
     * After the snapshot {@code snapshotId} of {@code table} for {@code checkpointId} committed.
     */
    default void afterCommit(String table, long checkpointId, long snapshotId) throws Exception {}
}
