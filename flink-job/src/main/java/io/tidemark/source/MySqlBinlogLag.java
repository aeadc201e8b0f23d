package io.tidemark.source;

import io.tidemark.config.PipelineConfig.SourceConfig;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.cdc.connectors.mysql.source.metrics.MySqlSourceReaderMetrics;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How far a MySQL or MariaDB server's binlog runs ahead of the binlog reader, gauge {@code
 * tidemark.source.<source>.logBytesBehind} of the source operator (as {@link SourceLag} gives a
 * PostgreSQL source's): the bytes from the reader's position, which every change and every
 * heartbeat moves (Debezium's heartbeat carries the position of events it filtered out too), to the
 * end of the server's binlog. It grows while the reader stalls or falls behind, also while the
 * captured tables change nothing; -1 on a reader that reads no binlog (a snapshot reader) or where
 * the server cannot be asked.
 *
 * <p>Asked when a metric reporter reads the gauge, at most every {@link #REFRESH_MILLIS}, on a
 * connection of its own opened for it: no thread, nothing to close with the reader.
 */
final class MySqlBinlogLag implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(MySqlBinlogLag.class);

    static final long REFRESH_MILLIS = 5_000;

    private final SourceConfig source;

    /** The reader's binlog file and position (null until it reads the binlog). */
    private transient volatile String file;

    private transient volatile long position;

    private transient long askedAt;
    private transient long bytesBehind;

    MySqlBinlogLag(SourceConfig source) {
        this.source = source;
    }

    /** The reader now stands at {@code position} of binlog {@code file}. */
    void readTo(String file, long position) {
        this.position = position;
        this.file = file;
    }

    /**
     * Registers the gauge on the reader's metric group, which Flink CDC 3.5 keeps in {@code
     * metrics} without giving it out (read by reflection; without it, no gauge and a warning).
     */
    void register(MySqlSourceReaderMetrics metrics) {
        MetricGroup group;
        try {
            java.lang.reflect.Field field =
                    MySqlSourceReaderMetrics.class.getDeclaredField("metricGroup");
            field.setAccessible(true);
            group = (MetricGroup) field.get(metrics);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("Source {}: no binlog lag gauge ({})", source.id(), e.toString());
            return;
        }
        group.addGroup("tidemark")
                .addGroup("source", source.id())
                .gauge("logBytesBehind", (Gauge<Long>) this::bytesBehind);
    }

    /** The bytes of binlog ahead of the reader (-1: unknown), asked at most every few seconds. */
    synchronized long bytesBehind() {
        long now = System.currentTimeMillis();
        if (now - askedAt < REFRESH_MILLIS && askedAt > 0) {
            return bytesBehind;
        }
        askedAt = now;
        String at = file;
        if (at == null) {
            bytesBehind = -1;
            return bytesBehind;
        }
        try (Connection connection = SourceDialect.of(source).connect()) {
            bytesBehind = behind(logs(connection), at, position);
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Source {}: its binlog could not be read", source.id(), e);
            bytesBehind = -1;
        }
        return bytesBehind;
    }

    /** The server's binlog files and their sizes, oldest first. */
    static Map<String, Long> logs(Connection connection) throws SQLException {
        Map<String, Long> logs = new LinkedHashMap<>();
        try (Statement s = connection.createStatement()) {
            s.setQueryTimeout(10);
            try (ResultSet rs = s.executeQuery("SHOW BINARY LOGS")) {
                while (rs.next()) {
                    logs.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return logs;
    }

    /**
     * The bytes of {@code logs} after {@code position} of {@code file}: the rest of that file and
     * every later one; -1 when the file is no longer on the server (purged: the reader cannot go
     * on).
     */
    static long behind(Map<String, Long> logs, String file, long position) {
        if (!logs.containsKey(file)) {
            return -1;
        }
        long bytes = 0;
        boolean after = false;
        for (Map.Entry<String, Long> log : logs.entrySet()) {
            if (after) {
                bytes += log.getValue();
            } else if (log.getKey().equals(file)) {
                bytes += Math.max(0, log.getValue() - position);
                after = true;
            }
        }
        return bytes;
    }
}
