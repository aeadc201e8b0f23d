package io.tidemark.testing;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.decode.ChangeEvent;
import io.tidemark.decode.ChangeEventTypeInfoFactory.ChangeEventTypeInfo;
import io.tidemark.job.TidemarkJob;
import io.tidemark.job.Uids;
import io.tidemark.source.PostgresCdcSource;
import java.util.List;
import org.apache.flink.cdc.connectors.base.source.utils.hooks.SnapshotPhaseHooks;
import org.apache.flink.cdc.connectors.postgres.source.PostgresSourceBuilder.PostgresIncrementalSource;

/**
 * The pipeline's Postgres or MySQL source with Flink CDC's snapshot phase hooks: a test acts at a
 * chunk's watermarks (commits a row, truncates the table) exactly where it must.
 */
public final class HookedSources {

    private HookedSources() {}

    /** The source of {@code config}'s only Postgres source, reading {@code tables}. */
    public static TidemarkJob.ChangeSource postgres(
            PipelineConfig config, List<String> tables, SnapshotPhaseHooks hooks) {
        return (env, primaryKeys, watermarks) -> {
            SourceConfig source = config.sources().get(0);
            PostgresIncrementalSource<ChangeEvent> cdc =
                    PostgresCdcSource.create(source, tables, primaryKeys);
            cdc.setSnapshotHooks(hooks);
            return env.fromSource(
                            cdc,
                            watermarks,
                            "postgres-cdc-" + source.id(),
                            ChangeEventTypeInfo.INSTANCE)
                    .uid(Uids.source(source.id()))
                    .name("source: postgres-cdc " + source.id() + " (hooked)");
        };
    }

    /** The source of {@code config}'s only MySQL source, reading {@code tables}. */
    public static TidemarkJob.ChangeSource mysql(
            PipelineConfig config,
            List<String> tables,
            org.apache.flink.cdc.connectors.mysql.source.utils.hooks.SnapshotPhaseHooks hooks) {
        return (env, primaryKeys, watermarks) -> {
            SourceConfig source = config.sources().get(0);
            org.apache.flink.cdc.connectors.mysql.source.MySqlSource<ChangeEvent> cdc =
                    io.tidemark.source.MySqlCdcSource.create(
                            source,
                            tables,
                            primaryKeys,
                            io.tidemark.source.LiveTables.NONE,
                            io.tidemark.decode.BinlogOrder.BINLOG_POSITION);
            cdc.setSnapshotHooks(hooks);
            return env.fromSource(
                            cdc,
                            watermarks,
                            "mysql-cdc-" + source.id(),
                            ChangeEventTypeInfo.INSTANCE)
                    .uid(Uids.source(source.id()))
                    .name("source: mysql-cdc " + source.id() + " (hooked)");
        };
    }
}
