package io.tidemark.source.resnapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.config.PipelineConfigLoader;
import org.junit.jupiter.api.Test;

/** Which tables a re-snapshot reads while the pipeline runs, and the reason for the others. */
class ResnapshotSourceTest {

    private static PipelineConfig pipeline(String source, String tables) {
        return new PipelineConfigLoader()
                .parse(
                        """
                        pipeline: {id: shop}
                        source: {%s}
                        catalog: {type: jdbc, properties: {uri: 'jdbc:postgresql://c/i', warehouse: 'file:///tmp/w'}}
                        tables: %s"""
                                .formatted(source, tables),
                        "pipeline.yaml");
    }

    private static TableConfig only(PipelineConfig config) {
        return config.tables().get(0);
    }

    @Test
    void readsPostgresAndBinlogPositionTablesOrderedByCommit() {
        PipelineConfig postgres =
                pipeline(
                        "type: postgres, hostname: h, database: d, username: u",
                        "[{source: public.items, target: shop.items}]");
        assertThat(ResnapshotSource.refusal(postgres, only(postgres))).isNull();
        PipelineConfig mysql =
                pipeline(
                        "type: mysql, hostname: h, database: d, username: u,"
                                + " binlog-order: binlog-position",
                        "[{source: d.items, target: shop.items}]");
        assertThat(ResnapshotSource.refusal(mysql, only(mysql))).isNull();
    }

    @Test
    void readsEventTimeTablesAndSourcesPlacedByGtid() {
        PipelineConfig eventTime =
                pipeline(
                        "type: postgres, hostname: h, database: d, username: u",
                        "[{source: public.items, target: shop.items,"
                                + " ordering: 'event-time:updated_at'}]");
        // ordered against the key's version by the re-read's position at equal event times
        assertThat(ResnapshotSource.refusal(eventTime, only(eventTime))).isNull();
        // a re-read of a source placed by GTID is placed by GTID ordinal (MySqlReread.Placement)
        PipelineConfig gtid =
                pipeline(
                        "type: mysql, hostname: h, database: d, username: u, binlog-order: gtid",
                        "[{source: d.items, target: shop.items}]");
        assertThat(ResnapshotSource.refusal(gtid, only(gtid))).isNull();
    }
}
