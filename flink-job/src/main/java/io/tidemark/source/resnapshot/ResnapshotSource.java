package io.tidemark.source.resnapshot;

import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.decode.ChangeEvent;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.iceberg.flink.CatalogLoader;

/**
 * Re-snapshots of one source's tables while the pipeline runs: the coordinator ({@link
 * ResnapshotEnumerator}) watches each target table for a request ({@link ResnapshotRequests}); the
 * one reader ({@link ResnapshotReader}, parallelism 1) re-reads the table with readers of its own
 * (a slot, or a binlog client id) ({@link io.tidemark.source.Reread}), at most {@code
 * rowsPerSecond}, and its changes join the live stream before the contract gate, where the
 * reconciler orders them.
 */
public final class ResnapshotSource
        implements Source<ChangeEvent, ResnapshotSplit, ResnapshotEnumeratorState> {

    private static final long serialVersionUID = 1L;

    /**
     * What the source needs: {@code targets} maps each of the source's tables to its target; {@code
     * merged} maps each target fed by several sources to all of them, in the pipeline's order (a
     * re-snapshot of such a table is read by each source's own re-snapshot source and is done when
     * all of them are: {@link ResnapshotRequests#record}).
     */
    public record Settings(
            io.tidemark.runtime.RunContext run,
            SourceConfig source,
            Map<String, String> targets,
            Map<String, List<String>> merged,
            Map<String, List<String>> primaryKeys,
            CatalogLoader catalog,
            int rowsPerSecond)
            implements Serializable {

        public Settings {
            targets = Map.copyOf(targets);
            merged = Map.copyOf(merged);
            primaryKeys = Map.copyOf(primaryKeys);
        }
    }

    private final Settings settings;

    public ResnapshotSource(Settings settings) {
        this.settings = settings;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.CONTINUOUS_UNBOUNDED;
    }

    @Override
    public SourceReader<ChangeEvent, ResnapshotSplit> createReader(SourceReaderContext context) {
        return new ResnapshotReader(context, settings);
    }

    @Override
    public SplitEnumerator<ResnapshotSplit, ResnapshotEnumeratorState> createEnumerator(
            SplitEnumeratorContext<ResnapshotSplit> context) {
        return new ResnapshotEnumerator(
                context, settings, new ResnapshotEnumeratorState(Map.of(), List.of(), List.of()));
    }

    @Override
    public SplitEnumerator<ResnapshotSplit, ResnapshotEnumeratorState> restoreEnumerator(
            SplitEnumeratorContext<ResnapshotSplit> context, ResnapshotEnumeratorState state) {
        return new ResnapshotEnumerator(context, settings, state);
    }

    @Override
    public SimpleVersionedSerializer<ResnapshotSplit> getSplitSerializer() {
        return ResnapshotSplit.Serializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<ResnapshotEnumeratorState>
            getEnumeratorCheckpointSerializer() {
        return ResnapshotEnumeratorState.Serializer.INSTANCE;
    }
}
