package io.tidemark.catalog.contract;

/**
 * Why a change broke its table's contract. A quarantined change carries every code that applies.
 */
public enum ReasonCode {
    /** A primary key column is absent from the change. */
    MISSING_KEY,
    /** A primary key column is null. */
    NULL_KEY,
    /** A column the contract requires (not nullable) is absent from the row image. */
    MISSING_COLUMN,
    /** The row has a column the contract does not know (schema drift in the source). */
    UNKNOWN_COLUMN,
    /** A value cannot be coerced to the contract's column type without loss. */
    WRONG_TYPE,
    /** A value is null where the contract says not null. */
    NOT_NULL,
    /** A value lies outside the contract's range. */
    OUT_OF_RANGE,
    /** A text value does not match the contract's pattern. */
    PATTERN_MISMATCH,
    /** A value is not one of the contract's allowed values. */
    NOT_ALLOWED_VALUE,
    /** A text or binary value is longer than the contract's maximum length. */
    TOO_LONG,
    /** The change is for a table no contract covers. */
    UNKNOWN_TABLE,
    /** The change could not be decoded at all. */
    CORRUPT_ENVELOPE,
    /**
     * The source sent the change without a value it holds (an unchanged TOAST value of a Postgres
     * table whose replica identity does not hold it): its fix is REPLICA IDENTITY FULL.
     */
    UNAVAILABLE_VALUE,
    /**
     * The source's value has no equal in the column's Iceberg type: a Postgres date or timestamp
     * {@code infinity} or {@code -infinity}. Written as any finite value, it would be a different
     * value.
     */
    NOT_REPRESENTABLE,
    /**
     * The source emptied the table ({@code TRUNCATE}) and the table's {@code truncate} policy is
     * {@code quarantine}, or the truncate cannot be applied exactly (see the detail).
     */
    TRUNCATE
}
