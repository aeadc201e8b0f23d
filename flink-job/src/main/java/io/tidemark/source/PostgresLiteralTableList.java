package io.tidemark.source;

import io.debezium.config.Configuration;
import io.debezium.connector.postgresql.PostgresConnectorConfig;
import java.util.Properties;
import java.util.Set;

/**
 * Debezium's settings with one difference: a {@code table.include.list} set on a copy of them
 * ({@link Configuration#edit}) is taken as a table's name, not as a pattern. Flink CDC's Postgres
 * reader sets the table of the chunk it reads (and of a chunk's backfill) there by its unquoted
 * name ({@code schema.table}), which Debezium reads as a regular expression: a name holding one of
 * {@code \ ^ $ | + ( ) [ ] { }} did not match itself, the table was unknown to the chunk's reader
 * and every read of its chunks failed, in a loop. Escaped here, it matches that table only (a dot
 * no longer matches any character either).
 */
final class PostgresLiteralTableList implements Configuration {

    static final String TABLE_INCLUDE_LIST = "table.include.list";

    private final Configuration settings;

    private PostgresLiteralTableList(Configuration settings) {
        this.settings = settings;
    }

    /** {@code config}, whose copies take a table include list as a table's name. */
    static PostgresConnectorConfig of(PostgresConnectorConfig config) {
        return config.getConfig() instanceof PostgresLiteralTableList
                ? config
                : new PostgresConnectorConfig(new PostgresLiteralTableList(config.getConfig()));
    }

    /** The regular expression matching exactly {@code table} ({@code schema.table}, unquoted). */
    static String literal(String table) {
        StringBuilder regex = new StringBuilder(table.length() + 8);
        for (char c : table.toCharArray()) {
            if (!Character.isLetterOrDigit(c) && c != '_') {
                regex.append('\\');
            }
            regex.append(c);
        }
        return regex.toString();
    }

    @Override
    public Set<String> keys() {
        return settings.keys();
    }

    @Override
    public String getString(String key) {
        return settings.getString(key);
    }

    @Override
    public Configuration.Builder edit() {
        return new LiteralTableBuilder(settings.asProperties());
    }

    @Override
    public String toString() {
        return settings.toString();
    }

    private static final class LiteralTableBuilder extends Configuration.Builder {

        LiteralTableBuilder(Properties settings) {
            super(settings);
        }

        @Override
        public Configuration.Builder with(String key, String value) {
            return super.with(
                    key, TABLE_INCLUDE_LIST.equals(key) && value != null ? literal(value) : value);
        }
    }
}
