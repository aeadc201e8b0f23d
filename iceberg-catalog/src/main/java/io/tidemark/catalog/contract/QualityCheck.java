package io.tidemark.catalog.contract;

import java.io.Serializable;
import java.util.Locale;
import java.util.Objects;

/**
 * A data-quality check of a table, declared in its contract and evaluated once per checkpoint
 * (never per record) over the last {@code window} checkpoints:
 *
 * <ul>
 *   <li>{@code quarantine-ratio}: quarantined changes / all changes above {@code max};
 *   <li>{@code null-rate}: passed rows (inserts, updates, snapshot rows; no deletes) whose {@code
 *       column} is null / all such rows, above {@code max};
 *   <li>{@code no-rows-written}: changes arrived in each of the last {@code window} checkpoints and
 *       none passed to the table;
 *   <li>{@code freshness}: the newest passed change's source time is older than the contract's
 *       {@code freshness-sla} while changes arrive.
 * </ul>
 *
 * Mode {@code fail} fails the run with a message naming the check, the observed value and the
 * threshold; {@code warn} logs it and shows it in the metrics.
 */
public record QualityCheck(Kind kind, String column, double max, int window, Mode mode)
        implements Serializable {

    public enum Kind {
        QUARANTINE_RATIO,
        NULL_RATE,
        NO_ROWS_WRITTEN,
        FRESHNESS;

        public String fileValue() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Kind parse(String value) {
            for (Kind kind : values()) {
                if (kind.fileValue().equals(value)) {
                    return kind;
                }
            }
            throw new IllegalArgumentException(
                    "'"
                            + value
                            + "' is not one of quarantine-ratio, null-rate, no-rows-written,"
                            + " freshness");
        }
    }

    public enum Mode {
        FAIL,
        WARN;

        public static Mode parse(String value) {
            if ("fail".equals(value)) {
                return FAIL;
            }
            if ("warn".equals(value)) {
                return WARN;
            }
            throw new IllegalArgumentException("'" + value + "' is not one of fail, warn");
        }
    }

    public QualityCheck {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(mode, "mode");
        if (window < 1) {
            throw new IllegalArgumentException("window must be at least 1 checkpoint");
        }
    }

    /** {@code null-rate(email)}, {@code quarantine-ratio}: how messages and metrics name it. */
    public String name() {
        return kind.fileValue() + (column == null ? "" : "(" + column + ")");
    }
}
