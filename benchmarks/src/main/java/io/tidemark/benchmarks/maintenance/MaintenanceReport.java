package io.tidemark.benchmarks.maintenance;

import static io.tidemark.benchmarks.maintenance.MaintenanceBenchmark.median;

import io.tidemark.benchmarks.maintenance.MaintenanceBenchmark.Figures;
import io.tidemark.benchmarks.maintenance.MaintenanceBenchmark.PointReads;
import java.util.List;
import java.util.function.Function;

/** The Markdown report of a {@link MaintenanceBenchmark} run: one column per side. */
final class MaintenanceReport {

    private MaintenanceReport() {}

    static String markdown(
            List<Figures> sides, int checkpoints, int rows, int rate, Schedule schedule) {
        StringBuilder md = new StringBuilder();
        md.append("# Table maintenance: ")
                .append(String.format("%,d", checkpoints))
                .append(" checkpoints of streaming changes, maintenance off and on\n\n");
        md.append(
                String.format(
                        "%,d rows, about %,d changes/s (60%% updates, 25%% inserts, 15%% deletes),"
                                + " checkpoints every %d ms, parallelism 1. Maintenance on:"
                                + " compaction and snapshot expiry every %d commits (at most one"
                                + " run of each every %s), %s, %d snapshots kept (orphan files are not"
                                + " removed: nothing in this run leaves any)."
                                + " Full read: Iceberg's generic reader, deletes applied, median of"
                                + " 3 after one warm-up; Tidemark's reader (the one `verify` and"
                                + " re-reads use: each delete file read once, its equality deletes"
                                + " one index for the read), a read of the table and one of the"
                                + " fresh copy in turn, median of 5 after one warm-up; Trino 476"
                                + " (count(*) and a checksum of every column), the same way; fresh copy:"
                                + " the same rows in one Parquet"
                                + " file of a table of their own. Each reader reads the current"
                                + " snapshot and, when one is retained, the end of a compaction"
                                + " cycle (the retained snapshot with the most data and delete"
                                + " files, read at that snapshot beside a fresh copy of its rows). A full read gives up after 10"
                                + " min; a side whose table reads in under 5 min is diffed against"
                                + " its source (missing, extra, duplicate, stale all zero).%n%n",
                        rows,
                        rate,
                        MaintenanceSide.CHECKPOINT_INTERVAL_MS,
                        schedule.compactEvery(),
                        schedule.minInterval(),
                        schedule.foldEvery() > 0
                                ? "the files committed since folded every "
                                        + schedule.foldEvery()
                                        + " equality-delete files"
                                : "no fold",
                        MaintenanceSide.RETAIN_LAST));
        md.append("| figure |");
        sides.forEach(s -> md.append(" maintenance ").append(s.side()).append(" |"));
        md.append("\n| --- |");
        sides.forEach(s -> md.append(" --- |"));
        md.append('\n');
        row(md, "checkpoints committed", sides, s -> String.format("%,d", s.commits()));
        row(md, "streamed for", sides, s -> String.format("%d s", s.streamed().toSeconds()));
        row(md, "changes written", sides, s -> String.format("%,d", s.changes()));
        row(
                md,
                "records in data files (deleted ones too)",
                sides,
                s -> String.format("%,d", s.table().dataRecords()));
        row(md, "snapshots", sides, s -> String.format("%,d", s.table().snapshots()));
        row(md, "data files", sides, s -> String.format("%,d", s.table().dataFiles()));
        row(md, "delete files", sides, s -> String.format("%,d", s.table().deleteFiles()));
        row(md, "delete records", sides, s -> String.format("%,d", s.table().deleteRecords()));
        row(
                md,
                "metadata.json bytes",
                sides,
                s -> String.format("%,d", s.table().metadataJsonBytes()));
        row(
                md,
                "metadata directory (bytes / files)",
                sides,
                s ->
                        String.format(
                                "%,d / %,d",
                                s.table().metadataDirBytes(), s.table().metadataDirFiles()));
        row(
                md,
                "files under the location",
                sides,
                s -> String.format("%,d", s.table().locationFiles()));
        pointReads(md, "", sides, Figures::current);
        row(
                md,
                "end of a compaction cycle: the retained snapshot with the most files",
                sides,
                s -> s.mostFiles() == null ? "none retained" : s.mostFiles().point().toString());
        pointReads(md, " (end of a cycle)", sides, Figures::mostFiles);
        row(md, "checked", sides, Figures::verified);
        return md.toString();
    }

    /** The rows of every reader's reads of one point ({@code suffix} names it). */
    private static void pointReads(
            StringBuilder md,
            String suffix,
            List<Figures> sides,
            Function<Figures, PointReads> at) {
        Function<Figures, PointReads> point = s -> at.apply(s) != null ? at.apply(s) : NONE;
        reads(
                md,
                "full read" + suffix + ", ms (runs; -1: gave up after 10 min)",
                "fresh copy's full read" + suffix + ", ms (runs)",
                "full read / fresh copy" + suffix,
                sides,
                s -> point.apply(s).readMillis(),
                s -> point.apply(s).freshReadMillis());
        reads(
                md,
                "full read by Tidemark's reader" + suffix + ", ms (runs)",
                "fresh copy's, Tidemark's reader" + suffix + ", ms (runs)",
                "full read / fresh copy, Tidemark's reader" + suffix,
                sides,
                s -> point.apply(s).tidemarkReadMillis(),
                s -> point.apply(s).freshTidemarkReadMillis());
        reads(
                md,
                "full read by Trino 476" + suffix + ", ms (runs)",
                "fresh copy's, Trino" + suffix + ", ms (runs)",
                "full read / fresh copy, Trino" + suffix,
                sides,
                s -> point.apply(s).trinoReadMillis(),
                s -> point.apply(s).freshTrinoReadMillis());
    }

    private static final PointReads NONE =
            new PointReads(
                    null,
                    List.of(-1L),
                    List.of(-1L),
                    List.of(-1L),
                    List.of(-1L),
                    List.of(-1L),
                    List.of(-1L));

    /** The rows of one reader: the table's reads, the fresh copy's, and their medians' ratio. */
    private static void reads(
            StringBuilder md,
            String tableFigure,
            String freshFigure,
            String ratioFigure,
            List<Figures> sides,
            Function<Figures, List<Long>> table,
            Function<Figures, List<Long>> fresh) {
        row(md, tableFigure, sides, s -> median(table.apply(s)) + " " + table.apply(s));
        row(md, freshFigure, sides, s -> median(fresh.apply(s)) + " " + fresh.apply(s));
        row(
                md,
                ratioFigure,
                sides,
                s ->
                        String.format(
                                "%.2fx",
                                median(table.apply(s))
                                        / (double) Math.max(1, median(fresh.apply(s)))));
    }

    private static void row(
            StringBuilder md, String figure, List<Figures> sides, Function<Figures, String> value) {
        md.append("| ").append(figure).append(" |");
        sides.forEach(s -> md.append(' ').append(value.apply(s)).append(" |"));
        md.append('\n');
    }
}
