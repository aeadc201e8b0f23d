package io.tidemark.benchmarks;

import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.Operation;
import io.tidemark.decode.SourcePosition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Events per second through the real {@link Reconciler} operator (keyed state, timers, emission),
 * on the heap and on RocksDB state. Mix: 60% update, 25% insert, 15% delete over 100,000 keys with
 * hot keys, plus 5% replayed duplicates (stale). One batch of {@value #BATCH} changes per
 * invocation, a watermark every 1,000 changes, a checkpoint barrier after every {@link
 * #changesPerCheckpoint} changes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ReconcilerBenchmark {

    static final int BATCH = 100_000;
    static final int KEYS = 100_000;

    /**
     * Heap state; RocksDB state as the job configures it, with RocksDB timers instead, and with
     * Flink's defaults, each with a slot's managed memory (see {@link Harnesses}; {@code
     * rocksdb-harness-memory}, by name only, takes minutes per batch).
     */
    @Param({"heap", "rocksdb", "rocksdb-rocksdb-timers", "rocksdb-flink-defaults"})
    public String backend;

    /**
     * Changes between two checkpoint barriers: 100,000 (a checkpoint every 0.4 s at 250K changes/s,
     * as this benchmark measured before) or 1,000,000 (every 4 s at that rate, still more often
     * than the default interval of 10 s). On RocksDB every key changed since the last barrier is
     * written back before the next one.
     */
    @Param({"100000"})
    public int changesPerCheckpoint;

    private int batches;

    private KeyedOneInputStreamOperatorTestHarness<String, ChangeEvent, ChangeEvent> harness;
    private List<ChangeEvent> batch;
    private long lsn = 1;
    private long checkpoint;
    private long eventTime = 1_000_000;
    private final Random random = new Random(42);

    @Setup(Level.Trial)
    public void open() throws Exception {
        harness = Harnesses.reconciler(backend);
        harness.open();
    }

    @Setup(Level.Invocation)
    public void nextBatch() {
        harness.getOutput().clear();
        batch = new ArrayList<>(BATCH);
        List<ChangeEvent> recent = new ArrayList<>();
        for (int i = 0; i < BATCH; i++) {
            if (!recent.isEmpty() && random.nextInt(100) < 5) {
                batch.add(recent.get(random.nextInt(recent.size()))); // replayed duplicate
                continue;
            }
            long key = random.nextInt(10) < 3 ? random.nextInt(100) : random.nextInt(KEYS);
            int dice = random.nextInt(100);
            Operation op =
                    dice < 60 ? Operation.UPDATE : dice < 85 ? Operation.INSERT : Operation.DELETE;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", key);
            row.put("status", "s" + (dice % 5));
            row.put("amount", (long) dice);
            long position = lsn++;
            ChangeEvent change =
                    new ChangeEvent(
                            "public.orders",
                            op,
                            List.of(key),
                            op == Operation.DELETE ? row : null,
                            op == Operation.DELETE ? null : row,
                            new SourcePosition(position, position, position),
                            eventTime++);
            batch.add(change);
            if (recent.size() < 1_000) {
                recent.add(change);
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public Object reconcile() throws Exception {
        int i = 0;
        for (ChangeEvent change : batch) {
            harness.processElement(new StreamRecord<>(change, change.sourceTimeMillis()));
            if (++i % 1_000 == 0) {
                harness.processWatermark(new Watermark(change.sourceTimeMillis() - 1));
            }
        }
        // RocksDB's key-state cache writes its changes back before a checkpoint's barrier
        if (++batches % Math.max(1, changesPerCheckpoint / BATCH) == 0) {
            harness.prepareSnapshotPreBarrier(++checkpoint);
        }
        // the output's head, not its size: the harness's queue counts its elements one by one,
        // which the earlier figures measured as a sixth of the RocksDB side's time
        return harness.getOutput().peek();
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        harness.close();
    }
}
