package io.tidemark.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.TableSpec;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

class HistoryTableTest {

    private static final TableIdentifier ORDERS = TableIdentifier.of("shop", "orders");

    @Test
    void holdsTheTargetsColumnsThenTheHistoryColumnsKeyedByKeyAndVersion() {
        Schema target =
                new Schema(
                        Types.NestedField.required(1, "id", Types.LongType.get()),
                        Types.NestedField.required(2, "status", Types.StringType.get()),
                        Types.NestedField.optional(3, "note", Types.StringType.get()));
        TableSpec spec = HistoryTable.spec(ORDERS, target, List.of("id"));
        assertThat(spec.identifier()).isEqualTo(TableIdentifier.of("shop", "orders__history"));
        assertThat(spec.primaryKey()).containsExactly("id", HistoryTable.VERSION);
        Schema schema = spec.schema();
        assertThat(schema.columns().stream().map(Types.NestedField::name).toList())
                .containsExactly(
                        "id",
                        "status",
                        "note",
                        "valid_from",
                        "valid_to",
                        "operation",
                        "version",
                        "source_id",
                        "commit_lsn",
                        "change_lsn",
                        "tx_id",
                        "row_key");
        // a delete version holds the key only
        assertThat(schema.findField("status").isOptional()).isTrue();
        assertThat(schema.findField("id").isRequired()).isTrue();
        assertThat(schema.findField("valid_to").isOptional()).isTrue();
        assertThat(schema.identifierFieldNames()).containsExactlyInAnyOrder("id", "version");
    }

    @Test
    void refusesATargetColumnNamedLikeAHistoryColumnByName() {
        Schema target =
                new Schema(
                        Types.NestedField.required(1, "id", Types.LongType.get()),
                        Types.NestedField.optional(2, "valid_from", Types.DateType.get()));
        assertThatThrownBy(() -> HistoryTable.spec(ORDERS, target, List.of("id")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("column 'valid_from'")
                .hasMessageContaining("rename the column or remove 'history: scd2'");
    }
}
