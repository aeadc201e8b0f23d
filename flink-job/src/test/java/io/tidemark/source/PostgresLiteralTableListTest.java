package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.debezium.config.Configuration;
import io.debezium.connector.postgresql.PostgresConnectorConfig;
import io.debezium.relational.TableId;
import io.debezium.relational.Tables.TableFilter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Flink CDC's Postgres reader sets a chunk's table as Debezium's {@code table.include.list} by its
 * unquoted name, which Debezium reads as a regular expression; through {@link
 * PostgresLiteralTableList} each name matches its own table, and only it, in Debezium's own filter.
 */
class PostgresLiteralTableListTest {

    private static final List<TableId> TABLES =
            List.of(
                    new TableId(null, "public", "Orders (2019)$"),
                    new TableId(null, "public", "line.items"),
                    new TableId(null, "public", "line items"),
                    new TableId(null, "public", "a\\b^c|d+e[f]{2}"),
                    new TableId(null, "Shop Floor", "Q\"s"),
                    new TableId(null, "public", "orders"));

    private static PostgresConnectorConfig base() {
        return new PostgresConnectorConfig(
                Configuration.create()
                        .with("database.server.name", "tidemark")
                        .with("database.dbname", "shop")
                        .with(PostgresLiteralTableList.TABLE_INCLUDE_LIST, "public.orders")
                        .build());
    }

    /**
     * The filter Flink CDC's chunk reader gets for {@code table}: the edit it makes, then built.
     */
    private static TableFilter chunkFilter(PostgresConnectorConfig config, TableId table) {
        return new PostgresConnectorConfig(
                        config.getConfig()
                                .edit()
                                .with(PostgresLiteralTableList.TABLE_INCLUDE_LIST, table.toString())
                                .build())
                .getTableFilters()
                .dataCollectionFilter();
    }

    @Test
    void aChunksTableMatchesItselfOnly() {
        PostgresConnectorConfig config = PostgresLiteralTableList.of(base());
        for (TableId table : TABLES) {
            TableFilter filter = chunkFilter(config, table);
            for (TableId other : TABLES) {
                assertThat(filter.isIncluded(other))
                        .as(table + " -> " + other)
                        .isEqualTo(other == table);
            }
        }
        // wrapped once: a config already wrapped is returned as it is
        assertThat(PostgresLiteralTableList.of(config)).isSameAs(config);
        // the settings themselves are unchanged
        assertThat(config.getConfig().getString(PostgresLiteralTableList.TABLE_INCLUDE_LIST))
                .isEqualTo("public.orders");
    }

    @Test
    void withoutItANameWithRegexCharactersDoesNotMatchItselfAndADotMatchesASpace() {
        PostgresConnectorConfig config = base();
        assertThat(chunkFilter(config, TABLES.get(0)).isIncluded(TABLES.get(0))).isFalse();
        assertThat(chunkFilter(config, TABLES.get(1)).isIncluded(TABLES.get(2))).isTrue();
    }
}
