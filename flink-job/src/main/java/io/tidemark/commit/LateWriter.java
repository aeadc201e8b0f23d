package io.tidemark.commit;

import io.tidemark.runtime.RunContext;
import io.tidemark.sink.LateTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.table.data.RowData;
import org.apache.iceberg.flink.CatalogLoader;

/**
 * Appends the reconciler's late rows ({@link LateTable}) to the late table of their source table;
 * committed by the same committer on the same checkpoints as the targets.
 */
public final class LateWriter extends FilesWriter<RowData> {

    private static final long serialVersionUID = 1L;

    private final RunContext run;

    /** Source table to its late table. */
    private final Map<String, String> lateTables;

    public LateWriter(RunContext run, CatalogLoader catalogLoader, Map<String, String> lateTables) {
        super(catalogLoader, targets(lateTables));
        this.run = run;
        this.lateTables = Map.copyOf(lateTables);
    }

    private static List<Target> targets(Map<String, String> lateTables) {
        List<Target> targets = new ArrayList<>();
        for (String table : lateTables.values()) {
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
        String late = lateTables.get(sourceTable);
        if (late == null) {
            throw new IllegalStateException(
                    "late change of table '"
                            + sourceTable
                            + "' whose late policy is not 'quarantine'");
        }
        sink.write(late, row);
    }
}
