package io.tidemark.benchmarks.maintenance;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Changes to {@code public.events} at about {@code rate} a second until closed, in transactions of
 * {@value #PER_TRANSACTION}: 60% updates, 25% inserts (new keys), 15% deletes, over the table's
 * keys; the same sequence for every side (seeded).
 */
final class ChangeStream implements AutoCloseable {

    static final int PER_TRANSACTION = 20;

    private final Connection connection;
    private final Thread thread;
    private final AtomicLong written = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private volatile boolean stopped;

    private ChangeStream(Connection connection, int rows, int rate) {
        this.connection = connection;
        this.thread = new Thread(() -> write(rows, rate), "maintenance-bench-changes");
    }

    static ChangeStream start(Connection connection, int rows, int rate) throws SQLException {
        connection.setAutoCommit(false);
        ChangeStream stream = new ChangeStream(connection, rows, rate);
        stream.thread.start();
        return stream;
    }

    long written() {
        return written.get();
    }

    private void write(int rows, int rate) {
        SplittableRandom random = new SplittableRandom(20);
        long nextKey = rows + 1L;
        long started = System.nanoTime();
        try (PreparedStatement update =
                        connection.prepareStatement(
                                "UPDATE public.events SET qty = qty + 1, name = ?,"
                                        + " updated_at = clock_timestamp() WHERE id = ?");
                PreparedStatement insert =
                        connection.prepareStatement(
                                "INSERT INTO public.events VALUES (?, ?, ?, clock_timestamp())");
                PreparedStatement delete =
                        connection.prepareStatement("DELETE FROM public.events WHERE id = ?")) {
            while (!stopped) {
                for (int i = 0; i < PER_TRANSACTION; i++) {
                    int dice = random.nextInt(100);
                    long key = 1 + random.nextLong(nextKey - 1);
                    if (dice < 60) {
                        update.setString(1, "event " + key + " v" + written.get());
                        update.setLong(2, key);
                        update.executeUpdate();
                    } else if (dice < 85) {
                        insert.setLong(1, nextKey);
                        insert.setInt(2, dice);
                        insert.setString(3, "event " + nextKey);
                        insert.executeUpdate();
                        nextKey++;
                    } else {
                        delete.setLong(1, key);
                        delete.executeUpdate();
                    }
                }
                connection.commit();
                long done = written.addAndGet(PER_TRANSACTION);
                long due = started + done * 1_000_000_000L / rate;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
        } catch (Exception e) {
            failure.set(e);
        }
    }

    /** Stops the stream after its current transaction; fails if it failed. */
    @Override
    public void close() throws Exception {
        if (stopped) {
            return;
        }
        stopped = true;
        thread.join();
        connection.setAutoCommit(true);
        connection.close();
        Exception e = failure.get();
        if (e != null) {
            throw new IllegalStateException("the change stream failed", e);
        }
    }
}
