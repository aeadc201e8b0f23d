package io.tidemark.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Small transactions on a source every 50 ms, on a connection of its own, until closed: step {@code
 * n} runs the statements {@code steps} gives for {@code n}, each committed by itself.
 */
public final class Workload implements AutoCloseable {

    /** Steps run so far. */
    public final AtomicLong changes = new AtomicLong();

    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    private final Connection connection;
    private final LongFunction<List<String>> steps;

    public Workload(Connection connection, LongFunction<List<String>> steps) {
        this.connection = connection;
        this.steps = steps;
        executor.scheduleAtFixedRate(this::step, 0, 50, TimeUnit.MILLISECONDS);
    }

    /** The first failed step's error: the executor runs no step after it. */
    private volatile SQLException failure;

    private void step() {
        long n = changes.incrementAndGet();
        try (Statement s = connection.createStatement()) {
            for (String statement : steps.apply(n)) {
                s.execute(statement);
            }
        } catch (SQLException e) {
            failure = e;
            throw new IllegalStateException(e);
        }
    }

    /** Stops the workload; fails if a step failed (which would have stopped it early). */
    @Override
    public void close() throws Exception {
        executor.shutdown();
        assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        connection.close();
        if (failure != null) {
            throw new AssertionError("a step of the workload failed: " + failure, failure);
        }
    }
}
