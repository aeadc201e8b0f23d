package io.tidemark.catalog;

import java.util.UUID;

/**
 * A uuid written as text, read the way PostgreSQL's {@code uuid} input reads it: 32 hexadecimal
 * digits in any case, optionally between braces, with a hyphen allowed after any group of four
 * digits ({@code a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}, {@code A0EEBC999C0B4EF8BB6D6BB9BD380A11},
 * {@code {a0eebc99-9c0b-...}}). Anything else is not a uuid, unlike {@link UUID#fromString}, which
 * pads short groups ({@code 1-2-3-4-5} would become {@code 00000001-0002-0003-0004-000000000005}: a
 * value silently made up). The contract coercion, the writer and the ground-truth diff share it.
 */
public final class UuidText {

    private static final int DIGITS = 32;

    private UuidText() {}

    /** The uuid {@code text} writes, or null when it is not one. */
    public static UUID parse(String text) {
        int start = 0;
        int end = text.length();
        if (end > 1 && text.charAt(0) == '{' && text.charAt(end - 1) == '}') {
            start = 1;
            end--;
        }
        long high = 0;
        long low = 0;
        int digits = 0;
        boolean hyphenAllowed = false;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c == '-') {
                if (!hyphenAllowed) {
                    return null;
                }
                hyphenAllowed = false;
                continue;
            }
            // ASCII only: Character.digit reads other scripts' digits too
            int digit = c < 128 ? Character.digit(c, 16) : -1;
            if (digit < 0 || digits == DIGITS) {
                return null;
            }
            if (digits < DIGITS / 2) {
                high = (high << 4) | digit;
            } else {
                low = (low << 4) | digit;
            }
            digits++;
            hyphenAllowed = digits % 4 == 0 && digits < DIGITS;
        }
        // no hyphen is allowed after the last digit, so none can end the text
        return digits == DIGITS ? new UUID(high, low) : null;
    }

    /** True when {@code text} writes a uuid (see {@link #parse}). */
    public static boolean isUuid(String text) {
        return parse(text) != null;
    }
}
