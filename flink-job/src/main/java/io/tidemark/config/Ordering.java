package io.tidemark.config;

import java.io.Serializable;

/**
 * A table's {@code ordering}: its source's commit order ({@code commit-order}, the default), or the
 * value of one of its columns ({@code event-time:<column>}). The reconciler's rule for it is {@code
 * io.tidemark.reconcile.OrderingRule}.
 *
 * @param eventTimeColumn the column an event-time ordering reads; null for commit order
 */
public record Ordering(String eventTimeColumn) implements Serializable {

    /** The file's spelling of commit order. */
    public static final String COMMIT_ORDER_TEXT = "commit-order";

    /** The prefix of an ordering by a column of the rows: {@code event-time:<column>}. */
    public static final String EVENT_TIME = "event-time:";

    /** Commit order, the default. */
    public static final Ordering COMMIT_ORDER = new Ordering(null);

    /** {@code commit-order} or {@code event-time:<column>}; anything else is refused. */
    public static Ordering parse(String text) {
        if (COMMIT_ORDER_TEXT.equals(text)) {
            return COMMIT_ORDER;
        }
        if (text != null && text.startsWith(EVENT_TIME) && text.length() > EVENT_TIME.length()) {
            return new Ordering(text.substring(EVENT_TIME.length()));
        }
        throw new IllegalArgumentException(
                "expected 'commit-order' or 'event-time:<column>', got '" + text + "'");
    }

    /** Whether this is the source's commit order. */
    public boolean byCommit() {
        return eventTimeColumn == null;
    }

    @Override
    public String toString() {
        return byCommit() ? COMMIT_ORDER_TEXT : EVENT_TIME + eventTimeColumn;
    }
}
