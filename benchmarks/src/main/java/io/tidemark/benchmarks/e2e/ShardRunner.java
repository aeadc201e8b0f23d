package io.tidemark.benchmarks.e2e;

import io.tidemark.catalog.verify.DiffReport;
import io.tidemark.catalog.verify.GroundTruthDiff;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.core.execution.JobClient;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * Runs one side once on the multi-source variant ({@link ShardedTable}): both shards snapshotted,
 * then the out-of-order stream once the side reads both logs, then the side's table diffed against
 * the expected merge.
 */
final class ShardRunner {

    private final Side.Bench bench;
    private final Catalog catalog;
    private final PrintStream out;

    ShardRunner(Side.Bench bench, Catalog catalog, PrintStream out) {
        this.bench = bench;
        this.catalog = catalog;
        this.out = out;
    }

    ShardFigures run(Side side, int repetition) throws Exception {
        BenchSettings settings = bench.settings();
        String run = side.name().replace('-', '_') + "_shards_" + repetition;
        TableIdentifier id = side.table(run);
        long deadline = System.currentTimeMillis() + settings.timeout().toMillis();
        List<String> shards = ShardedTable.SHARDS;
        ShardedTable.generate(bench.database(), settings.shardRows());
        if (catalog.tableExists(id)) {
            catalog.dropTable(id, true);
        }
        SideRunner.Sampler sampler = new SideRunner.Sampler();
        long submitted = System.currentTimeMillis();
        long cpuStart = SideRunner.OS.getProcessCpuTime();
        JobClient job = side.startShards(bench, run, shards);
        try {
            // the snapshots are done when the side reads each shard's log: Flink CDC reads a
            // snapshot chunk's backfill with a slot of its own and the main slot only for the log
            // phase, which follows the last chunk
            while (!logsRead(side, run, shards)) {
                sampler.sample();
                SideRunner.failIfEnded(job, side);
                SideRunner.timeout(deadline, side, "the shards' snapshots");
                TimeUnit.MILLISECONDS.sleep(200);
            }
            long streamStart = System.currentTimeMillis();
            double snapshotSeconds = (streamStart - submitted) / 1000.0;
            List<ShardedTable.Tombstone> tombstones =
                    ShardedTable.applyChanges(
                            bench.database(),
                            settings.shardRows(),
                            settings.shardChanges(),
                            settings.seed());
            long lastWritten = System.currentTimeMillis();
            Table table = null;
            while (table == null || !markersShown(table)) {
                sampler.sample();
                SideRunner.failIfEnded(job, side);
                SideRunner.timeout(deadline, side, "the shards' streams");
                TimeUnit.MILLISECONDS.sleep(200);
                if (table == null && catalog.tableExists(id)) {
                    table = catalog.loadTable(id);
                }
            }
            long markersSeen = System.currentTimeMillis();
            long cpu = SideRunner.OS.getProcessCpuTime() - cpuStart;
            long expectedRows = ShardedTable.materializeExpected(bench.database(), tombstones);
            DiffReport diff;
            long consistentAt = -1;
            try (Connection truth = bench.database().connect(ShardedTable.TRUTH_DATABASE)) {
                // after both markers, a side that merges by the rule needs at most a checkpoint
                // or two more; one that does not never gets there
                long settleUntil =
                        System.currentTimeMillis() + 10 * settings.checkpointInterval().toMillis();
                while (true) {
                    long at = System.currentTimeMillis();
                    diff = GroundTruthDiff.diff(truth, ShardedTable.EXPECTED, table);
                    if (diff.isClean()) {
                        consistentAt = at;
                        break;
                    }
                    if (System.currentTimeMillis() > settleUntil) {
                        break;
                    }
                    TimeUnit.SECONDS.sleep(2);
                }
            }
            SideRunner.cancel(job);
            table.refresh();
            Map<String, String> summary = table.currentSnapshot().summary();
            double streamSeconds = (markersSeen - streamStart) / 1000.0;
            ShardFigures figures =
                    new ShardFigures(
                            side.name(),
                            repetition,
                            snapshotSeconds,
                            2.0 * settings.shardRows() / snapshotSeconds,
                            streamSeconds,
                            settings.shardChanges() / streamSeconds,
                            (markersSeen - lastWritten) / 1000.0,
                            consistentAt < 0 ? Double.NaN : (consistentAt - lastWritten) / 1000.0,
                            cpu
                                    / 1e9
                                    / ((2.0 * settings.shardRows() + settings.shardChanges())
                                            / 1e6),
                            sampler.peakHeap / 1024.0 / 1024.0,
                            Long.parseLong(summary.getOrDefault("total-data-files", "0")),
                            Long.parseLong(summary.getOrDefault("total-delete-files", "0")),
                            Long.parseLong(summary.getOrDefault("total-equality-deletes", "0")),
                            SideRunner.readSeconds(table),
                            expectedRows,
                            diff);
            out.printf(
                    "  %s multi-source run %d: shards read in %.1f s, %,d out-of-order changes applied"
                            + " %.1f s after the first (%,.0f changes/s); %s%n",
                    side.name(),
                    repetition,
                    snapshotSeconds,
                    settings.shardChanges(),
                    streamSeconds,
                    figures.streamChangesPerSecond(),
                    diff.isClean()
                            ? String.format(
                                    "equal to the expected merge %.1f s after the last write",
                                    figures.consistentSeconds())
                            : "NOT equal to the expected merge: " + diff.summary());
            return figures;
        } finally {
            SideRunner.cancel(job);
            for (int i = 0; i < shards.size(); i++) {
                bench.database().dropSlot(shards.get(i), side.slot(run) + "_" + i);
            }
        }
    }

    /** Whether the side's main slot on every shard is in use: it reads the shard's log. */
    private boolean logsRead(Side side, String run, List<String> shards) throws Exception {
        for (int i = 0; i < shards.size(); i++) {
            try (Connection c = bench.database().connect(shards.get(i));
                    PreparedStatement active =
                            c.prepareStatement(
                                    "SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
                active.setString(1, side.slot(run) + "_" + i);
                try (ResultSet rs = active.executeQuery()) {
                    if (!rs.next() || !rs.getBoolean(1)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static boolean markersShown(Table table) throws Exception {
        for (long marker : ShardedTable.MARKERS) {
            if (!SideRunner.hasRow(table, marker)) {
                return false;
            }
        }
        return true;
    }
}
