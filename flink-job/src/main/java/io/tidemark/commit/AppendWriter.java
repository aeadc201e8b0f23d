package io.tidemark.commit;

import io.tidemark.runtime.RunContext;
import io.tidemark.sink.LateTable;
import io.tidemark.sink.QuarantineTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.data.RowData;
import org.apache.iceberg.flink.CatalogLoader;

/**
 * Appends rows to the side table of their source table (the first column of every row): the
 * reconciler's late rows ({@link LateTable}) and the contract gate's quarantined changes ({@link
 * QuarantineTable}); committed by the same committer on the same checkpoints as the targets. A row
 * of a source table without a side table goes to the side table under {@link
 * QuarantineTable#ANY_TABLE}, if there is one.
 */
public final class AppendWriter extends FilesWriter<RowData> {

    private static final long serialVersionUID = 1L;

    private final RunContext run;

    /** Source table to its side table. */
    private final Map<String, String> sideTables;

    /** What the side tables hold, for messages: {@code late}, {@code quarantine}. */
    private final String kind;

    public AppendWriter(
            RunContext run,
            CatalogLoader catalogLoader,
            Map<String, String> sideTables,
            String kind) {
        super(catalogLoader, targets(sideTables));
        this.run = run;
        this.sideTables = Map.copyOf(sideTables);
        this.kind = kind;
    }

    private static List<Target> targets(Map<String, String> sideTables) {
        List<Target> targets = new ArrayList<>();
        for (String table : new java.util.LinkedHashSet<>(sideTables.values())) {
            targets.add(new Target(table, List.of()));
        }
        return targets;
    }

    @Override
    public void open() throws Exception {
        run.enterLogContext();
        super.open();
    }

    @Override
    protected void route(RowData row, RowSink sink) throws Exception {
        String sourceTable = row.getString(0).toString();
        String side =
                sideTables.getOrDefault(sourceTable, sideTables.get(QuarantineTable.ANY_TABLE));
        if (side == null) {
            throw new IllegalStateException(
                    "a "
                            + kind
                            + " row of table '"
                            + sourceTable
                            + "', which has no "
                            + kind
                            + " table");
        }
        sink.write(side, row);
    }
}
