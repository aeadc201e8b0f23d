package io.tidemark.catalog.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tidemark.catalog.contract.Contract.Column;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Creates and evolves real Iceberg tables (a Hadoop catalog in a temporary directory). */
class ContractTablesTest {

    @TempDir Path warehouse;

    private static Contract contract(int version, List<Column> columns) {
        return new Contract(
                "public.orders", version, columns, List.of("id"), null, List.of(), null, null);
    }

    private static final List<Column> V1 =
            List.of(
                    new Column("id", Types.LongType.get(), false),
                    new Column("qty", Types.IntegerType.get(), false),
                    new Column("note", Types.StringType.get(), true));

    @Test
    void createsThenEvolvesThenRefuses() throws Exception {
        try (HadoopCatalog catalog =
                new HadoopCatalog(new Configuration(), warehouse.toUri().toString())) {
            TableIdentifier id = TableIdentifier.of("shop", "orders");
            ContractTables tables = new ContractTables(catalog);
            Contract v1 = contract(1, V1);
            Table table = tables.ensure(id, v1, Optional.empty());
            assertThat(table.schema().identifierFieldNames()).containsExactly("id");
            assertThat(table.schema().findField("qty").isRequired()).isTrue();
            assertThat(ContractTables.version(table)).contains(1);

            Contract v2 =
                    contract(
                            2,
                            List.of(
                                    new Column("id", Types.LongType.get(), false),
                                    new Column("qty", Types.LongType.get(), true),
                                    new Column("note", Types.StringType.get(), true),
                                    new Column("discount", Types.DecimalType.of(5, 2), true)));
            tables.ensure(id, v2, Optional.of(v1));
            table = catalog.loadTable(id);
            assertThat(table.schema().findField("qty").type()).isEqualTo(Types.LongType.get());
            assertThat(table.schema().findField("qty").isOptional()).isTrue();
            assertThat(table.schema().findField("discount").type())
                    .isEqualTo(Types.DecimalType.of(5, 2));
            assertThat(ContractTables.version(table)).contains(2);
            int schemas = table.schemas().size();

            Contract v3 =
                    contract(
                            3,
                            List.of(
                                    new Column("id", Types.LongType.get(), false),
                                    new Column("qty", Types.IntegerType.get(), true),
                                    new Column("discount", Types.DecimalType.of(5, 2), true)));
            assertThatThrownBy(() -> tables.ensure(id, v3, Optional.of(v2)))
                    .isInstanceOf(ContractException.class)
                    .hasMessageContaining(
                            "contract public.orders v3 cannot replace public.orders v2")
                    .hasMessageContaining("column 'note' is dropped")
                    .hasMessageContaining("column 'qty' changes type from long to int");
            table = catalog.loadTable(id);
            assertThat(table.schemas()).hasSize(schemas);
            assertThat(ContractTables.version(table)).contains(2);

            // the same version again changes nothing
            tables.ensure(id, v2, Optional.of(v2));
            assertThat(catalog.loadTable(id).schemas()).hasSize(schemas);
        }
    }

    @Test
    void aTableMadeBeforeContractsGetsTheVersionRecorded() throws Exception {
        try (HadoopCatalog catalog =
                new HadoopCatalog(new Configuration(), warehouse.toUri().toString())) {
            TableIdentifier id = TableIdentifier.of("shop", "orders");
            Contract v1 = contract(1, V1);
            catalog.createTable(id, v1.spec(id).schema());
            assertThat(ContractTables.version(catalog.loadTable(id))).isEmpty();

            new ContractTables(catalog).ensure(id, v1, Optional.empty());

            assertThat(ContractTables.version(catalog.loadTable(id))).contains(1);
        }
    }

    @Test
    void aColumnWidenedWhileRunningKeepsItsWiderTypeWhenTheNextVersionIsDeployed()
            throws Exception {
        try (HadoopCatalog catalog =
                new HadoopCatalog(new Configuration(), warehouse.toUri().toString())) {
            TableIdentifier id = TableIdentifier.of("shop", "orders");
            ContractTables tables = new ContractTables(catalog);
            Contract v1 = contract(1, V1);
            tables.ensure(id, v1, Optional.empty());
            // what schema-evolution: evolve does while running when the source widens qty
            catalog.loadTable(id).updateSchema().updateColumn("qty", Types.LongType.get()).commit();
            Contract v2 =
                    contract(
                            2,
                            List.of(
                                    new Column("id", Types.LongType.get(), false),
                                    new Column("qty", Types.IntegerType.get(), false),
                                    new Column("note", Types.StringType.get(), true),
                                    new Column("color", Types.StringType.get(), true)));

            tables.ensure(id, v2, Optional.of(v1));

            Table table = catalog.loadTable(id);
            assertThat(table.schema().findField("qty").type()).isEqualTo(Types.LongType.get());
            assertThat(table.schema().findField("color")).isNotNull();
            assertThat(ContractTables.version(table)).contains(2);
        }
    }
}
