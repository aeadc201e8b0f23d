package io.tidemark.decode;

/** What a change did to its row. The code is persisted: never renumber. */
public enum Operation {
    /** A row read by the initial snapshot. */
    READ((byte) 0),
    INSERT((byte) 1),
    UPDATE((byte) 2),
    DELETE((byte) 3),
    /**
     * A source record that could not be decoded into a change (a corrupt envelope, or a change for
     * a table the pipeline does not capture): carried to the contract gate, which quarantines it.
     * It never reaches the reconciler or its state.
     */
    MALFORMED((byte) 4),
    /**
     * The source emptied the table ({@code TRUNCATE}): no key, no images. Applied in its place in
     * the source's order (changes before it are stale after it), by the table's {@code truncate}
     * policy.
     */
    TRUNCATE((byte) 5);

    private final byte code;

    Operation(byte code) {
        this.code = code;
    }

    public byte code() {
        return code;
    }

    public static Operation ofCode(byte code) {
        for (Operation op : values()) {
            if (op.code == code) {
                return op;
            }
        }
        throw new IllegalArgumentException("unknown operation code " + code);
    }
}
