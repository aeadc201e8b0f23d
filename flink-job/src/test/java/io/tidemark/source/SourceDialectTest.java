package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineOptions;
import io.tidemark.config.SourceKind;
import io.tidemark.config.StartupMode;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every source kind the pipeline file accepts has its dialect, and only its own keys. */
class SourceDialectTest {

    @Test
    void everyKindTheFileAcceptsHasADialect() {
        assertThat(PipelineOptions.SOURCE_TYPE.allowed())
                .containsExactlyInAnyOrderElementsOf(
                        Stream.of(SourceKind.values()).map(SourceKind::typeName).toList());
        for (SourceKind kind : SourceKind.values()) {
            SourceDialect dialect = SourceDialect.of(source(kind));
            assertThat(dialect.source().kind()).isEqualTo(kind);
            assertThat(dialect.connectorName()).isEqualTo(kind.typeName() + "-cdc");
            assertThat(source(kind).jdbcUrl()).startsWith("jdbc:" + kind.typeName());
        }
    }

    @Test
    void aKeyBelongsToOneKind() {
        for (var key :
                Stream.of(
                                PipelineOptions.SOURCE_SLOT_NAME,
                                PipelineOptions.SOURCE_PUBLICATION,
                                PipelineOptions.SOURCE_SERVER_ID,
                                PipelineOptions.SOURCE_SERVER_TIME_ZONE,
                                PipelineOptions.SOURCE_BINLOG_ORDER)
                        .toList()) {
            assertThat(Stream.of(SourceKind.values()).filter(kind -> kind.owns(key)))
                    .as(key.name())
                    .hasSize(1);
        }
        assertThat(SourceKind.POSTGRES.owns(PipelineOptions.SOURCE_SLOT_NAME)).isTrue();
        assertThat(SourceKind.MYSQL.owns(PipelineOptions.SOURCE_SERVER_ID)).isTrue();
        assertThat(SourceKind.POSTGRES.resumesFromSource()).isTrue();
        assertThat(SourceKind.MYSQL.followsNewTables()).isTrue();
    }

    private static SourceConfig source(SourceKind kind) {
        return new SourceConfig(
                "default",
                kind,
                "localhost",
                kind.defaultPort(),
                "shop",
                "tidemark",
                "",
                "tidemark_p",
                "tidemark_p",
                "5400",
                "UTC",
                null,
                StartupMode.INITIAL,
                8096,
                1024,
                Duration.ofSeconds(30),
                Map.of(),
                Map.of(),
                10_000,
                Duration.ofSeconds(5),
                false,
                Map.of());
    }
}
