package io.tidemark.benchmarks;

import io.tidemark.catalog.provenance.Provenance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.types.Types;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What a restore of the committer costs per table as the table's history grows: loading the table
 * from its catalog (Iceberg reads its {@code metadata.json}, which lists every snapshot) and
 * finding what the pipeline's lineage committed last ({@link Provenance#lastCommitted}), on a real
 * Iceberg table (a Hadoop catalog in a temporary directory) of {@link #snapshots} Tidemark commits,
 * each carrying the committer's summary. {@code mark}: the committed-through table property the
 * committer sets with each commit ({@code true}: one property read), or none, as tables committed
 * before it were ({@code false}: a walk of the snapshots' ancestry from the current one to the
 * lineage's newest commit, here behind the history's other pipeline's commits on top). {@code
 * findTheLastCommitInTheLoadedTable} measures the lookup alone.
 *
 * <pre>
 * ./mvnw -Pjmh compile -pl benchmarks -am -Djmh.args="RestoreLookupBenchmark -f 1 -wi 3 -i 5 -w 2s -r 2s"
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class RestoreLookupBenchmark {

    private static final String PIPELINE = "bench";
    private static final String LINEAGE = "run-1.0000abcd";
    private static final TableIdentifier NAME = TableIdentifier.of("ns", "orders");

    /** Tidemark commits in the table's history. */
    @Param({"100", "10000"})
    public int snapshots;

    /** Whether the table carries the committed-through mark. */
    @Param({"true", "false"})
    public boolean mark;

    private Path warehouse;
    private HadoopCatalog catalog;
    private Table loaded;

    @Setup(Level.Trial)
    public void createHistory() throws IOException {
        warehouse = Files.createTempDirectory("restore-lookup");
        catalog = new HadoopCatalog(new Configuration(), warehouse.toUri().toString());
        Schema schema =
                new Schema(
                        List.of(Types.NestedField.required(1, "id", Types.LongType.get())),
                        java.util.Set.of(1));
        Table table =
                catalog.createTable(
                        NAME,
                        schema,
                        PartitionSpec.unpartitioned(),
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
        // a metadata write per 250 commits (one transaction each): a transaction's builder keeps
        // every change it made, which 10,000 commits in one would not fit in the heap
        // the lineage's commits, then a tenth as many of another pipeline's on top
        int own = snapshots - snapshots / 10;
        Transaction history = null;
        for (int checkpoint = 1; checkpoint <= snapshots; checkpoint++) {
            if (history == null) {
                history = table.newTransaction();
            }
            boolean ours = checkpoint <= own;
            history.newFastAppend()
                    .set(Provenance.PIPELINE_ID, ours ? PIPELINE : "other")
                    .set(Provenance.LINEAGE, ours ? LINEAGE : "other-run.00000000")
                    .set(Provenance.CHECKPOINT_ID, Integer.toString(checkpoint))
                    .commit();
            if (mark && checkpoint == own) {
                history.updateProperties()
                        .set(Provenance.committedThroughKey(PIPELINE), LINEAGE + " " + own + " 0")
                        .commit();
            }
            if (checkpoint % 250 == 0 || checkpoint == snapshots) {
                history.commitTransaction();
                history = null;
            }
        }
        loaded = catalog.loadTable(NAME);
        if (Provenance.lastCommitted(loaded, PIPELINE, LINEAGE).checkpointId() != own) {
            throw new IllegalStateException("the history does not name checkpoint " + own);
        }
    }

    @Benchmark
    public long loadAndFindTheLastCommit() {
        Table table = catalog.loadTable(NAME);
        return Provenance.lastCommitted(table, PIPELINE, LINEAGE).checkpointId();
    }

    /** Tidemark's part alone: the lookup in a table already loaded. */
    @Benchmark
    public long findTheLastCommitInTheLoadedTable() {
        return Provenance.lastCommitted(loaded, PIPELINE, LINEAGE).checkpointId();
    }

    @TearDown(Level.Trial)
    public void delete() throws IOException {
        catalog.close();
        try (Stream<Path> files = Files.walk(warehouse)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }
}
