package io.tidemark.config;

/** What happens to a change older than {@code watermark - allowed lateness}. */
public enum LatePolicy implements FileValue {
    /** Applied only if its sequence is newer than the key's retained state (the default). */
    APPLY_IF_NEWER("apply-if-newer"),
    /** Sent to the LATE side output with the reason, never applied. */
    QUARANTINE("quarantine"),
    /** The job fails with a message naming the table, the key and the lateness. */
    FAIL("fail");

    private final String key;

    LatePolicy(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    @Override
    public String fileValue() {
        return key;
    }

    public static LatePolicy parse(String text) {
        return FileValue.parse(LatePolicy.class, text);
    }

    @Override
    public String toString() {
        return key;
    }
}
