package io.tidemark.commit;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * A table the committer commits: a target (fed by {@code sourceTable}'s changes) or the late table
 * of {@code sourceTable}.
 */
public record CommitTarget(String table, String sourceTable, Kind kind, String contractVersion)
        implements Serializable {

    /** What the table holds. */
    public enum Kind {
        /** The replica of the source table. */
        TARGET,
        /** Late changes under the quarantine late policy, append-only. */
        LATE,
        /** Changes that broke the table's contract, append-only. */
        QUARANTINE,
        /** One row per version of each row of the source table ({@code history: scd2}). */
        HISTORY
    }

    /** A target ({@code late} false) or late table without a contract version of its own. */
    public CommitTarget(String table, String sourceTable, boolean late) {
        this(table, sourceTable, late ? Kind.LATE : Kind.TARGET, null);
    }

    /** A side table (late, quarantine, history) rather than the replica. */
    public boolean side() {
        return kind != Kind.TARGET;
    }

    /**
     * {@code targets} in the order the committer commits a checkpoint: the side tables first, so
     * that a reader who sees a checkpoint in a target table finds the changes set aside in that
     * checkpoint (quarantined, late) already committed.
     */
    public static List<CommitTarget> inCommitOrder(List<CommitTarget> targets) {
        List<CommitTarget> ordered = new ArrayList<>(targets.size());
        targets.stream().filter(CommitTarget::side).forEach(ordered::add);
        targets.stream().filter(target -> !target.side()).forEach(ordered::add);
        return ordered;
    }
}
