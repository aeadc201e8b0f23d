package io.tidemark.job;

import io.tidemark.catalog.contract.Contract;
import io.tidemark.catalog.contract.EvolutionPolicy;
import io.tidemark.commit.ChangeWriter;
import io.tidemark.commit.CommitTarget;
import io.tidemark.commit.HistoryWriter;
import io.tidemark.config.LatePolicy;
import io.tidemark.config.PipelineConfig;
import io.tidemark.config.PipelineConfig.TableConfig;
import io.tidemark.job.TidemarkJob.ResolvedTable;
import io.tidemark.reconcile.OrderingRule;
import io.tidemark.reconcile.ReconcileSettings;
import io.tidemark.sink.HistoryTable;
import io.tidemark.sink.LateTable;
import io.tidemark.sink.QuarantineTable;
import io.tidemark.sink.RowDataConverter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each table's changes go, from the resolved tables: the writers' routes, the late,
 * quarantine and history tables, the contracts, the committer's targets, the ordering and late
 * rules. Read once when the job graph is assembled.
 */
record JobWiring(
        Map<String, List<String>> primaryKeys,
        List<ChangeWriter.Route> routes,
        Map<String, String> lateTables,
        Map<String, String> quarantineTables,
        Map<String, Contract> contracts,
        List<CommitTarget> commitTargets,
        List<HistoryWriter.Route> histories,
        Map<String, OrderingRule> orderings,
        Map<String, ReconcileSettings.TableRule> rules) {

    /** The source tables that keep a history table. */
    java.util.Set<String> historyTables() {
        java.util.Set<String> tables = new java.util.HashSet<>();
        histories.forEach(route -> tables.add(route.sourceTable()));
        return tables;
    }

    static JobWiring of(PipelineConfig config, List<ResolvedTable> tables) {
        Map<String, List<String>> primaryKeys = new LinkedHashMap<>();
        List<ChangeWriter.Route> routes = new ArrayList<>();
        Map<String, String> lateTables = new LinkedHashMap<>();
        Map<String, String> quarantineTables = new LinkedHashMap<>();
        Map<String, Contract> contracts = new LinkedHashMap<>();
        List<CommitTarget> commitTargets = new ArrayList<>();
        List<HistoryWriter.Route> histories = new ArrayList<>();
        Map<String, OrderingRule> orderings = new HashMap<>();
        Map<String, ReconcileSettings.TableRule> rules = new HashMap<>();
        Map<String, Integer> sourcesPerTable = new HashMap<>();
        for (TableConfig tableConfig : config.tables()) {
            sourcesPerTable.merge(tableConfig.source(), tableConfig.sources().size(), Integer::sum);
        }
        for (ResolvedTable table : tables) {
            primaryKeys.put(table.sourceTable(), table.primaryKey());
            routes.add(
                    new ChangeWriter.Route(
                            table.sourceTable(),
                            table.target().toString(),
                            new RowDataConverter(
                                    table.sourceTable(), table.schema(), table.primaryKey()),
                            TablePolicies.evolution(config, table).evolves(),
                            TablePolicies.evolution(config, table) == EvolutionPolicy.LENIENT,
                            // one Flink CDC source reads each key once in its snapshot, before the
                            // key's log changes; commit order keeps them in that order
                            sourcesPerTable.getOrDefault(table.sourceTable(), 0) == 1
                                    && OrderingRule.commitOrder().equals(table.ordering())));
            String contractVersion =
                    table.contract() == null
                            ? TidemarkJob.CONTRACT_VERSION_NONE
                            : Integer.toString(table.contract().version());
            commitTargets.add(
                    new CommitTarget(
                            table.target().toString(),
                            table.sourceTable(),
                            CommitTarget.Kind.TARGET,
                            contractVersion));
            if (table.contract() != null) {
                contracts.put(table.sourceTable(), table.contract());
                String quarantine = QuarantineTable.of(table.target()).toString();
                quarantineTables.put(table.sourceTable(), quarantine);
                commitTargets.add(
                        new CommitTarget(
                                quarantine,
                                table.sourceTable(),
                                CommitTarget.Kind.QUARANTINE,
                                contractVersion));
            }
            if (table.latePolicy() == LatePolicy.QUARANTINE) {
                String late = LateTable.of(table.target()).toString();
                lateTables.put(table.sourceTable(), late);
                commitTargets.add(new CommitTarget(late, table.sourceTable(), true));
            }
            if (TablePolicies.history(config, table.sourceTable())) {
                String history = HistoryTable.of(table.target()).toString();
                histories.add(
                        new HistoryWriter.Route(
                                table.sourceTable(),
                                history,
                                table.primaryKey(),
                                TablePolicies.evolution(config, table).evolves()));
                commitTargets.add(
                        new CommitTarget(
                                history,
                                table.sourceTable(),
                                CommitTarget.Kind.HISTORY,
                                contractVersion));
            }
            orderings.put(table.sourceTable(), table.ordering());
            rules.put(
                    table.sourceTable(),
                    new ReconcileSettings.TableRule(table.ordering(), table.latePolicy()));
        }
        if (!tables.isEmpty()) {
            // undecodable changes of tables without a contract, changes of tables not captured
            String unrouted = QuarantineTable.unrouted(tables.get(0).target()).toString();
            quarantineTables.put(QuarantineTable.ANY_TABLE, unrouted);
            commitTargets.add(
                    new CommitTarget(
                            unrouted,
                            QuarantineTable.ANY_TABLE,
                            CommitTarget.Kind.QUARANTINE,
                            TidemarkJob.CONTRACT_VERSION_NONE));
        }
        return new JobWiring(
                primaryKeys,
                routes,
                lateTables,
                quarantineTables,
                contracts,
                commitTargets,
                histories,
                orderings,
                rules);
    }
}
