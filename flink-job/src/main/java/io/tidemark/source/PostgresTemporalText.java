package io.tidemark.source;

import io.debezium.connector.postgresql.PostgresConnectorConfig;
import io.debezium.connector.postgresql.PostgresObjectUtils;
import io.debezium.connector.postgresql.connection.AbstractColumnValue;
import io.debezium.connector.postgresql.connection.PostgresConnection;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Dates, times and timestamps of a snapshot chunk read as the log reads them. The log (pgoutput)
 * sends every value as Postgres' text, which Debezium parses itself ({@code
 * ReplicationMessageColumnValueResolver}); Flink CDC reads a chunk's rows with {@code
 * ResultSet.getObject}, where the JDBC driver builds {@code java.sql.Date}, {@code Time} and {@code
 * Timestamp} in the Julian/Gregorian hybrid calendar, to milliseconds: the two paths gave different
 * values for the same source value (a BC date lost its era, a date in October 1582 moved ten days,
 * {@code infinity} became two different wrong dates, a {@code time} lost its microseconds). Here a
 * chunk's {@code ResultSet} hands Debezium the text of such a column, wrapped as the log's column
 * values are, so both paths parse the same text the same way.
 *
 * <p>Only the chunk's read goes through it: {@link #connection} is a Debezium connection over the
 * same JDBC connection (one transaction), whose result sets answer {@code getObject} this way for
 * columns of type {@code date}, {@code time}, {@code timetz}, {@code timestamp} and {@code
 * timestamptz}; everything else passes through.
 */
final class PostgresTemporalText {

    private PostgresTemporalText() {}

    /** A Debezium connection over {@code physical}, whose result sets read temporal text. */
    static PostgresConnection connection(PostgresConnectorConfig config, Connection physical) {
        return new ChunkReader(config, physical);
    }

    /**
     * Debezium's connection over the chunk read's JDBC connection. Its constructor reads the JDBC
     * connection as the driver's own class, so it is handed the connection itself until it is
     * built; from then on the wrapper.
     */
    private static final class ChunkReader extends PostgresConnection {
        private final Connection wrapped;

        ChunkReader(PostgresConnectorConfig config, Connection physical) {
            super(
                    config.getJdbcConfig(),
                    PostgresObjectUtils.newPostgresValueConverterBuilder(config),
                    "tidemark-snapshot-chunk",
                    jdbc -> physical);
            this.wrapped = wrap(physical, Connection.class);
        }

        @Override
        public synchronized Connection connection() throws SQLException {
            return wrapped == null ? super.connection() : wrapped;
        }

        @Override
        public synchronized Connection connection(boolean executeOnConnect) throws SQLException {
            return wrapped == null ? super.connection(executeOnConnect) : wrapped;
        }
    }

    /** The value the log reader would hand Debezium for the text of a column of {@code type}. */
    static Object logValue(String type, String text) {
        if (text == null) {
            return null;
        }
        TextValue value = new TextValue(text);
        switch (type) {
            case "date":
                return value.asLocalDate();
            case "timestamptz":
                return value.asOffsetDateTimeAtUtc();
            case "timestamp":
                return value.asInstant();
            case "time":
                return value.asTime();
            case "timetz":
                return value.asOffsetTimeUtc();
            default:
                throw new IllegalArgumentException("not a temporal type: " + type);
        }
    }

    static boolean temporal(String type) {
        return switch (type) {
            case "date", "timestamptz", "timestamp", "time", "timetz" -> true;
            default -> false;
        };
    }

    /**
     * {@code target} behind a proxy of all its interfaces; result sets it makes are wrapped too.
     */
    @SuppressWarnings("unchecked")
    private static <T> T wrap(Object target, Class<T> as) {
        List<Class<?>> interfaces = new ArrayList<>();
        for (Class<?> c = target.getClass(); c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if (!interfaces.contains(i)) {
                    interfaces.add(i);
                }
            }
        }
        if (!interfaces.contains(as)) {
            interfaces.add(as);
        }
        return (T)
                Proxy.newProxyInstance(
                        PostgresTemporalText.class.getClassLoader(),
                        interfaces.toArray(new Class<?>[0]),
                        new Handler(target));
    }

    private static final class Handler implements InvocationHandler {
        private final Object target;

        Handler(Object target) {
            this.target = target;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (target instanceof ResultSet rs
                    && method.getName().equals("getObject")
                    && args != null
                    && args.length == 1
                    && args[0] instanceof Integer index) {
                String type = rs.getMetaData().getColumnTypeName(index);
                if (temporal(type)) {
                    return logValue(type, rs.getString(index));
                }
            }
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (result instanceof ResultSet
                    || (result instanceof Statement && !(result instanceof Proxy))) {
                // statements hand out result sets; wrap both
                Class<?> kind = result instanceof ResultSet ? ResultSet.class : Statement.class;
                return wrap(result, kind);
            }
            return result;
        }
    }

    /** A column's text as the log's column values hold it: Debezium's own parsing applies. */
    private static final class TextValue extends AbstractColumnValue<String> {
        private final String text;

        TextValue(String text) {
            this.text = text;
        }

        @Override
        public String getRawValue() {
            return text;
        }

        @Override
        public boolean isNull() {
            return text == null;
        }

        @Override
        public String asString() {
            return text;
        }

        @Override
        public Boolean asBoolean() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Integer asInteger() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Long asLong() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Float asFloat() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Double asDouble() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Object asDecimal() {
            throw new UnsupportedOperationException();
        }

        @Override
        public byte[] asByteArray() {
            throw new UnsupportedOperationException();
        }
    }
}
