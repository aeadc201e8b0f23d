package io.tidemark.config;

import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** A setting's value as the pipeline file spells it; its enum is what the job reads. */
public interface FileValue {

    /** The value as the pipeline file spells it: the constant's name, lower case, '-' for '_'. */
    default String fileValue() {
        return ((Enum<?>) this).name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant of {@code type} the file spells {@code text}. */
    static <E extends Enum<E> & FileValue> E parse(Class<E> type, String text) {
        for (E value : type.getEnumConstants()) {
            if (value.fileValue().equals(text)) {
                return value;
            }
        }
        throw new IllegalArgumentException(
                "expected one of "
                        + Stream.of(type.getEnumConstants())
                                .map(FileValue::fileValue)
                                .collect(Collectors.joining(", "))
                        + "; got '"
                        + text
                        + "'");
    }
}
