package io.tidemark.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.reconcile.OrderingRule;
import io.tidemark.reconcile.Sequence;
import io.tidemark.source.LiveTables;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Schema;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;
import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

/**
 * GTID order: the transaction's ordinal in the executed GTID set, then (event, row) within it. The
 * records below are shaped as Debezium 1.9's MySQL connector (inside Flink CDC 3.5) emits them:
 * {@code source.gtid} is the transaction's GTID, the offset's {@code gtids} the set before it
 * (after a start: the set already holding it), {@code event} the events of the transaction before
 * the current one, {@code source.row} the row within the rows event.
 */
class GtidPositionTest {

    private static final String A = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private static final String B = "5a1b8c3d-0f2e-11ef-8a44-0242ac120003";

    private final OrderingRule commit = OrderingRule.commitOrder();

    private static Sequence at(SourcePosition position) {
        return BinlogPositionTest.sequence(position);
    }

    @Test
    void theOrdinalIsTheSizeOfTheSetWithTheTransaction() {
        assertThat(GtidPosition.ordinal(A + ":1-5", A + ":6")).isEqualTo(6);
        // Debezium's first offset after a start already holds the transaction: the same ordinal
        assertThat(GtidPosition.ordinal(A + ":1-6", A + ":6")).isEqualTo(6);
        // several servers, line breaks as SHOW MASTER STATUS prints them, gaps, upper case
        assertThat(GtidPosition.ordinal(A.toUpperCase() + ":1-100,\n" + B + ":1-3:5-7", B + ":8"))
                .isEqualTo(107);
        // MySQL 8.3+ tagged GTIDs count as their own source
        assertThat(GtidPosition.ordinal(A + ":1-10:nightly:1-2", A + ":nightly:3")).isEqualTo(13);
        assertThat(GtidPosition.ordinal(null, A + ":1")).isEqualTo(1);
        // a server's executed set (a re-read's watermark): the ordinal of its last transaction
        assertThat(GtidPosition.size(A.toUpperCase() + ":1-100,\n" + B + ":1-3:5-7"))
                .isEqualTo(106);
        assertThat(GtidPosition.size(A + ":1-10:nightly:1-2")).isEqualTo(12);
        assertThat(GtidPosition.size("")).isZero();
        // the next transaction's ordinal is one above it
        assertThat(GtidPosition.ordinal(A + ":1-41", A + ":42"))
                .isEqualTo(GtidPosition.size(A + ":1-41") + 1);
    }

    @Test
    void afterAFailoverThePromotedReplicasTransactionsComeAfterTheOldPrimarys() {
        // the old primary A wrote 150 transactions; the replica B applied all of them, is promoted
        // and writes its own: binlog names and positions differ, the order does not
        SourcePosition lastOnA = GtidPosition.of(A + ":1-149", A + ":150", 3, 0);
        SourcePosition firstOnB = GtidPosition.of(A + ":1-150", B + ":1", 3, 0);
        SourcePosition secondOnB = GtidPosition.of(A + ":1-150," + B + ":1", B + ":2", 3, 0);
        assertThat(at(firstOnB)).isGreaterThan(at(lastOnA));
        assertThat(at(secondOnB)).isGreaterThan(at(firstOnB));
        // A's last transaction re-read from B after the failover (Flink CDC resumes by GTID set)
        // is the same position as it was on A
        assertThat(GtidPosition.of(A + ":1-150", A + ":150", 3, 0)).isEqualTo(lastOnA);
    }

    @Test
    void withinATransactionByEventThenRow() {
        String set = A + ":1-41";
        String gtid = A + ":42";
        assertThat(at(GtidPosition.of(set, gtid, 5, 0)))
                .isGreaterThan(at(GtidPosition.of(set, gtid, 3, 900)));
        assertThat(at(GtidPosition.of(set, gtid, 3, 2)))
                .isGreaterThan(at(GtidPosition.of(set, gtid, 3, 1)));
        // any change of a later transaction is newer than every change of an earlier one
        assertThat(at(GtidPosition.of(A + ":1-42", A + ":43", 2, 0)))
                .isGreaterThan(at(GtidPosition.of(set, gtid, 1_000_000, 70_000)));
    }

    @Test
    void gtidPositionsSortAfterEveryBinlogPosition() {
        // a pipeline that starts ordering by GTID from a savepoint taken under binlog positions:
        // everything it reads after the restore is newer than the state it restored
        assertThat(at(GtidPosition.of(null, A + ":1", 0, 0)))
                .isGreaterThan(at(BinlogPosition.of("mysql-bin.1073741823", 0xFFFF_FFFFL, 65_535)));
        assertThatThrownBy(() -> BinlogPosition.of("mysql-bin.1073741824", 4, 0))
                .hasMessageContaining("below 2^30");
        assertThat(GtidPosition.isGtid(GtidPosition.of(null, A + ":1", 0, 0))).isTrue();
        assertThat(GtidPosition.isGtid(BinlogPosition.of("mysql-bin.000001", 4, 0))).isFalse();
        assertThat(GtidPosition.isGtid(SourcePosition.NONE)).isFalse();
        assertThat(BinlogPosition.describe(GtidPosition.of(A + ":1-9", A + ":10", 4, 2)))
                .isEqualTo("gtid:10#4.2");
    }

    @Test
    void refusesWhatItCannotCount() {
        assertThatThrownBy(() -> GtidPosition.ordinal(A + ":7-3", A + ":8"))
                .hasMessageContaining("interval '7-3' is descending");
        assertThatThrownBy(() -> GtidPosition.ordinal(A, A + ":8"))
                .hasMessageContaining("has no intervals");
        assertThatThrownBy(() -> GtidPosition.ordinal(A + ":1-3", "nonsense"))
                .hasMessageContaining("is not '<uuid>:<number>'");
        assertThatThrownBy(() -> GtidPosition.ordinal(A + ":1-3", A + ":x"))
                .hasMessageContaining("'x' is not a transaction number");
        assertThatThrownBy(() -> GtidPosition.ordinal(A + ":1-3", null))
                .hasMessageContaining("without a GTID");
    }

    // the decoder, on records shaped as the MySQL connector emits them

    private static final Schema ROW =
            SchemaBuilder.struct()
                    .name("shop.orders.Value")
                    .field("id", Schema.INT64_SCHEMA)
                    .field("qty", Schema.OPTIONAL_INT32_SCHEMA)
                    .optional()
                    .build();

    /** Debezium 1.9's MySQL source struct. */
    static final Schema SOURCE =
            SchemaBuilder.struct()
                    .name("io.debezium.connector.mysql.Source")
                    .field("ts_ms", Schema.INT64_SCHEMA)
                    .field("db", Schema.STRING_SCHEMA)
                    .field("table", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("server_id", Schema.INT64_SCHEMA)
                    .field("gtid", Schema.OPTIONAL_STRING_SCHEMA)
                    .field("file", Schema.STRING_SCHEMA)
                    .field("pos", Schema.INT64_SCHEMA)
                    .field("row", Schema.INT32_SCHEMA)
                    .build();

    private static final Schema ENVELOPE =
            SchemaBuilder.struct()
                    .field("before", ROW)
                    .field("after", ROW)
                    .field("source", SOURCE)
                    .field("op", Schema.STRING_SCHEMA)
                    .field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA)
                    .build();

    private final DebeziumDecoder gtidDecoder =
            new DebeziumDecoder(
                    "mysql",
                    Map.of("shop.orders", List.of("id")),
                    LiveTables.NONE,
                    BinlogOrder.GTID);

    /** One binlog change: a server's binlog file and position, and Debezium's offset. */
    private static SourceRecord change(
            String op,
            long id,
            int qty,
            String gtid,
            String consumed,
            long event,
            int row,
            String file,
            long pos) {
        Struct source =
                new Struct(SOURCE)
                        .put("ts_ms", 1_700_000_000_000L)
                        .put("db", "shop")
                        .put("table", "orders")
                        .put("server_id", 1L)
                        .put("gtid", gtid)
                        .put("file", file)
                        .put("pos", pos)
                        .put("row", row);
        Struct image = new Struct(ROW).put("id", id).put("qty", qty);
        Struct value =
                new Struct(ENVELOPE)
                        .put("before", op.equals("c") || op.equals("r") ? null : image)
                        .put("after", op.equals("d") ? null : image)
                        .put("source", source)
                        .put("op", op);
        Map<String, Object> offset = new HashMap<>();
        offset.put("file", file);
        offset.put("pos", pos);
        if (consumed != null) {
            offset.put("gtids", consumed);
        }
        if (event != 0) {
            offset.put("event", event);
        }
        offset.put("row", row + 1);
        return new SourceRecord(
                Map.of("server", "mysql_binlog_source"), offset, "t", null, null, ENVELOPE, value);
    }

    @Test
    void theDecoderPlacesBinlogChangesByGtid() {
        ChangeEvent decoded =
                gtidDecoder.decode(
                        change("u", 1, 5, A + ":42", A + ":1-41", 3, 1, "mysql-bin.000007", 8_812));
        assertThat(decoded.operation()).isEqualTo(Operation.UPDATE);
        assertThat(decoded.position()).isEqualTo(GtidPosition.of(A + ":1-41", A + ":42", 3, 1));
        // the same change as a server with other binlog names and positions wrote it
        assertThat(
                        gtidDecoder
                                .decode(
                                        change(
                                                "u",
                                                1,
                                                5,
                                                A + ":42",
                                                A + ":1-41",
                                                3,
                                                1,
                                                "replica-bin.000002",
                                                190))
                                .position())
                .isEqualTo(decoded.position());
        // snapshot rows carry no GTID and need none: they sort before every log change anyway
        ChangeEvent read =
                gtidDecoder.decode(change("r", 2, 1, null, null, 0, 0, "mysql-bin.000007", 4));
        assertThat(read.operation()).isEqualTo(Operation.READ);
        assertThat(at(decoded.position())).isGreaterThan(commit.sequence(read));
    }

    @Test
    void aBinlogChangeWithoutAGtidIsQuarantinedNamingTheFix() {
        ChangeEvent decoded =
                gtidDecoder.decode(
                        change("c", 3, 1, null, A + ":1-9", 2, 0, "mysql-bin.000007", 900));
        assertThat(decoded.operation()).isEqualTo(Operation.MALFORMED);
        assertThat(decoded.malformedReason()).isEqualTo("CORRUPT_ENVELOPE");
        assertThat(decoded.malformedPayload()).contains("id=3");
        assertThat(decoded.malformedDetail())
                .contains(
                        "binlog change for table 'shop.orders' at mysql-bin.000007:900 has no GTID")
                .contains("gtid_mode")
                .contains("source.binlog-order: binlog-position");
    }

    /**
     * A stream of transactions as the reader emits them, once straight through and once with
     * restarts in the middle of transactions (Debezium's first offset after a start holds the
     * current transaction in its set; it skips the events it had emitted): every change gets the
     * same position both times, and shuffled they sort back into binlog order.
     */
    @Test
    void restartsDoNotMoveAChangeAndShuffledChangesSortBack() {
        Random random = new Random(17);
        List<int[]> transactions = new ArrayList<>(); // events, rows per event
        for (int t = 0; t < 400; t++) {
            transactions.add(new int[] {1 + random.nextInt(3), 1 + random.nextInt(4)});
        }
        List<SourcePosition> straight = positions(transactions, Long.MAX_VALUE, random);
        List<SourcePosition> restarted = positions(transactions, 37, new Random(5));
        assertThat(restarted).isEqualTo(straight);
        List<Sequence> written = new ArrayList<>();
        straight.forEach(p -> written.add(at(p)));
        List<Sequence> shuffled = new ArrayList<>(written);
        Collections.shuffle(shuffled, random);
        Collections.sort(shuffled);
        assertThat(shuffled).containsExactlyElementsOf(written);
    }

    /**
     * Decodes the transactions' changes; the reader restarts after about every {@code every}
     * changes, at the start of the transaction it was in (the changes it emits again are skipped by
     * Debezium, so they are not emitted twice).
     */
    private List<SourcePosition> positions(List<int[]> transactions, long every, Random random) {
        List<SourcePosition> out = new ArrayList<>();
        long sinceRestart = 0;
        boolean justStarted = true;
        long ordinalBefore = 1_000; // A:1-1000 executed before the pipeline started
        for (int t = 0; t < transactions.size(); t++) {
            String gtid = A + ":" + (ordinalBefore + t + 1);
            String before = A + ":1-" + (ordinalBefore + t);
            for (int event = 0; event < transactions.get(t)[0]; event++) {
                for (int row = 0; row < transactions.get(t)[1]; row++) {
                    // GTID, BEGIN and the table map precede the first rows event
                    long eventIndex = 2 + 2L * event;
                    String consumed = justStarted ? A + ":1-" + (ordinalBefore + t + 1) : before;
                    out.add(
                            gtidDecoder
                                    .decode(
                                            change(
                                                    "u",
                                                    1,
                                                    row,
                                                    gtid,
                                                    consumed,
                                                    eventIndex,
                                                    row,
                                                    "mysql-bin.000001",
                                                    4 + t * 1_000L + event * 100L))
                                    .position());
                    if (++sinceRestart >= every && random.nextBoolean()) {
                        sinceRestart = 0;
                        justStarted = true;
                    }
                }
            }
            // the transaction's commit: the next one's offset holds the set before it again
            justStarted = false;
        }
        return out;
    }
}
