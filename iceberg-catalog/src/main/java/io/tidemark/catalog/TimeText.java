package io.tidemark.catalog;

import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/**
 * A time of day with microseconds, as Tidemark writes it where an Iceberg {@code time} column
 * cannot hold it: {@code HH:mm:ss.ffffff}, always six fractional digits (so text order is time
 * order). Iceberg's Flink writers keep a {@code time} to milliseconds (Flink's internal time is an
 * int of milliseconds), so a source {@code time} column with a precision above 3 (Postgres' default
 * is 6) is captured as a string of this form instead of losing its microseconds. A plain class: the
 * writer, the contract coercion and the ground-truth diff share it.
 */
public final class TimeText {

    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("HH:mm:ss.SSSSSS");

    /** The largest precision (fractional digits) an Iceberg {@code time} column keeps. */
    public static final int TIME_PRECISION = 3;

    private TimeText() {}

    public static String format(LocalTime time) {
        return FORMAT.format(time);
    }
}
