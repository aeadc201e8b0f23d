package io.tidemark.contract;

import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.QualityCheck;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data-quality windows of one contract gate subtask: per table with a contract, what each of
 * its last checkpoints brought ({@link Counts}), the checks evaluated over them at every barrier,
 * and their bytes in the gate's state (version {@value #VERSION}: version, subtask, then per table
 * its checkpoints' counts).
 */
final class QualityWindows {

    private static final Logger LOG = LoggerFactory.getLogger(QualityWindows.class);

    static final int VERSION = 1;

    /** What an evaluation reports, for the gate's metrics. */
    interface Observer {
        /** Check {@code check} of {@code table} was evaluated and observed {@code value}. */
        void evaluated(String table, String check, double value);

        /** A check of {@code table} failed. */
        void failed(String table);
    }

    /** What one checkpoint of one table brought to the gate. */
    static final class Counts {
        long in;
        long passed;

        /** Passed inserts, updates and snapshot rows: the rows a null rate is taken over. */
        long rows;

        long quarantined;
        long newestSourceTime;
        final Map<String, Long> nulls = new HashMap<>();
    }

    private final Map<String, Contract> contracts;

    /** This checkpoint's counts per table with a contract. */
    private final Map<String, Counts> current = new HashMap<>();

    /** Per table, the counts of its last checkpoints, the newest first. */
    private final Map<String, Deque<Counts>> windows = new HashMap<>();

    QualityWindows(Map<String, Contract> contracts) {
        this.contracts = contracts;
        for (String table : contracts.keySet()) {
            current.put(table, new Counts());
            windows.put(table, new ArrayDeque<>());
        }
    }

    /** This checkpoint's counts of {@code table} (one with a contract). */
    Counts current(String table) {
        return current.get(table);
    }

    /**
     * Subtask {@code subtask}'s element of the union state {@code all} (one per subtask), or null
     * when there is none or the parallelism changed (a rescaled job starts its windows empty).
     */
    static byte[] restoredFor(Iterable<byte[]> all, int subtask, int parallelism)
            throws IOException {
        List<byte[]> elements = new ArrayList<>();
        all.forEach(elements::add);
        if (elements.size() != parallelism) {
            return null;
        }
        for (byte[] element : elements) {
            if (subtaskOf(element) == subtask) {
                return element;
            }
        }
        return null;
    }

    /** The subtask whose windows {@code bytes} ({@link #write}) are. */
    static int subtaskOf(byte[] bytes) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(bytes);
        in.readInt();
        return in.readInt();
    }

    /**
     * Subtask {@code subtask}'s windows: version, subtask, then per table its checkpoints' counts.
     */
    byte[] write(int subtask) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        out.writeInt(VERSION);
        out.writeInt(subtask);
        out.writeInt(windows.size());
        for (Map.Entry<String, Deque<Counts>> table : windows.entrySet()) {
            out.writeUTF(table.getKey());
            out.writeInt(table.getValue().size());
            for (Counts counts : table.getValue()) {
                out.writeLong(counts.in);
                out.writeLong(counts.passed);
                out.writeLong(counts.rows);
                out.writeLong(counts.quarantined);
                out.writeLong(counts.newestSourceTime);
                out.writeInt(counts.nulls.size());
                for (Map.Entry<String, Long> nulls : counts.nulls.entrySet()) {
                    out.writeUTF(nulls.getKey());
                    out.writeLong(nulls.getValue());
                }
            }
        }
        return out.getCopyOfBuffer();
    }

    /** Takes back the windows {@link #write} wrote, for the tables that still have a contract. */
    void read(byte[] bytes) {
        try {
            DataInputDeserializer in = new DataInputDeserializer(bytes);
            int version = in.readInt();
            if (version != VERSION) {
                throw new IllegalStateException(
                        "data-quality windows of version "
                                + version
                                + " but this build reads version "
                                + VERSION);
            }
            in.readInt();
            for (int t = in.readInt(); t > 0; t--) {
                String table = in.readUTF();
                Deque<Counts> window = new ArrayDeque<>();
                for (int c = in.readInt(); c > 0; c--) {
                    Counts counts = new Counts();
                    counts.in = in.readLong();
                    counts.passed = in.readLong();
                    counts.rows = in.readLong();
                    counts.quarantined = in.readLong();
                    counts.newestSourceTime = in.readLong();
                    for (int n = in.readInt(); n > 0; n--) {
                        counts.nulls.put(in.readUTF(), in.readLong());
                    }
                    window.addLast(counts);
                }
                // a table whose contract is gone no longer has checks
                if (windows.containsKey(table)) {
                    windows.put(table, window);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the data-quality windows", e);
        }
    }

    /**
     * Evaluates every table's data-quality checks over its last checkpoints, at a checkpoint
     * barrier. A failing check in mode {@code fail} fails the run without restarts (the same data
     * would fail again); in mode {@code warn} it is logged and counted. Windows cover this gate
     * subtask's changes and are kept in its state across restarts.
     */
    void evaluate(long checkpointId, Observer observer) {
        for (Map.Entry<String, Contract> entry : contracts.entrySet()) {
            String table = entry.getKey();
            Contract contract = entry.getValue();
            Deque<Counts> window = windows.get(table);
            window.addFirst(current.get(table));
            current.put(table, new Counts());
            int longest = 1;
            for (QualityCheck check : contract.checks()) {
                longest = Math.max(longest, check.window());
            }
            while (window.size() > longest) {
                window.removeLast();
            }
            for (QualityCheck check : contract.checks()) {
                evaluate(table, contract, check, window, checkpointId, observer);
            }
        }
    }

    private void evaluate(
            String table,
            Contract contract,
            QualityCheck check,
            Deque<Counts> window,
            long checkpointId,
            Observer observer) {
        long in = 0;
        long passing = 0;
        long rows = 0;
        long bad = 0;
        long nulls = 0;
        int seen = 0;
        boolean arrivingWithoutPassing = true;
        for (Counts counts : window) {
            if (seen == check.window()) {
                break;
            }
            seen++;
            in += counts.in;
            passing += counts.passed;
            rows += counts.rows;
            bad += counts.quarantined;
            nulls += counts.nulls.getOrDefault(check.column(), 0L);
            arrivingWithoutPassing &= counts.in > 0 && counts.passed == 0;
        }
        double value;
        boolean breached;
        String threshold;
        switch (check.kind()) {
            case QUARANTINE_RATIO:
                if (in == 0) {
                    return;
                }
                value = (double) bad / in;
                breached = value > check.max();
                threshold = String.format("%.3f", check.max());
                break;
            case NULL_RATE:
                if (rows == 0) {
                    return;
                }
                value = (double) nulls / rows;
                breached = value > check.max();
                threshold = String.format("%.3f", check.max());
                break;
            case NO_ROWS_WRITTEN:
                if (seen < check.window()) {
                    return;
                }
                value = passing;
                breached = arrivingWithoutPassing;
                threshold = "rows passing while " + in + " arrived";
                break;
            default:
                Counts last = window.peekFirst();
                if (last == null || last.in == 0 || last.newestSourceTime <= 0) {
                    return;
                }
                value = System.currentTimeMillis() - last.newestSourceTime;
                breached = value > contract.freshness().toMillis();
                threshold = contract.freshness().toMillis() + " ms";
                break;
        }
        observer.evaluated(table, check.name(), value);
        if (breached) {
            observer.failed(table);
            fail(table, contract, check, checkpointId, value, seen, threshold);
        }
    }

    /**
     * A check that failed: the run stops for good under {@code mode: fail}, else a warning says
     * what was observed against what.
     */
    private static void fail(
            String table,
            Contract contract,
            QualityCheck check,
            long checkpointId,
            double value,
            int seen,
            String threshold) {
        String message =
                String.format(
                        "data-quality check %s of table %s (contract %s) failed at checkpoint %d:"
                                + " observed %s over the last %d checkpoint(s), threshold %s",
                        check.name(),
                        table,
                        contract.id(),
                        checkpointId,
                        check.kind() == QualityCheck.Kind.QUARANTINE_RATIO
                                        || check.kind() == QualityCheck.Kind.NULL_RATE
                                ? String.format("%.3f", value)
                                : String.format("%.0f", value),
                        check.kind() == QualityCheck.Kind.FRESHNESS ? 1 : seen,
                        threshold);
        if (check.mode() == QualityCheck.Mode.FAIL) {
            throw new SuppressRestartsException(new IllegalStateException(message));
        }
        LOG.warn("{} (mode warn: the run continues)", message);
    }
}
