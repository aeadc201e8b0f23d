package io.tidemark.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.config.PipelineConfig.TableConfig;
import org.junit.jupiter.api.Test;

/** The MySQL source's table filter: exact tables, and patterns as Debezium regular expressions. */
class MySqlCdcSourceTest {

    @Test
    void tablesAreMatchedExactlyAndPatternsWithinTheirDatabase() {
        String exact = TableConfig.regex("shop.orders");
        assertThat("shop.orders").matches(exact);
        assertThat("shopXorders").doesNotMatch(exact);
        assertThat(TableConfig.regex("a$b.c")).isEqualTo("a\\$b\\.c");

        String pattern = TableConfig.regex("shop.inv_*");
        assertThat("shop.inv_2026").matches(pattern);
        assertThat("shop.inv_").matches(pattern);
        assertThat("shop.orders").doesNotMatch(pattern);
        assertThat("shopXinv_1").doesNotMatch(pattern);
        assertThat("shop.inv_a.b").doesNotMatch(pattern);
        assertThat("shop.t1").matches(TableConfig.regex("shop.t?"));
        assertThat("shop.t12").doesNotMatch(TableConfig.regex("shop.t?"));
    }
}
