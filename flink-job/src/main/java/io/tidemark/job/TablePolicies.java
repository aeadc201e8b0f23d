package io.tidemark.job;

import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.config.TruncatePolicy;
import io.tidemark.contract.ImplicitContracts;
import io.tidemark.decode.SourcePosition;
import io.tidemark.decode.SourcePositions;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.reconcile.ReplayFloor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each table's policies as the job's operators take them, from the pipeline file and the resolved
 * tables: truncate, schema evolution, the implicit contract of a table without one, the column an
 * event-time rule reads.
 */
final class TablePolicies {

    private static final Logger LOG = LoggerFactory.getLogger(TablePolicies.class);

    private TablePolicies() {}

    /**
     * Per source table, per source, the position its target's newest commit holds every change
     * through ({@code reconcile.replayedThrough}, set by a start that reads the log again); none
     * with an emit delay, under which a change consumed before a checkpoint may still have been
     * held, not committed.
     */
    static Map<String, Map<String, ReplayFloor>> replayedThrough(PipelineConfig config) {
        Map<String, Map<String, ReplayFloor>> through = new HashMap<>();
        if (!config.reconcile().emitDelay().isZero()) {
            return through;
        }
        for (TableConfig table : config.tables()) {
            String positions = config.reconcile().replayedThrough().get(table.target());
            if (positions == null) {
                continue;
            }
            Map<String, Long> logFrom = SourcePositions.logFrom(positions);
            Map<String, ReplayFloor> floors = new HashMap<>();
            SourcePositions.parse(positions)
                    .forEach(
                            (source, position) ->
                                    floors.put(
                                            source,
                                            new ReplayFloor(
                                                    position,
                                                    logFrom.getOrDefault(
                                                            source, SourcePosition.UNKNOWN))));
            through.put(table.source(), floors);
        }
        return through;
    }

    /**
     * Each table's {@code truncate} policy. A table fed by several sources cannot apply one
     * source's truncate to the rows of the others: its {@code apply} is {@code quarantine}.
     */
    static Map<String, TruncatePolicy> truncatePolicies(PipelineConfig config) {
        Map<String, TruncatePolicy> policies = new HashMap<>();
        for (TableConfig table : config.tables()) {
            TruncatePolicy policy = table.truncate();
            if (table.sources().size() > 1 && policy == TruncatePolicy.APPLY) {
                LOG.warn(
                        "Table {} is fed by sources {}: a TRUNCATE in one of them cannot empty only that "
                                + "source's rows of the target, so it is quarantined (truncate: quarantine)",
                        table.source(),
                        table.sources());
                policy = TruncatePolicy.QUARANTINE;
            }
            policies.put(table.source(), policy);
        }
        return policies;
    }

    /** The {@code schema-evolution} of {@code table}: its contract's, else its entry's. */
    static EvolutionPolicy evolution(PipelineConfig config, ResolvedTable table) {
        return table.contract() != null
                ? table.contract().evolution()
                : schemaEvolution(config, table.sourceTable());
    }

    /** Whether {@code sourceTable}'s entry keeps a history table ({@code history: scd2}). */
    static boolean history(PipelineConfig config, String sourceTable) {
        return config.tables().stream()
                .anyMatch(table -> table.source().equals(sourceTable) && table.history());
    }

    /**
     * The {@code schema-evolution} of a table without a contract: its entry's or the pipeline's.
     */
    static EvolutionPolicy schemaEvolution(PipelineConfig config, String sourceTable) {
        for (TableConfig table : config.tables()) {
            if (table.source().equals(sourceTable)) {
                return table.schemaEvolution();
            }
        }
        return EvolutionPolicy.EVOLVE;
    }

    /**
     * Per table without a contract, its Iceberg table's columns and key as a contract under its
     * {@code schema-evolution}: the gate checks a change against it when the source's schema has
     * changed. A table whose columns cannot be one (a nested type, a nullable key) has none: its
     * changes go to the writer as they are.
     */
    static Map<String, Contract> implicitContracts(
            PipelineConfig config, List<ResolvedTable> tables) {
        Map<String, Contract> implicit = new HashMap<>();
        for (ResolvedTable table : tables) {
            if (table.contract() != null) {
                continue;
            }
            Contract contract =
                    ImplicitContracts.of(
                            table.sourceTable(),
                            table.schema().columns(),
                            table.primaryKey(),
                            schemaEvolution(config, table.sourceTable()));
            if (contract != null) {
                implicit.put(table.sourceTable(), contract);
            }
        }
        return implicit;
    }

    /** Source table to the column its event-time rule reads (contract's or pipeline file's). */
    static Map<String, String> orderingColumns(List<ResolvedTable> tables) {
        Map<String, String> columns = new HashMap<>();
        for (ResolvedTable table : tables) {
            String column = OrderingRule.eventTimeColumn(table.ordering().toString());
            if (column != null) {
                columns.put(table.sourceTable(), column);
            }
        }
        return columns;
    }
}
