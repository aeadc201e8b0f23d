package io.tidemark.source;

import io.tidemark.config.PipelineConfig.SourceConfig;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The default of a column the source added while the job runs, read from the source's catalog. A
 * column added with a default ({@code ALTER TABLE ... ADD COLUMN c int DEFAULT 7}) holds it in
 * every row that existed before, in the source, without those rows changing: an Iceberg column
 * added while running holds null in them. Whoever evolves the target asks here first.
 */
public final class ColumnDefaults implements Serializable {

    private static final long serialVersionUID = 1L;

    /** What the contract gate asks: the default of {@code column}, if it has one. */
    @FunctionalInterface
    public interface Lookup extends Serializable {
        Optional<String> defaultOf(String source, String table, String column);

        /**
         * Arranges for the existing rows of {@code table} to be read again, so that they get the
         * value the source gave them for {@code column}; true when it was (a re-snapshot was
         * requested), false when nothing can (the job then stops, naming the fix).
         */
        default boolean backfill(String source, String table, String column) {
            return false;
        }

        /**
         * Whether {@code table} can be read again while the job runs (a re-snapshot), as {@link
         * #backfill} and a truncate made during the table's snapshot need.
         */
        default boolean rereadable(String table) {
            return false;
        }
    }

    /** For tests and pipelines without a source to ask: no column has a default. */
    public static final Lookup NONE = (source, table, column) -> Optional.empty();

    private ColumnDefaults() {}

    /** Asks the source database of each change ({@code sources}: the pipeline's sources). */
    public static Lookup of(List<SourceConfig> sources) {
        Map<String, SourceConfig> byId = new HashMap<>();
        for (SourceConfig source : sources) {
            byId.put(source.id(), source);
        }
        return (source, table, column) -> {
            SourceConfig config = byId.get(source);
            if (config == null) {
                return Optional.empty();
            }
            try {
                return read(config, table, column);
            } catch (SQLException e) {
                throw new IllegalStateException(
                        String.format(
                                "cannot read the default of column '%s' of %s from source '%s': %s",
                                column, table, source, e.getMessage()),
                        e);
            }
        };
    }

    private static Optional<String> read(SourceConfig source, String table, String column)
            throws SQLException {
        String[] parts = table.split("\\.", 2);
        try (Connection connection = SourceDialect.of(source).connect();
                PreparedStatement p =
                        connection.prepareStatement(
                                "SELECT column_default, is_nullable FROM information_schema.columns "
                                        + "WHERE table_schema = ? AND table_name = ? AND column_name = ?")) {
            p.setString(1, parts[0]);
            p.setString(2, parts[1]);
            p.setString(3, column);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                String value = rs.getString(1);
                // MariaDB writes a nullable column's absent default as the word NULL
                if (value != null && !value.equalsIgnoreCase("NULL")) {
                    return Optional.of(value);
                }
                // MySQL fills the existing rows of a NOT NULL column added without a default
                // with its type's zero value
                return "NO".equals(rs.getString(2))
                        ? Optional.of("(the implicit default of a NOT NULL column)")
                        : Optional.empty();
            }
        }
    }
}
