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
    /**
     * {@link #EVOLVE}, and a required column the source's rows no longer carry (dropped in the
     * source) is made optional in the Iceberg table and written as null from then on, where {@code
     * evolve} quarantines such rows (what Flink CDC calls lenient). The rows written before keep
     * their values; nothing is dropped from the Iceberg table.
     */
    LENIENT,
    /** Rows of an unknown shape are quarantined until a contract version that accepts them. */
    QUARANTINE,
    /** The job stops, naming the column, the table and the contract version. */
    FAIL;

    /**
     * Whether the writers apply additive and widening changes ({@code evolve}, {@code lenient}).
     */
    public boolean evolves() {
        return this == EVOLVE || this == LENIENT;
    }

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
                "'" + value + "' is not one of evolve, lenient, quarantine, fail");
    }
}
