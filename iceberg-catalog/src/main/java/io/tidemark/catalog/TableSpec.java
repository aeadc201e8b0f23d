package io.tidemark.catalog;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;

/**
 * What a target table must look like: its identifier, its columns (in source order) and its primary
 * key, which becomes the Iceberg identifier fields (the equality fields of upserts and deletes).
 */
public final class TableSpec {

    private final TableIdentifier identifier;
    private final List<Types.NestedField> columns;
    private final List<String> primaryKey;

    public TableSpec(
            TableIdentifier identifier, List<Types.NestedField> columns, List<String> primaryKey) {
        this.identifier = Objects.requireNonNull(identifier, "identifier");
        this.columns = List.copyOf(columns);
        this.primaryKey = List.copyOf(primaryKey);
        if (this.primaryKey.isEmpty()) {
            throw new IllegalArgumentException(
                    String.format("table %s: a primary key is required", identifier));
        }
        Set<String> names =
                this.columns.stream().map(Types.NestedField::name).collect(Collectors.toSet());
        for (String key : this.primaryKey) {
            if (!names.contains(key)) {
                throw new IllegalArgumentException(
                        String.format(
                                "table %s: primary key column '%s' is not a column of the table (columns: %s)",
                                identifier, key, names.stream().sorted().toList()));
            }
        }
    }

    public TableIdentifier identifier() {
        return identifier;
    }

    public List<Types.NestedField> columns() {
        return columns;
    }

    public List<String> primaryKey() {
        return primaryKey;
    }

    /**
     * The Iceberg schema: key columns are required (identifier fields cannot be optional), ids are
     * assigned in column order and re-assigned by the catalog on create.
     */
    public Schema schema() {
        List<Types.NestedField> fields =
                columns.stream()
                        .map(f -> primaryKey.contains(f.name()) ? f.asRequired() : f)
                        .toList();
        Schema schema = new Schema(fields);
        Set<Integer> ids =
                primaryKey.stream()
                        .map(k -> schema.findField(k).fieldId())
                        .collect(Collectors.toSet());
        return new Schema(fields, ids);
    }

    @Override
    public String toString() {
        return identifier + " " + columns + " key " + primaryKey;
    }
}
