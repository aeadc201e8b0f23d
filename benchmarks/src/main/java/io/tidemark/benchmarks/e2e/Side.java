package io.tidemark.benchmarks.e2e;

import io.tidemark.testbed.EmbeddedDatabase;
import org.apache.flink.core.execution.JobClient;
import org.apache.iceberg.catalog.TableIdentifier;

/** One side of the comparison: a pipeline from {@code public.items} into an Iceberg table. */
interface Side {

    /** For reports: {@code tidemark}, {@code flink-sql}. */
    String name();

    /** The Iceberg table this side writes in run {@code run}. */
    TableIdentifier table(String run);

    /** The replication slot this side reads with in run {@code run}; dropped after the run. */
    String slot(String run);

    /** Starts the pipeline (its Iceberg table does not exist yet) and returns its job. */
    JobClient start(Bench bench, String run) throws Exception;

    /** Starts the pipeline of run {@code run} again from the savepoint at {@code savepoint}. */
    JobClient resume(Bench bench, String run, String savepoint) throws Exception;

    /**
     * Starts the multi-source pipeline: {@code public.items} of every database in {@code shards}
     * (in the rule's tie-break order) into one table, reading shard {@code i} with slot {@code
     * slot(run) + "_" + i}.
     */
    JobClient startShards(Bench bench, String run, java.util.List<String> shards) throws Exception;

    /** What both sides share: the database, the catalog's properties, the settings. */
    record Bench(EmbeddedDatabase database, BenchSettings settings, String warehouse) {

        static final String SOURCE_DATABASE = "bench";
        static final String CATALOG_DATABASE = "iceberg_catalog";
        static final String CATALOG_NAME = "bench";
    }
}
