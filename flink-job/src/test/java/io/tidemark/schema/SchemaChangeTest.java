package io.tidemark.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.schema.SchemaChange.Kind;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a change needs of its table's schema (decided in one place) and the schema stage applying it
 * to a real Iceberg table, once.
 */
class SchemaChangeTest {

    private static final Schema SCHEMA =
            new Schema(
                    List.of(
                            Types.NestedField.required(1, "id", Types.LongType.get()),
                            Types.NestedField.required(2, "qty", Types.IntegerType.get()),
                            Types.NestedField.optional(3, "note", Types.StringType.get())),
                    Set.of(1));

    @TempDir Path warehouse;

    private static Map<String, Object> row(Object... columnsAndValues) {
        Map<String, Object> row = new LinkedHashMap<>();
        for (int i = 0; i < columnsAndValues.length; i += 2) {
            row.put((String) columnsAndValues[i], columnsAndValues[i + 1]);
        }
        return row;
    }

    private static List<SchemaChange> needed(Map<String, Object> after, boolean lenient) {
        return SchemaChange.needed("db.t", "public.t", SCHEMA, after, lenient);
    }

    @Test
    void aRowThatFitsNeedsNothing() {
        assertThat(needed(row("id", 1L, "qty", 2, "note", null), false)).isEmpty();
        // a new column whose value is null: nothing to add it for
        assertThat(needed(row("id", 1L, "qty", 2, "color", null), false)).isEmpty();
    }

    @Test
    void aNewColumnOfTheValuesTypeAndAWiderValue() {
        assertThat(needed(row("id", 1L, "qty", 5_000_000_000L, "at", Instant.EPOCH), false))
                .containsExactly(
                        new SchemaChange(
                                "db.t", "public.t", Kind.WIDEN, "qty", Types.LongType.get()),
                        new SchemaChange(
                                "db.t",
                                "public.t",
                                Kind.ADD,
                                "at",
                                Types.TimestampType.withZone()));
    }

    @Test
    void aRequiredColumnTheRowNoLongerCarriesIsMadeOptionalOnlyWhenLenient() {
        assertThat(needed(row("id", 1L), false)).isEmpty();
        assertThat(needed(row("id", 1L), true))
                .containsExactly(new SchemaChange("db.t", "public.t", Kind.OPTIONAL, "qty", null));
    }

    @Test
    void aNewColumnWhoseTypeDoesNotFollowFromItsValueIsABugTheGateKeepsOut() {
        assertThatThrownBy(() -> needed(row("id", 1L, "price", BigDecimal.ONE), false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("column 'price'")
                .hasMessageContaining("BigDecimal");
    }

    @Test
    void encodedAndDecoded() {
        for (SchemaChange change :
                List.of(
                        new SchemaChange(
                                "db.t", "public.t", Kind.ADD, "at", Types.TimestampType.withZone()),
                        new SchemaChange(
                                "db.t", "public.t", Kind.WIDEN, "qty", Types.LongType.get()),
                        new SchemaChange("db.t", "public.t", Kind.OPTIONAL, "qty", null),
                        SchemaChange.create("lake.coupons", "shop.coupons"),
                        new SchemaChange(
                                "\"db\".\"a b\"",
                                "public.a b",
                                Kind.ADD,
                                "col\tumn",
                                Types.BinaryType.get()))) {
            assertThat(SchemaChange.decode(change.encode())).isEqualTo(change);
        }
    }

    @Test
    void theStageAppliesEachChangeOnceAndAChangeTheTableHoldsIsSkipped() {
        HadoopCatalog catalog = new HadoopCatalog();
        catalog.setConf(new Configuration());
        catalog.initialize("test", Map.of("warehouse", warehouse.toUri().toString()));
        catalog.createNamespace(Namespace.of("db"));
        Table table =
                catalog.createTable(
                        TableIdentifier.of("db", "t"),
                        SCHEMA,
                        PartitionSpec.unpartitioned(),
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
        List<SchemaChange> changes =
                needed(row("id", 1L, "qty", 5_000_000_000L, "at", Instant.EPOCH), false);
        for (SchemaChange change : changes) {
            assertThat(SchemaApplier.apply(table, change)).isTrue();
            assertThat(SchemaApplier.apply(table, change)).isFalse();
        }
        SchemaChange optional = new SchemaChange("db.t", "public.t", Kind.OPTIONAL, "qty", null);
        assertThat(SchemaApplier.apply(table, optional)).isTrue();
        assertThat(SchemaApplier.apply(table, optional)).isFalse();

        Table reloaded = catalog.loadTable(TableIdentifier.of("db", "t"));
        assertThat(reloaded.schema().findField("qty").type()).isEqualTo(Types.LongType.get());
        assertThat(reloaded.schema().findField("qty").isOptional()).isTrue();
        assertThat(reloaded.schema().findField("at").type())
                .isEqualTo(Types.TimestampType.withZone());
        // one schema per change: three commits after the table's first schema
        assertThat(reloaded.schemas()).hasSize(4);
        assertThat(needed(row("id", 1L, "qty", 5_000_000_000L, "at", Instant.EPOCH), false))
                .as("against the schema it had")
                .isNotEmpty();
        assertThat(
                        SchemaChange.needed(
                                "db.t",
                                "public.t",
                                reloaded.schema(),
                                row("id", 1L, "qty", 5_000_000_000L, "at", Instant.EPOCH),
                                true))
                .isEmpty();
    }
}
