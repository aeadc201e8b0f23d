package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class MySqlTimeSignsTest {

    @Test
    void readsMySqlTimeTextWithItsSign() {
        assertThat(MySqlTimeSigns.micros("-00:30:00.5")).isEqualTo(-1_800_500_000L);
        assertThat(MySqlTimeSigns.micros("-00:00:01")).isEqualTo(-1_000_000L);
        assertThat(MySqlTimeSigns.micros("00:00:00.000001")).isEqualTo(1L);
        assertThat(MySqlTimeSigns.micros("838:59:59")).isEqualTo(3_020_399_000_000L);
        assertThat(MySqlTimeSigns.micros("-838:59:59.123")).isEqualTo(-3_020_399_123_000L);
    }

    @Test
    void comparesKeysAsTheDriverAndTheReaderGiveThem() {
        // the driver's Integer and Long, the reader's Short and BigDecimal
        assertThat(MySqlTimeSigns.canonical(7)).isEqualTo(MySqlTimeSigns.canonical((short) 7));
        assertThat(MySqlTimeSigns.canonical(7L))
                .isEqualTo(MySqlTimeSigns.canonical(new BigDecimal("7")));
        assertThat(MySqlTimeSigns.canonical(new BigDecimal("1.50")))
                .isEqualTo(MySqlTimeSigns.canonical(new BigDecimal("1.5")));
        assertThat(MySqlTimeSigns.canonical(true)).isEqualTo(MySqlTimeSigns.canonical((short) 1));
        assertThat(MySqlTimeSigns.canonical(new byte[] {1, (byte) 0xff}))
                .isEqualTo(MySqlTimeSigns.canonical(ByteBuffer.wrap(new byte[] {1, (byte) 0xff})))
                .isEqualTo("01ff");
        assertThat(MySqlTimeSigns.canonical("k")).isEqualTo("k");
        assertThat(MySqlTimeSigns.canonical(null)).isNull();
    }

    @Test
    void bringsTheReadersTemporalKeysToTheServersNumbers() {
        // what DATEDIFF / TIMESTAMPDIFF(MICROSECOND, ...) / UNIX_TIMESTAMP * 1e6 give the server's
        // side, from Debezium's Date, Timestamp (millis), MicroTimestamp, ZonedTimestamp, MicroTime
        assertThat(MySqlTimeSigns.KeyForm.asRead("io.debezium.time.Date", 19875)).isEqualTo(19875);
        assertThat(MySqlTimeSigns.KeyForm.asRead("io.debezium.time.Timestamp", 1717243200123L))
                .isEqualTo(1717243200123000L);
        assertThat(
                        MySqlTimeSigns.KeyForm.asRead(
                                "io.debezium.time.MicroTimestamp", 1717243200123456L))
                .isEqualTo(1717243200123456L);
        assertThat(
                        MySqlTimeSigns.KeyForm.asRead(
                                "io.debezium.time.ZonedTimestamp", "2024-06-01T12:00:00.123456Z"))
                .isEqualTo(1717243200123456L);
        assertThat(
                        MySqlTimeSigns.KeyForm.asRead(
                                "io.debezium.time.ZonedTimestamp", "1960-01-01T00:00:00Z"))
                .isEqualTo(-315619200000000L);
        assertThat(MySqlTimeSigns.KeyForm.asRead("io.debezium.time.Time", 36000500))
                .isEqualTo(36000500000L);
        assertThat(MySqlTimeSigns.KeyForm.asRead(null, "k")).isEqualTo("k");
        assertThat(MySqlTimeSigns.KeyForm.DATETIME.select("`k`"))
                .isEqualTo("TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', `k`)");
    }
}
