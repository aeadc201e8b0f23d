package io.tidemark.demo;

import io.tidemark.testbed.ShopWorkload;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** The shop workload at a steady rate on a thread of its own, until its end or a stop. */
final class DemoWorkload {

    private static final long TICK_MILLIS = 100;

    private final ScheduledExecutorService executor =
            Executors.newSingleThreadScheduledExecutor(
                    r -> new Thread(r, "tidemark-demo-workload"));
    private final AtomicReference<Exception> error = new AtomicReference<>();

    /** Writes {@code rate} changes/s of {@code workload} until {@code end}. */
    DemoWorkload(ShopWorkload workload, int rate, Instant end) {
        double perTick = rate * TICK_MILLIS / 1000.0;
        double[] carry = {0};
        executor.scheduleAtFixedRate(
                () -> {
                    if (Instant.now().isAfter(end)) {
                        executor.shutdown();
                        return;
                    }
                    carry[0] += perTick;
                    int count = (int) carry[0];
                    carry[0] -= count;
                    try {
                        workload.apply(count);
                    } catch (SQLException | RuntimeException e) {
                        error.set(e instanceof SQLException ? e : new IllegalStateException(e));
                        executor.shutdown();
                    }
                },
                0,
                TICK_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /**
     * Waits up to {@code millis} for the workload to end; true once it has. A workload that failed
     * throws its error.
     */
    boolean awaitEnd(long millis) throws Exception {
        boolean ended = executor.awaitTermination(millis, TimeUnit.MILLISECONDS);
        if (ended && error.get() != null) {
            throw error.get();
        }
        return ended;
    }

    /** Stops writing at once. */
    void stop() {
        executor.shutdownNow();
    }
}
