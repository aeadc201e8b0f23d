package io.tidemark.config;

import io.tidemark.config.PipelineConfig.SourceConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import java.util.Map;
import java.util.TreeMap;

/**
 * A pipeline's configuration as {@code run --print-config} prints it: YAML-like, each Flink setting
 * with where its value came from when not from the file, and every secret (a secret key's value, a
 * password inside a URI or a parameter) shown as {@code ***}.
 */
final class ConfigDescription {

    private ConfigDescription() {}

    /** {@code config} as YAML-like text with every secret shown as {@code ***}. */
    static String of(PipelineConfig config) {
        StringBuilder out = new StringBuilder();
        out.append("pipeline:\n");
        line(out, "  id", config.pipelineId());
        line(out, "  name", config.jobName());
        line(out, "  parallelism", from(config, config.parallelism(), PipelineOptions.PARALLELISM));
        line(
                out,
                "  max-parallelism",
                from(config, config.maxParallelism(), PipelineOptions.MAX_PARALLELISM));
        out.append("checkpoint:\n");
        line(
                out,
                "  interval",
                from(config, config.checkpointInterval(), PipelineOptions.CHECKPOINT_INTERVAL));
        line(
                out,
                "  timeout",
                from(config, config.checkpointTimeout(), PipelineOptions.CHECKPOINT_TIMEOUT));
        line(out, "  dir", config.checkpointDir());
        line(out, "  savepoint-dir", config.savepointDir());
        line(
                out,
                "  state-backend",
                from(config, config.stateBackend(), PipelineOptions.STATE_BACKEND));
        for (SourceConfig source : config.sources()) {
            out.append(
                    config.sources().size() == 1 ? "source:\n" : "sources[" + source.id() + "]:\n");
            describe(out, source);
        }
        out.append("catalog:\n");
        line(out, "  name", config.catalogName());
        map(out, "  properties", config.catalogProperties());
        out.append("reconcile:\n");
        line(out, "  emit-delay", config.reconcile().emitDelay());
        line(out, "  allowed-lateness", config.reconcile().allowedLateness());
        line(out, "  retention", config.reconcile().retention());
        line(out, "  idleness", config.reconcile().idleness());
        line(out, "  transaction-max-changes", config.reconcile().transactionMaxChanges());
        out.append("tables:\n");
        for (TableConfig table : config.tables()) {
            out.append("  - source: ").append(table.source()).append('\n');
            line(out, "    target", table.target());
            line(
                    out,
                    "    primary-key",
                    table.primaryKey().isEmpty() ? "(source key)" : table.primaryKey());
            if (table.isPattern()) {
                line(out, "    new-tables", table.newTables());
                if (!table.exclude().isEmpty()) {
                    line(out, "    exclude", table.exclude());
                }
            }
            if (table.contract() != null) {
                line(out, "    contract", "v" + table.contract());
            }
            if (table.history()) {
                line(out, "    history", "scd2");
            }
            if (!table.layout().partitionBy().isEmpty()) {
                line(out, "    partition-by", table.layout().partitionBy());
            }
            if (!table.layout().sortOrder().isEmpty()) {
                line(out, "    sort-order", table.layout().sortOrder());
            }
            if (!table.layout().properties().isEmpty()) {
                map(out, "    table-properties", table.layout().properties());
            }
        }
        if (config.contractsDir() != null) {
            out.append("contracts:\n");
            line(out, "  dir", config.contractsDir());
        }
        if (config.points().enabled()) {
            out.append("points:\n");
            line(out, "  table", config.points().table());
            line(out, "  retain", config.points().retain());
        }
        if (config.maintenance().enabled()) {
            describe(out, config.maintenance());
        }
        return out.toString();
    }

    /** A Flink setting's value, with where it came from when not from the file. */
    private static String from(PipelineConfig config, Object value, ConfigKey key) {
        return config.fromFile(key) ? String.valueOf(value) : value + "  # " + config.origin(key);
    }

    private static void describe(StringBuilder out, SourceConfig source) {
        line(out, "  type", source.kind());
        line(out, "  hostname", source.hostname());
        line(out, "  port", source.port());
        line(out, "  database", source.database());
        line(out, "  username", source.username());
        line(out, "  password", mask("password", source.password()));
        if (source.kind().owns(PipelineOptions.SOURCE_SLOT_NAME)) {
            line(out, "  slot.name", source.slotName());
        }
        if (source.kind().owns(PipelineOptions.SOURCE_PUBLICATION)) {
            line(out, "  publication", source.publication());
        }
        if (source.kind().owns(PipelineOptions.SOURCE_SERVER_ID)) {
            line(out, "  server-id", source.serverId());
        }
        if (source.kind().owns(PipelineOptions.SOURCE_SERVER_TIME_ZONE)) {
            line(out, "  server-time-zone", source.serverTimeZone());
        }
        if (source.kind().owns(PipelineOptions.SOURCE_BINLOG_ORDER)) {
            line(
                    out,
                    "  binlog-order",
                    source.binlogOrder() == null ? "auto" : source.binlogOrder());
        }
        if (source.kind().owns(PipelineOptions.SOURCE_TINYINT1_AS_BOOLEAN)) {
            line(out, "  treat-tinyint1-as-boolean.enabled", source.tinyInt1AsBoolean());
        }
        line(out, "  scan.startup.mode", source.startupMode());
        line(out, "  scan.incremental.snapshot.chunk.size", source.splitSize());
        line(out, "  scan.snapshot.fetch.size", source.fetchSize());
        line(out, "  resnapshot.rows-per-second", source.resnapshotRowsPerSecond());
        line(out, "  resnapshot.poll-interval", source.resnapshotPollInterval());
        line(out, "  heartbeat.interval", source.heartbeatInterval());
        map(out, "  debezium", source.properties());
        map(out, "  jdbc.properties", source.jdbcProperties());
    }

    private static void describe(StringBuilder out, MaintenanceConfig maintenance) {
        // the lock's JDBC URL may hold a password: never printed
        out.append("maintenance:\n");
        line(out, "  compaction.every-commits", maintenance.compactEveryCommits());
        line(out, "  compaction.delete-file-threshold", maintenance.compactDeleteFileThreshold());
        line(out, "  fold-deletes.every-delete-files", maintenance.foldEveryDeleteFiles());
        line(out, "  expire-snapshots.every-commits", maintenance.expireEveryCommits());
        line(out, "  expire-snapshots.retain-last", maintenance.retainLast());
        line(out, "  expire-snapshots.max-age", maintenance.maxSnapshotAge());
        line(out, "  orphan-files.every", maintenance.orphanFilesEvery());
        line(out, "  orphan-files.min-age", maintenance.orphanFilesMinAge());
        line(out, "  min-interval", maintenance.minInterval());
    }

    private static void map(StringBuilder out, String name, Map<String, String> values) {
        if (values.isEmpty()) {
            line(out, name, "{}");
            return;
        }
        out.append(name).append(":\n");
        for (Map.Entry<String, String> e : new TreeMap<>(values).entrySet()) {
            line(
                    out,
                    name.replaceAll("\\S.*", "") + "    " + e.getKey(),
                    mask(e.getKey(), e.getValue()));
        }
    }

    private static void line(StringBuilder out, String name, Object value) {
        out.append(name).append(": ").append(value == null ? "~" : value).append('\n');
    }

    static String mask(String key, String value) {
        if (value == null || value.isEmpty()) {
            return value;
        }
        if (PipelineOptions.isSecret(key)) {
            return "***";
        }
        // a secret inside a value: a URI's user info or a password parameter
        return value.replaceAll("(//[^/:@\\s]+:)[^/@\\s]+@", "$1***@")
                .replaceAll(
                        "(?i)((?:password|secret|token|credential)[^=&;\\s]*=)[^&;\\s]+", "$1***");
    }
}
