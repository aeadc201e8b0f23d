package io.tidemark.reconcile;

import io.tidemark.config.Ordering;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.io.Serializable;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How the changes of one table are ordered: a plain, fully unit-tested rule.
 *
 * <ul>
 *   <li>{@link #commitOrder()} (the default for one source): the source's commit order, (commit
 *       LSN, change LSN). A change LSN alone is not safe: interleaved transactions write LSNs out
 *       of commit order. Snapshot rows sort before every log change (their position is -1). Event
 *       time (for watermarks and lateness) is the source commit time; snapshot rows have none.
 *   <li>{@link #eventTime(String, List)}: an event-time column first (timestamp, timestamptz, date
 *       or an integer of epoch milliseconds), then the source in the declared order of sources,
 *       then the source position. For a delete the column is read from the before image, so a
 *       delete beats the update it removes and loses to any later update. Never arrival order.
 * </ul>
 */
public abstract class OrderingRule implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Event time of a snapshot row under commit order: it never drives watermarks. */
    public static final long NO_EVENT_TIME = Long.MIN_VALUE;

    private OrderingRule() {}

    public static OrderingRule commitOrder() {
        return CommitOrder.INSTANCE;
    }

    /** Event-time rule for a table of the pipeline's only source. */
    public static OrderingRule eventTime(String column) {
        return new EventTimeColumn(column, List.of(ChangeEvent.DEFAULT_SOURCE));
    }

    /** Event-time rule; ties between sources go to the later one in {@code sourceOrder}. */
    public static OrderingRule eventTime(String column, List<String> sourceOrder) {
        return new EventTimeColumn(column, sourceOrder);
    }

    /** The same rule for the given declared order of sources. */
    public OrderingRule withSources(List<String> sourceOrder) {
        return this;
    }

    /** Parses {@code commit-order} or {@code event-time:<column>}. */
    public static OrderingRule parse(String text) {
        return of(Ordering.parse(text));
    }

    /** The rule of {@code ordering}. */
    public static OrderingRule of(Ordering ordering) {
        return ordering.byCommit() ? commitOrder() : eventTime(ordering.eventTimeColumn());
    }

    /** The column an {@code event-time:<column>} rule reads, or null for any other rule text. */
    public static String eventTimeColumn(String text) {
        return text != null && text.startsWith("event-time:") && text.length() > 11
                ? text.substring("event-time:".length())
                : null;
    }

    /** The change's place in its key's order. */
    public abstract Sequence sequence(ChangeEvent change);

    /** Event time in epoch milliseconds, for watermarks, lateness and retention. */
    public abstract long eventTimeMillis(ChangeEvent change);

    /**
     * The change's place in its key's order, given the key's retained state ({@code null}: none).
     * The same as {@link #sequence(ChangeEvent)}, except for a re-snapshot's delete of a key the
     * source no longer holds under an event-time rule: it carries no row, so no event time of its
     * own, and takes the event time of the version it removes (see {@link
     * ChangeEvent#isRereadDelete}).
     */
    public Sequence sequence(ChangeEvent change, KeyState state) {
        return sequence(change);
    }

    /** {@link #eventTimeMillis(ChangeEvent)}, given the key's retained state (null: none). */
    public long eventTimeMillis(ChangeEvent change, KeyState state) {
        return eventTimeMillis(change);
    }

    static long position(long value) {
        return value == SourcePosition.UNKNOWN ? -1L : value;
    }

    /**
     * Whether a snapshot row must leave state behind. Under commit order it need not: a snapshot
     * row sorts before every log change, so a log change is never stale against one; and a snapshot
     * row read again (a chunk a checkpoint cut, re-read after a restore, at a newer point of the
     * log) must replace the first read rather than be dropped as its duplicate. Under an event-time
     * rule the row's event time orders it against later changes, so it keeps its state.
     */
    public boolean snapshotRowsKeepState() {
        return true;
    }

    private static final class CommitOrder extends OrderingRule {
        private static final long serialVersionUID = 1L;
        static final CommitOrder INSTANCE = new CommitOrder();

        @Override
        public Sequence sequence(ChangeEvent change) {
            if (change.operation() == Operation.READ) {
                return new Sequence(0L, -1L, -1L);
            }
            return new Sequence(
                    0L,
                    position(change.position().commitLsn()),
                    position(change.position().changeLsn()));
        }

        @Override
        public long eventTimeMillis(ChangeEvent change) {
            return change.operation() == Operation.READ ? NO_EVENT_TIME : change.sourceTimeMillis();
        }

        @Override
        public boolean snapshotRowsKeepState() {
            return false;
        }

        @Override
        public String toString() {
            return Ordering.COMMIT_ORDER_TEXT;
        }

        private Object readResolve() {
            return INSTANCE;
        }
    }

    private static final class EventTimeColumn extends OrderingRule {
        private static final long serialVersionUID = 1L;
        private final String column;
        private final List<String> sourceOrder;

        EventTimeColumn(String column, List<String> sourceOrder) {
            this.column = Objects.requireNonNull(column);
            this.sourceOrder = List.copyOf(sourceOrder);
        }

        @Override
        public OrderingRule withSources(List<String> order) {
            return new EventTimeColumn(column, order);
        }

        @Override
        public Sequence sequence(ChangeEvent change) {
            boolean snapshot = change.operation() == Operation.READ;
            long major = snapshot ? -1L : position(change.position().commitLsn());
            long minor = snapshot ? -1L : position(change.position().changeLsn());
            return new Sequence(micros(change), rank(change), major, minor);
        }

        private int rank(ChangeEvent change) {
            int rank = sourceOrder.indexOf(change.source());
            if (rank < 0) {
                throw new IllegalArgumentException(
                        String.format(
                                "table '%s': change from source '%s', which is not among its sources %s",
                                change.table(), change.source(), sourceOrder));
            }
            return rank;
        }

        @Override
        public long eventTimeMillis(ChangeEvent change) {
            return Math.floorDiv(micros(change), 1000L);
        }

        @Override
        public Sequence sequence(ChangeEvent change, KeyState state) {
            if (!change.isRereadDelete()) {
                return sequence(change);
            }
            if (state != null && state.applied().source() != rank(change)) {
                // a table merged from several sources: the version came from another source, one
                // this re-read did not read, so its not holding the key says nothing of it (that
                // source's own re-read decides); stale against any state
                return new Sequence(Long.MIN_VALUE, rank(change), Long.MIN_VALUE, Long.MIN_VALUE);
            }
            // at the event time of the version it removes: the re-read's position decides
            return new Sequence(
                    state == null ? Long.MIN_VALUE : state.applied().eventTime(),
                    rank(change),
                    change.position().commitLsn(),
                    change.position().changeLsn());
        }

        @Override
        public long eventTimeMillis(ChangeEvent change, KeyState state) {
            if (!change.isRereadDelete()) {
                return eventTimeMillis(change);
            }
            return state == null
                    ? NO_EVENT_TIME
                    : Math.floorDiv(state.applied().eventTime(), 1000L);
        }

        private long micros(ChangeEvent change) {
            Map<String, Object> image = change.image();
            Object value = image == null ? null : image.get(column);
            if (value == null) {
                throw new IllegalArgumentException(
                        String.format(
                                "table '%s': ordering column '%s' is missing or null in a %s change; "
                                        + "the event-time rule needs it in every row (and REPLICA IDENTITY FULL for deletes)",
                                change.table(), column, change.operation()));
            }
            if (value instanceof Instant) {
                Instant i = (Instant) value;
                return Math.addExact(
                        Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1000);
            }
            if (value instanceof LocalDateTime) {
                return micros(((LocalDateTime) value).toInstant(ZoneOffset.UTC));
            }
            if (value instanceof LocalDate) {
                return Math.multiplyExact(((LocalDate) value).toEpochDay(), 86_400_000_000L);
            }
            if (value instanceof Long || value instanceof Integer) {
                return Math.multiplyExact(((Number) value).longValue(), 1000L);
            }
            throw new IllegalArgumentException(
                    String.format(
                            "table '%s': ordering column '%s' is a %s; use a timestamp, date or epoch-millisecond column",
                            change.table(), column, value.getClass().getSimpleName()));
        }

        private static long micros(Instant i) {
            return Math.addExact(
                    Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1000);
        }

        @Override
        public String toString() {
            return "event-time:" + column;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof EventTimeColumn
                    && ((EventTimeColumn) o).column.equals(column)
                    && ((EventTimeColumn) o).sourceOrder.equals(sourceOrder);
        }

        @Override
        public int hashCode() {
            return column.hashCode() * 31 + sourceOrder.hashCode();
        }
    }
}
