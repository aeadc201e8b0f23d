package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.decode.BinlogOrder;
import io.tidemark.decode.BinlogPosition;
import io.tidemark.decode.SourcePosition;
import java.util.Map;
import org.apache.flink.cdc.connectors.mysql.source.offset.BinlogOffset;
import org.junit.jupiter.api.Test;

/**
 * Where a MySQL re-read places its rows and deletes, from its watermarks' binlog offsets: by binlog
 * place, or (a source placed by GTID) by the size of the executed GTID set.
 */
class MySqlRereadPlacementTest {

    private static final String UUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562";

    private static BinlogOffset offset(String file, long position, String gtids) {
        return gtids == null
                ? new BinlogOffset(Map.of("file", file, "pos", Long.toString(position)))
                : new BinlogOffset(
                        Map.of("file", file, "pos", Long.toString(position), "gtids", gtids));
    }

    @Test
    void byBinlogPlaceRowsJustBelowTheWatermarkAndDeletesBelowThem() {
        MySqlReread.Placement placement = new MySqlReread.Placement(BinlogOrder.BINLOG_POSITION);
        long place = placement.of(offset("mysql-bin.000003", 1_000, UUID + ":1-41"));
        assertThat(place).isEqualTo(BinlogPosition.place("mysql-bin.000003", 1_000));
        assertThat(placement.rows(place, 7))
                .isEqualTo(SourcePosition.resnapshotOfBinlog(place - 1, 7));
        assertThat(placement.deletes(place, false, 7))
                .isEqualTo(SourcePosition.resnapshotOfBinlog(place - 1, 7));
        assertThat(placement.deletes(place, true, 7))
                .isEqualTo(SourcePosition.resnapshotOfBinlog(place - 2, 7));
    }

    @Test
    void byGtidTheExecutedSetsSizeWithRowsAboveDeletes() {
        MySqlReread.Placement placement = new MySqlReread.Placement(BinlogOrder.GTID);
        long place = placement.of(offset("mysql-bin.000003", 1_000, UUID + ":1-41"));
        assertThat(place).isEqualTo(41);
        assertThat(placement.rows(place, 7)).isEqualTo(SourcePosition.resnapshotOfGtid(41, 2, 7));
        assertThat(placement.deletes(place, true, 7))
                .isEqualTo(SourcePosition.resnapshotOfGtid(41, 1, 7));
        assertThat(placement.deletes(place, false, 7))
                .isEqualTo(SourcePosition.resnapshotOfGtid(41, 1, 7));
        assertThat(placement.describe(place)).isEqualTo("gtid:41");
        // a watermark without GTIDs (gtid_mode turned off meanwhile) cannot be placed
        assertThatThrownBy(() -> placement.of(offset("mysql-bin.000003", 1_000, null)))
                .hasMessageContaining("no GTID set");
    }
}
