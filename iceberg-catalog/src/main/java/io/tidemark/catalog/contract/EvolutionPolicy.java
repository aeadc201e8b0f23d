package io.tidemark.catalog.contract;

import java.util.Locale;

/** What the pipeline does when the source's rows stop matching the contract's columns. */
public enum EvolutionPolicy {
    /**
     * Additive and widening changes (a new nullable column, int to long, float to double, a wider
     * decimal) are applied to the Iceberg table; anything else is quarantined. Today they are
     * applied when a contract version declaring them is deployed (at the restart from a savepoint);
     * while running, changes of the new shape are quarantined until then.
     */
    EVOLVE,
    /** Rows of an unknown shape are quarantined until a contract version that accepts them. */
    QUARANTINE,
    /** The job stops, naming the column, the table and the contract version. */
    FAIL;

    public String fileValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static EvolutionPolicy parse(String value) {
        for (EvolutionPolicy policy : values()) {
            if (policy.fileValue().equals(value)) {
                return policy;
            }
        }
        throw new IllegalArgumentException(
                "'" + value + "' is not one of evolve, quarantine, fail");
    }
}
