package io.tidemark.decode;

import org.apache.flink.cdc.connectors.shaded.org.apache.kafka.connect.data.Struct;

/** What a MySQL binlog DDL record says: its statement, its database, the table it truncates. */
final class BinlogDdl {

    private BinlogDdl() {}

    /** {@code TRUNCATE [TABLE] [db.]name} (quotes allowed). */
    private static final java.util.regex.Pattern TRUNCATE_DDL =
            java.util.regex.Pattern.compile(
                    "(?is)\\s*TRUNCATE\\s+(?:TABLE\\s+)?(`[^`]+`|[^\\s.;`]+)(?:\\.(`[^`]+`|[^\\s;`]+))?\\s*;?\\s*");

    /** Flink CDC's MySQL schema change record: Debezium's history record as JSON. */
    static final String HISTORY_RECORD = "historyRecord";

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /** The statement of a DDL record: its {@code ddl}, or its history record's. */
    static String statement(Struct value) {
        if (value.schema().field("ddl") != null && value.getString("ddl") != null) {
            return value.getString("ddl");
        }
        String history = value.getString(HISTORY_RECORD);
        if (history == null) {
            return null;
        }
        try {
            com.fasterxml.jackson.databind.JsonNode node = JSON.readTree(history);
            return node.path("ddl").isTextual() ? node.path("ddl").asText() : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** The database a DDL record's statement ran in. */
    private static String databaseOf(Struct value) {
        if (value.schema().field("databaseName") != null
                && value.getString("databaseName") != null) {
            return value.getString("databaseName");
        }
        if (value.schema().field(HISTORY_RECORD) == null) {
            return null;
        }
        try {
            return JSON.readTree(value.getString(HISTORY_RECORD)).path("databaseName").asText(null);
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The table ({@code database.table}) a binlog DDL record truncates, or null when its statement
     * is not a {@code TRUNCATE [TABLE]}.
     */
    static String truncatedTable(Struct value) {
        String ddl = statement(value);
        java.util.regex.Matcher m = ddl == null ? null : TRUNCATE_DDL.matcher(ddl);
        if (m == null || !m.matches()) {
            return null;
        }
        String first = unquote(m.group(1));
        return m.group(2) == null
                ? databaseOf(value) + "." + first
                : first + "." + unquote(m.group(2));
    }

    private static String unquote(String name) {
        return name.startsWith("`") ? name.substring(1, name.length() - 1) : name;
    }
}
