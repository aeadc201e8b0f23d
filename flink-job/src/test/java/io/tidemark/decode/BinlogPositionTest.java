package io.tidemark.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.reconcile.OrderingRule;
import io.tidemark.reconcile.Sequence;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

class BinlogPositionTest {

    private final OrderingRule commit = OrderingRule.commitOrder();

    private Sequence at(String file, long position, int row) {
        return sequence(BinlogPosition.of(file, position, row));
    }

    /** The commit-order sequence of an update of {@code shop.orders} at {@code position}. */
    static Sequence sequence(SourcePosition position) {
        return OrderingRule.commitOrder()
                .sequence(
                        new ChangeEvent(
                                "shop.orders",
                                Operation.UPDATE,
                                List.of(1L),
                                null,
                                Map.of("id", 1L),
                                position,
                                0L));
    }

    @Test
    void aChangeInALaterFileIsNewerWhateverThePositions() {
        // rotation: the next file starts again at a small position
        assertThat(at("mysql-bin.000010", 4, 0)).isGreaterThan(at("mysql-bin.000009", 999_999, 7));
        assertThat(at("mysql-bin.000010", 4, 0))
                .isGreaterThan(at("mysql-bin.000009", 0xFFFF_FFFFL, 0));
        // six digits roll over to seven
        assertThat(at("mysql-bin.1000000", 4, 0)).isGreaterThan(at("mysql-bin.999999", 500, 3));
    }

    @Test
    void withinAFileByEventPositionThenRow() {
        assertThat(at("mysql-bin.000003", 1200, 0)).isGreaterThan(at("mysql-bin.000003", 900, 5));
        assertThat(at("mysql-bin.000003", 900, 5)).isGreaterThan(at("mysql-bin.000003", 900, 4));
        assertThat(at("mysql-bin.000003", 900, 4))
                .isEqualByComparingTo(at("mysql-bin.000003", 900, 4));
    }

    @Test
    void snapshotRowsSortBeforeEveryBinlogChange() {
        Sequence snapshot =
                commit.sequence(
                        new ChangeEvent(
                                "shop.orders",
                                Operation.READ,
                                List.of(1L),
                                null,
                                Map.of("id", 1L),
                                SourcePosition.NONE,
                                0L));
        assertThat(snapshot).isLessThan(at("mysql-bin.000001", 4, 0));
    }

    @Test
    void shuffledChangesAcrossRotationsSortBackIntoBinlogOrder() {
        List<Sequence> written = new ArrayList<>();
        Random random = new Random(11);
        long position = 4;
        int file = 1;
        for (int i = 0; i < 5_000; i++) {
            if (random.nextInt(100) == 0) {
                file++;
                position = 4;
            }
            position += 1 + random.nextInt(5_000);
            int rows = 1 + random.nextInt(3);
            for (int row = 0; row < rows; row++) {
                written.add(at(String.format("binlog.%06d", file), position, row));
            }
        }
        List<Sequence> shuffled = new ArrayList<>(written);
        Collections.shuffle(shuffled, random);
        Collections.sort(shuffled);
        assertThat(shuffled).containsExactlyElementsOf(written);
    }

    @Test
    void theDecoderReadsABinlogSourceStruct() {
        Struct source =
                new Struct(GtidPositionTest.SOURCE)
                        .put("ts_ms", 1_700_000_000_000L)
                        .put("db", "shop")
                        .put("table", "orders")
                        .put("server_id", 1L)
                        .put("file", "mysql-bin.000042")
                        .put("pos", 8_812L)
                        .put("row", 3);
        assertThat(SourceFields.position(source))
                .isEqualTo(BinlogPosition.of("mysql-bin.000042", 8_812, 3));
        // without a file name there is no binlog position
        assertThat(SourceFields.position(source.put("file", ""))).isEqualTo(SourcePosition.NONE);
    }

    @Test
    void describesAndRefusesWhatItCannotOrder() {
        assertThat(BinlogPosition.describe(BinlogPosition.of("mysql-bin.000123", 4567, 2)))
                .isEqualTo("123:4567#2");
        assertThatThrownBy(() -> BinlogPosition.of("mysql-bin", 4, 0))
                .hasMessageContaining("'mysql-bin' does not end in '.<sequence number>'");
        assertThatThrownBy(() -> BinlogPosition.of("mysql-bin.00x1", 4, 0))
                .hasMessageContaining("does not end in a sequence number");
        assertThatThrownBy(() -> BinlogPosition.of("mysql-bin.99999999999", 4, 0))
                .hasMessageContaining("below 2^30");
        assertThatThrownBy(() -> BinlogPosition.of("mysql-bin.000001", 1L << 32, 0))
                .hasMessageContaining("outside 0..2^32-1");
        // what MariaDB 11.4+ gives without binlog_legacy_event_pos (seen in BinlogSourceITCase)
        assertThatThrownBy(() -> BinlogPosition.of("mysql-bin.000001", -59, 0))
                .hasMessageContaining("binlog position -59 of mysql-bin.000001")
                .hasMessageContaining("binlog_legacy_event_pos=ON");
    }
}
