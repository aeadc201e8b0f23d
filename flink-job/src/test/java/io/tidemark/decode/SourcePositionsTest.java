package io.tidemark.decode;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link SourcePositions}: what a commit records reads back to the same positions, a GTID-placed
 * one included; a source without a log position yet is left out.
 */
class SourcePositionsTest {

    @Test
    void positionsReadBackAsTheyWereWritten() {
        Map<String, SourcePosition> positions =
                Map.of(
                        "pg",
                        new SourcePosition(0x16B3748L, 0x1_0016B3790L, 745),
                        "mysql",
                        GtidPosition.of(
                                "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-4",
                                "3e11fa47-71ca-11e1-9e33-c80aa9429562:5",
                                2,
                                1),
                        "binlog",
                        BinlogPosition.of("mysql-bin.000003", 4242, 3));
        String json = SourcePositions.toJson(positions);
        assertThat(json).contains("\"commit_lsn\":\"0/16B3748\"", "\"gtid_ordinal\":");
        assertThat(SourcePositions.parse(json)).isEqualTo(positions);
        assertThat(
                        SourcePositions.parse(
                                "{\"source\":{\"commit_lsn\":\"-\",\"change_lsn\":\"-\",\"tx_id\":-1}}"))
                .isEmpty();
        assertThat(SourcePositions.parse("{}")).isEmpty();
        // where a start reads the log again from, beside them
        String withStart = SourcePositions.withLogFrom(json, Map.of("pg", 0x16B0000L));
        assertThat(SourcePositions.logFrom(withStart)).containsExactly(Map.entry("pg", 0x16B0000L));
        assertThat(SourcePositions.parse(withStart)).isEqualTo(positions);
    }
}
