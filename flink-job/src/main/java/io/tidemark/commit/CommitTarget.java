package io.tidemark.commit;

import java.io.Serializable;

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
        QUARANTINE
    }

    /** A target ({@code late} false) or late table without a contract version of its own. */
    public CommitTarget(String table, String sourceTable, boolean late) {
        this(table, sourceTable, late ? Kind.LATE : Kind.TARGET, null);
    }

    /** An append-only side table (late or quarantine) rather than the replica. */
    public boolean side() {
        return kind != Kind.TARGET;
    }
}
