package io.tidemark.catalog.contract;

import java.io.Serializable;
import java.util.Objects;

/**
 * One way a change broke its contract: the reason, the column it concerns ({@code null} for the
 * whole change) and a message for people. Messages never contain the offending value of a column
 * whose contract marks it sensitive; by default they name the value's type and length only, so that
 * quarantine reasons can be logged without leaking payloads.
 */
public record Violation(ReasonCode reason, String column, String detail) implements Serializable {

    public Violation {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(detail, "detail");
    }

    @Override
    public String toString() {
        return reason + (column == null ? "" : "(" + column + ")") + ": " + detail;
    }
}
