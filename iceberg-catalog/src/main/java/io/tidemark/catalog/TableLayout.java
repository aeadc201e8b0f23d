package io.tidemark.catalog;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.NullOrder;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.ReplaceSortOrder;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.UpdatePartitionSpec;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.expressions.Term;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a target table is laid out: its partition spec ({@code partition-by}: Iceberg transforms,
 * {@code bucket(16, id)}, {@code day(created_at)}, ...), its table properties and its sort order.
 * Applied when Tidemark creates the table and checked against a table that exists:
 *
 * <ul>
 *   <li>every partition source column must be a key column, whatever made the table: an upsert's
 *       equality delete applies within the partition its new row falls in, and a delete carries
 *       only the key, so a partition on any other column would leave a row's old version behind
 *       when the row moves (Iceberg's own Flink sink refuses the same);
 *   <li>a table that holds snapshots keeps its spec: one that differs from {@code partition-by} is
 *       refused with both named (evolve it with an engine, or write to another table); a table
 *       without snapshots (just made, for instance by a contract) is given it;
 *   <li>properties that differ are set, and a sort order that differs replaced (both metadata
 *       only), each with a log line; Tidemark's own properties (format version, upserts) are
 *       refused.
 * </ul>
 */
public final class TableLayout implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(TableLayout.class);

    /** Table properties Tidemark sets itself and a pipeline file may not. */
    public static final List<String> RESERVED_PROPERTIES =
            List.of(TableProperties.FORMAT_VERSION, TableProperties.UPSERT_ENABLED);

    private static final Pattern TRANSFORM =
            Pattern.compile(
                    "(?i)^\\s*(bucket|truncate|year|month|day|hour|identity)\\s*\\((.*)\\)\\s*$");

    private static final Pattern SORT =
            Pattern.compile(
                    "(?i)^\\s*(\\S+?)(?:\\s+(asc|desc))?(?:\\s+nulls\\s+(first|last))?\\s*$");

    /**
     * Unpartitioned, no properties of its own, unsorted (after the constants it is checked with).
     */
    public static final TableLayout NONE = new TableLayout(List.of(), Map.of(), List.of());

    private final List<String> partitionBy;
    private final Map<String, String> properties;
    private final List<String> sortOrder;

    public TableLayout(
            List<String> partitionBy, Map<String, String> properties, List<String> sortOrder) {
        this.partitionBy = List.copyOf(partitionBy);
        this.properties = Map.copyOf(properties);
        this.sortOrder = List.copyOf(sortOrder);
        for (String field : this.partitionBy) {
            parseField(field);
        }
        for (String field : this.sortOrder) {
            parseSort(field);
        }
        for (String reserved : RESERVED_PROPERTIES) {
            if (this.properties.containsKey(reserved)) {
                throw new IllegalArgumentException(
                        "table property '"
                                + reserved
                                + "' is Tidemark's own (format version 2 tables with upserts); remove it");
            }
        }
    }

    public List<String> partitionBy() {
        return partitionBy;
    }

    public Map<String, String> properties() {
        return properties;
    }

    public List<String> sortOrder() {
        return sortOrder;
    }

    /** The partition spec of {@code partition-by} over {@code schema}. */
    public PartitionSpec spec(Schema schema) {
        PartitionSpec.Builder builder = PartitionSpec.builderFor(schema);
        for (String field : partitionBy) {
            Field parsed = parseField(field);
            requireColumn(schema, parsed.column(), "partition-by", field);
            switch (parsed.transform()) {
                case "identity" -> builder.identity(parsed.column());
                case "bucket" -> builder.bucket(parsed.column(), parsed.width());
                case "truncate" -> builder.truncate(parsed.column(), parsed.width());
                case "year" -> builder.year(parsed.column());
                case "month" -> builder.month(parsed.column());
                case "day" -> builder.day(parsed.column());
                case "hour" -> builder.hour(parsed.column());
                default -> throw new IllegalStateException(parsed.transform());
            }
        }
        return builder.build();
    }

    /** The sort order of {@code sort-order} over {@code schema}. */
    public SortOrder sortOrder(Schema schema) {
        if (sortOrder.isEmpty()) {
            return SortOrder.unsorted();
        }
        SortOrder.Builder builder = SortOrder.builderFor(schema);
        for (String text : sortOrder) {
            SortField field = parseSort(text);
            requireColumn(schema, field.column(), "sort-order", text);
            Term term = Expressions.ref(field.column());
            if (field.descending()) {
                builder.desc(term, field.nulls());
            } else {
                builder.asc(term, field.nulls());
            }
        }
        return builder.build();
    }

    /**
     * Makes {@code table} (keyed by {@code key}) fit this layout, or fails naming what differs; see
     * the class comment.
     */
    public void applyTo(Table table, List<String> key) {
        String name = table.name();
        // before the spec is touched: a table without snapshots is given partition-by
        check(table, key);
        if (!partitionBy.isEmpty()) {
            PartitionSpec wanted = spec(table.schema());
            if (!describe(table.spec()).equals(describe(wanted))) {
                UpdatePartitionSpec update = table.updateSpec();
                table.spec().fields().forEach(f -> update.removeField(f.name()));
                for (PartitionField field : wanted.fields()) {
                    update.addField(
                            field.name(),
                            Expressions.transform(
                                    wanted.schema().findColumnName(field.sourceId()),
                                    field.transform()));
                }
                update.commit();
                LOG.info("Table {} (empty) is partitioned by {}", name, describe(wanted));
            }
        }
        checkPartitionsByKey(table, key);
        Map<String, String> differing = new TreeMap<>();
        properties.forEach(
                (k, v) -> {
                    if (!v.equals(table.properties().get(k))) {
                        differing.put(k, v);
                    }
                });
        if (!differing.isEmpty()) {
            UpdateProperties update = table.updateProperties();
            differing.forEach(update::set);
            update.commit();
            LOG.info("Table {}: table-properties set {}", name, differing);
        }
        if (!sortOrder.isEmpty()) {
            SortOrder wanted = sortOrder(table.schema());
            if (!wanted.sameOrder(table.sortOrder())) {
                ReplaceSortOrder replace = table.replaceSortOrder();
                for (String text : sortOrder) {
                    SortField field = parseSort(text);
                    if (field.descending()) {
                        replace.desc(field.column(), field.nulls());
                    } else {
                        replace.asc(field.column(), field.nulls());
                    }
                }
                replace.commit();
                LOG.info("Table {}: sort order {}", name, sortOrder);
            }
        }
    }

    /**
     * Fails if {@code partition-by} names a column outside {@code key} (of table {@code name}),
     * before any table is made with it.
     */
    /**
     * What {@link #applyTo} refuses of {@code table}, changing nothing: a partition-by outside the
     * key, or other than the partitioning of a table that holds data (an empty one is given it).
     *
     * @throws IllegalStateException naming what to do
     */
    public void check(Table table, List<String> key) {
        String name = table.name();
        requirePartitionsByKey(name, key);
        boolean repartitioned = false;
        if (!partitionBy.isEmpty()) {
            PartitionSpec wanted = spec(table.schema());
            if (!describe(table.spec()).equals(describe(wanted))) {
                if (table.currentSnapshot() != null) {
                    throw new IllegalStateException(
                            String.format(
                                    "table %s exists partitioned by %s, but partition-by asks for %s: "
                                            + "evolve its partitioning with an engine (Spark's ALTER TABLE ... ADD "
                                            + "PARTITION FIELD, Trino's ALTER TABLE ... SET PROPERTIES "
                                            + "partitioning), make partition-by match it, or write to another table",
                                    name, describe(table.spec()), describe(wanted)));
                }
                repartitioned = true;
            }
        }
        if (!repartitioned) {
            checkPartitionsByKey(table, key);
        }
    }

    public void requirePartitionsByKey(String name, List<String> key) {
        for (String text : partitionBy) {
            Field field = parseField(text);
            if (!key.contains(field.column())) {
                throw new IllegalStateException(
                        String.format(
                                "table %s: partition-by '%s' is on a column outside the key %s: an update "
                                        + "that moves a row to another partition would leave its old version "
                                        + "behind (an equality delete applies within its own partition, and a "
                                        + "delete carries only the key); partition by key columns "
                                        + "(bucket(16, %s)), or make the column part of the key (primary-key)",
                                name, text, key, key.get(0)));
            }
        }
    }

    /**
     * This layout for a table of {@code schema} keyed by {@code key} that a pattern matched while
     * the job runs: as it is when its partition and sort columns fit the table, else its properties
     * alone (a table made in the source later need not have the columns its pattern's layout names;
     * failing its writer would restart the job in a loop).
     */
    public TableLayout fitting(Schema schema, List<String> key) {
        for (String text : partitionBy) {
            if (!key.contains(parseField(text).column())) {
                return new TableLayout(List.of(), properties, List.of());
            }
        }
        for (String text : sortOrder) {
            if (schema.findField(parseSort(text).column()) == null) {
                return new TableLayout(List.of(), properties, List.of());
            }
        }
        return this;
    }

    /** Fails if a partition field of {@code table} is on a column outside {@code key}. */
    static void checkPartitionsByKey(Table table, List<String> key) {
        for (PartitionField field : table.spec().fields()) {
            String column = table.schema().findColumnName(field.sourceId());
            if (!key.contains(column)) {
                throw new IllegalStateException(
                        String.format(
                                "table %s is partitioned by %s(%s), a column outside its key %s: an update that "
                                        + "moves a row to another partition would leave its old version behind "
                                        + "(an equality delete applies within its own partition, and a delete "
                                        + "carries only the key); partition by key columns (bucket(16, %s)), or "
                                        + "make the column part of the key (primary-key)",
                                table.name(), field.transform(), column, key, key.get(0)));
            }
        }
    }

    /** {@code spec}'s fields as {@code transform(column)}, for comparison and messages. */
    public static List<String> describe(PartitionSpec spec) {
        List<String> fields = new ArrayList<>();
        for (PartitionField field : spec.fields()) {
            fields.add(
                    field.transform() + "(" + spec.schema().findColumnName(field.sourceId()) + ")");
        }
        return fields;
    }

    private static void requireColumn(Schema schema, String column, String setting, String field) {
        if (schema.findField(column) == null) {
            throw new IllegalArgumentException(
                    String.format(
                            "%s '%s': no column '%s' (columns: %s)",
                            setting,
                            field,
                            column,
                            schema.columns().stream().map(c -> c.name()).toList()));
        }
    }

    private record Field(String transform, String column, int width) {}

    private record SortField(String column, boolean descending, NullOrder nulls) {}

    /** One {@code sort-order} entry: {@code column [asc|desc] [nulls first|nulls last]}. */
    private static SortField parseSort(String text) {
        Matcher m = SORT.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "sort-order '"
                            + text
                            + "': expected a column, then optionally asc or desc and nulls first or nulls last");
        }
        boolean descending = "desc".equalsIgnoreCase(m.group(2));
        NullOrder nulls;
        if (m.group(3) == null) {
            // SQL's defaults: nulls first ascending, last descending
            nulls = descending ? NullOrder.NULLS_LAST : NullOrder.NULLS_FIRST;
        } else {
            nulls =
                    "first".equalsIgnoreCase(m.group(3))
                            ? NullOrder.NULLS_FIRST
                            : NullOrder.NULLS_LAST;
        }
        return new SortField(m.group(1), descending, nulls);
    }

    /**
     * One {@code partition-by} entry: {@code column}, or {@code transform(column)}, or {@code
     * bucket(N, column)} / {@code truncate(W, column)} (Spark's order; Trino's {@code
     * bucket(column, N)} is read too).
     */
    private static Field parseField(String text) {
        Matcher m = TRANSFORM.matcher(text);
        if (!m.matches()) {
            if (text.trim().matches("[^\\s(),]+")) {
                return new Field("identity", text.trim(), 0);
            }
            throw badField(text);
        }
        String transform = m.group(1).toLowerCase(Locale.ROOT);
        String[] args = m.group(2).split(",");
        if (transform.equals("bucket") || transform.equals("truncate")) {
            if (args.length != 2) {
                throw badField(text);
            }
            String a = args[0].trim();
            String b = args[1].trim();
            boolean widthFirst = a.matches("\\d+");
            String width = widthFirst ? a : b;
            String column = widthFirst ? b : a;
            if (!width.matches("\\d+") || Integer.parseInt(width) < 1 || column.isEmpty()) {
                throw badField(text);
            }
            return new Field(transform, column, Integer.parseInt(width));
        }
        if (args.length != 1 || args[0].isBlank()) {
            throw badField(text);
        }
        return new Field(transform, args[0].trim(), 0);
    }

    private static IllegalArgumentException badField(String text) {
        return new IllegalArgumentException(
                "partition-by '"
                        + text
                        + "': expected a column or an Iceberg transform: bucket(N, column), "
                        + "truncate(W, column), year(column), month(column), day(column), hour(column)");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TableLayout other
                && partitionBy.equals(other.partitionBy)
                && properties.equals(other.properties)
                && sortOrder.equals(other.sortOrder);
    }

    @Override
    public int hashCode() {
        return Objects.hash(partitionBy, properties, sortOrder);
    }

    @Override
    public String toString() {
        return "TableLayout{partition-by="
                + partitionBy
                + ", properties="
                + properties
                + ", sort-order="
                + sortOrder
                + "}";
    }
}
