package io.tidemark.catalog;

/**
 * Source table and column names in SQL. Names are kept exactly as the database stores them (case,
 * spaces, reserved words and all) and quoted wherever they are written into a statement, so a table
 * such as {@code public."Order Items"} reads the same as {@code public.orders}. A qualified name is
 * {@code schema.table} split at its first dot: a schema name cannot hold a dot, a table name can.
 */
public final class SqlNames {

    /** Postgres's (and the SQL standard's) identifier quote. */
    public static final String DOUBLE_QUOTE = "\"";

    /** MySQL's and MariaDB's identifier quote. */
    public static final String BACKTICK = "`";

    private SqlNames() {}

    /** {@code identifier} in {@code quote}s, a quote inside it doubled. */
    public static String quote(String identifier, String quote) {
        return quote + identifier.replace(quote, quote + quote) + quote;
    }

    /** {@link #quote} with Postgres's double quote. */
    public static String quote(String identifier) {
        return quote(identifier, DOUBLE_QUOTE);
    }

    /** {@code schema.table} as {@code "schema"."table"} (in {@code quote}s). */
    public static String quoteQualified(String qualified, String quote) {
        int dot = qualified.indexOf('.');
        if (dot < 0) {
            return quote(qualified, quote);
        }
        return quote(qualified.substring(0, dot), quote)
                + "."
                + quote(qualified.substring(dot + 1), quote);
    }

    /** {@link #quoteQualified} with Postgres's double quote. */
    public static String quoteQualified(String qualified) {
        return quoteQualified(qualified, DOUBLE_QUOTE);
    }

    /**
     * {@code schema.table} as Postgres reads it in advice a user copies: each part bare where it
     * can be (lower case, digits, underscores, not a reserved word), quoted where it must be.
     */
    public static String forStatement(String qualified) {
        int dot = qualified.indexOf('.');
        if (dot < 0) {
            return forStatementPart(qualified);
        }
        return forStatementPart(qualified.substring(0, dot))
                + "."
                + forStatementPart(qualified.substring(dot + 1));
    }

    /** One identifier as {@link #forStatement} writes it. */
    public static String forStatementPart(String identifier) {
        return identifier.matches("[a-z_][a-z0-9_]*") && !RESERVED.contains(identifier)
                ? identifier
                : quote(identifier);
    }

    /**
     * The name a pipeline file writes ({@code schema.table}, each part bare, {@code
     * [A-Za-z_][A-Za-z0-9_$]*} and in a pattern's table part {@code *} and {@code ?}, or quoted in
     * double quotes or backticks, the quote doubled inside) as the database stores it: {@code
     * public."Order Items"} is {@code public.Order Items}. A bare name is taken as written (its
     * case kept, as Iceberg and the source's catalog store it).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static String parseQualified(String written) {
        StringBuilder name = new StringBuilder();
        int parts = 0;
        int i = 0;
        while (true) {
            if (i >= written.length()) {
                throw new IllegalArgumentException("a name part is missing after the dot");
            }
            char c = written.charAt(i);
            if (c == '"' || c == '`') {
                StringBuilder part = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= written.length()) {
                        throw new IllegalArgumentException(
                                "a quoted name is not closed (" + c + " missing)");
                    }
                    char d = written.charAt(j);
                    if (d == c) {
                        if (j + 1 < written.length() && written.charAt(j + 1) == c) {
                            part.append(c);
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    part.append(d);
                    j++;
                }
                if (part.length() == 0) {
                    throw new IllegalArgumentException("a quoted name is empty");
                }
                if (part.indexOf("*") >= 0 || part.indexOf("?") >= 0) {
                    throw new IllegalArgumentException(
                            "a quoted name holds '*' or '?', which the pipeline file reads as a "
                                    + "pattern: rename the table, or capture it through a pattern");
                }
                if (parts == 0 && part.indexOf(".") >= 0) {
                    throw new IllegalArgumentException(
                            "a schema (database) name with a dot cannot be captured (a table name "
                                    + "can hold one)");
                }
                name.append(part);
                i = j + 1;
            } else {
                int j = i;
                while (j < written.length()
                        && (Character.isLetterOrDigit(written.charAt(j))
                                || "_$*?".indexOf(written.charAt(j)) >= 0)) {
                    j++;
                }
                String part = written.substring(i, j);
                boolean wildcards = part.indexOf('*') >= 0 || part.indexOf('?') >= 0;
                if (part.isEmpty()
                        || !part.matches("[A-Za-z_*?][\\w$*?]*")
                        || (wildcards && parts == 0)) {
                    throw new IllegalArgumentException(
                            "'"
                                    + (part.isEmpty() && j < written.length()
                                            ? String.valueOf(written.charAt(j))
                                            : part)
                                    + "' is not a name part: write letters, digits and"
                                    + " underscores, or quote the name (public.\"Order Items\")");
                }
                name.append(part);
                i = j;
            }
            parts++;
            if (i == written.length()) {
                break;
            }
            if (written.charAt(i) != '.' || parts == 2) {
                throw new IllegalArgumentException(
                        "unexpected '"
                                + written.substring(i)
                                + "' (quote a name that holds spaces, dots or other characters)");
            }
            name.append('.');
            i++;
        }
        if (parts != 2) {
            throw new IllegalArgumentException("expected schema.table");
        }
        return name.toString();
    }

    /** Words Postgres will not take bare as a column or schema name. */
    private static final java.util.Set<String> RESERVED =
            java.util.Set.of(
                    "all",
                    "analyse",
                    "analyze",
                    "and",
                    "any",
                    "array",
                    "as",
                    "asc",
                    "asymmetric",
                    "both",
                    "case",
                    "cast",
                    "check",
                    "collate",
                    "column",
                    "constraint",
                    "create",
                    "current_date",
                    "current_role",
                    "current_time",
                    "current_timestamp",
                    "current_user",
                    "default",
                    "deferrable",
                    "desc",
                    "distinct",
                    "do",
                    "else",
                    "end",
                    "except",
                    "false",
                    "fetch",
                    "for",
                    "foreign",
                    "from",
                    "grant",
                    "group",
                    "having",
                    "in",
                    "initially",
                    "intersect",
                    "into",
                    "lateral",
                    "leading",
                    "limit",
                    "localtime",
                    "localtimestamp",
                    "not",
                    "null",
                    "offset",
                    "on",
                    "only",
                    "or",
                    "order",
                    "placing",
                    "primary",
                    "references",
                    "returning",
                    "select",
                    "session_user",
                    "some",
                    "symmetric",
                    "table",
                    "then",
                    "to",
                    "trailing",
                    "true",
                    "union",
                    "unique",
                    "user",
                    "using",
                    "variadic",
                    "when",
                    "where",
                    "window",
                    "with");
}
