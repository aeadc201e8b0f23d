package io.tidemark.source;

import io.tidemark.config.PipelineConfig.SourceConfig;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.MetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How far each source's log runs ahead of what the pipeline confirmed, per source whose dialect can
 * tell ({@link SourceDialect#measuresLogLag}; PostgreSQL: the bytes of WAL between the server's
 * current position and the confirmed position of the pipeline's replication slot, which Flink CDC
 * moves when a checkpoint completes), gauge {@code tidemark.source.<source>.logBytesBehind} of the
 * committer (a MySQL source's reader has its own, {@link MySqlBinlogLag}). It grows while the
 * pipeline is stopped, stalled or behind, also while its tables send nothing, and it is the WAL the
 * slot keeps on the server's disk; -1 while it is unknown (the slot not made yet, the server not
 * reachable). Flink CDC's {@code currentFetchEventTimeLag} is updated by the changes read only, so
 * it stands still then.
 *
 * <p>Probed every {@link #PERIOD} on a thread of its own, so a slow server never holds a commit.
 */
public final class SourceLag implements Serializable, AutoCloseable {

    private static final long serialVersionUID = 1L;

    private static final Logger LOG = LoggerFactory.getLogger(SourceLag.class);

    /** How often the servers are asked. */
    static final Duration PERIOD = Duration.ofSeconds(5);

    /** No source probed. */
    public static final SourceLag NONE = new SourceLag(List.of());

    private final List<SourceConfig> sources;

    private transient Map<String, AtomicLong> behind;
    private transient Map<String, Connection> connections;
    private transient ScheduledExecutorService probe;

    private SourceLag(List<SourceConfig> sources) {
        this.sources = List.copyOf(sources);
    }

    /** The lag of {@code sources} whose servers can tell it (PostgreSQL's). */
    public static SourceLag of(List<SourceConfig> sources) {
        return new SourceLag(
                sources.stream().filter(s -> SourceDialect.of(s).measuresLogLag()).toList());
    }

    /** Registers each source's gauge under {@code group} and starts probing. */
    public void register(MetricGroup group) {
        behind = new HashMap<>();
        connections = new HashMap<>();
        for (SourceConfig source : sources) {
            AtomicLong bytes = new AtomicLong(-1);
            behind.put(source.id(), bytes);
            group.addGroup("source", source.id()).gauge("logBytesBehind", (Gauge<Long>) bytes::get);
        }
        if (sources.isEmpty()) {
            return;
        }
        probe =
                Executors.newSingleThreadScheduledExecutor(
                        runnable -> {
                            Thread thread = new Thread(runnable, "tidemark-source-lag");
                            thread.setDaemon(true);
                            return thread;
                        });
        probe.scheduleWithFixedDelay(this::probeAll, 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The bytes behind of {@code source}, as last probed (-1: unknown). */
    public long bytesBehind(String source) {
        AtomicLong bytes = behind == null ? null : behind.get(source);
        return bytes == null ? -1 : bytes.get();
    }

    private void probeAll() {
        for (SourceConfig source : sources) {
            long bytes = -1;
            try {
                bytes = probe(source);
            } catch (SQLException | RuntimeException e) {
                LOG.debug("Source {}: its log position could not be read", source.id(), e);
                closeConnection(source.id());
            }
            behind.get(source.id()).set(bytes);
        }
    }

    private long probe(SourceConfig source) throws SQLException {
        Connection connection = connections.get(source.id());
        if (connection == null || connection.isClosed()) {
            connection = SourceDialect.of(source).connect();
            connections.put(source.id(), connection);
        }
        return SourceDialect.of(source).logBytesBehind(connection);
    }

    private void closeConnection(String source) {
        Connection connection = connections.remove(source);
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                // it failed already
            }
        }
    }

    @Override
    public void close() {
        if (probe != null) {
            probe.shutdownNow();
            try {
                probe.awaitTermination(PERIOD.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (connections != null) {
            for (String source : List.copyOf(connections.keySet())) {
                closeConnection(source);
            }
        }
    }
}
