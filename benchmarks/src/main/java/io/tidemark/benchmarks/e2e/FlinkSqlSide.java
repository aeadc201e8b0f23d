package io.tidemark.benchmarks.e2e;

import io.tidemark.testbed.EmbeddedDatabase;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * The baseline a user would otherwise write: Flink SQL with a {@code postgres-cdc} table and {@code
 * INSERT INTO} an Iceberg format-version-2 upsert table with the same primary key, in the same
 * catalog, with the same parallelism, checkpoint interval and snapshot split size.
 */
final class FlinkSqlSide implements Side {

    @Override
    public String name() {
        return "flink-sql";
    }

    @Override
    public TableIdentifier table(String run) {
        return TableIdentifier.of("bench_sql", "items_" + run);
    }

    @Override
    public String slot(String run) {
        return "sql_" + run;
    }

    @Override
    public JobClient start(Bench bench, String run) throws Exception {
        return insert(bench, run, List.of(Bench.SOURCE_DATABASE), List.of(slot(run)), null);
    }

    /** The same statements, the job restored from {@code savepoint} (the same plan, its uids). */
    @Override
    public JobClient resume(Bench bench, String run, String savepoint) throws Exception {
        return insert(bench, run, List.of(Bench.SOURCE_DATABASE), List.of(slot(run)), savepoint);
    }

    /**
     * What a user would write for several databases: one {@code postgres-cdc} table each, {@code
     * UNION ALL} into the upsert table (it applies changes in the order they arrive).
     */
    @Override
    public JobClient startShards(Bench bench, String run, List<String> shards) throws Exception {
        List<String> slots = new ArrayList<>();
        for (int i = 0; i < shards.size(); i++) {
            slots.add(slot(run) + "_" + i);
        }
        return insert(bench, run, shards, slots, null);
    }

    private JobClient insert(
            Bench bench, String run, List<String> databases, List<String> slots, String savepoint)
            throws Exception {
        BenchSettings settings = bench.settings();
        EmbeddedDatabase db = bench.database();
        Configuration conf = new Configuration();
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        conf.set(CoreOptions.DEFAULT_PARALLELISM, settings.parallelism());
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, settings.checkpointInterval());
        conf.set(
                CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                CheckpointingMode.EXACTLY_ONCE);
        // checkpoints to files, as Tidemark's: the sink's upsert materializer (added for the
        // multi-source UNION ALL) outgrows the JobManager's 5 MB in-memory checkpoint storage
        conf.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                settings.workDir().resolve("checkpoints-sql").toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        StreamTableEnvironment sql = StreamTableEnvironment.create(env);
        String columns =
                "id BIGINT, qty INT, score BIGINT, price DECIMAL(12, 2), ratio DOUBLE,"
                        + " active BOOLEAN, name STRING, code STRING, `day` DATE,"
                        + " updated_at TIMESTAMP_LTZ(6), PRIMARY KEY (id) NOT ENFORCED";
        List<String> selects = new ArrayList<>();
        for (int i = 0; i < databases.size(); i++) {
            String src = "src_" + i;
            sql.executeSql(
                    "CREATE TABLE "
                            + src
                            + " ("
                            + columns
                            + ") WITH ("
                            + "'connector' = 'postgres-cdc',"
                            + "'hostname' = '127.0.0.1',"
                            + "'port' = '"
                            + db.port()
                            + "',"
                            + "'username' = '"
                            + EmbeddedDatabase.USER
                            + "',"
                            + "'password' = '',"
                            + "'database-name' = '"
                            + databases.get(i)
                            + "',"
                            + "'schema-name' = 'public',"
                            + "'table-name' = 'items',"
                            + "'slot.name' = '"
                            + slots.get(i)
                            + "',"
                            + "'decoding.plugin.name' = 'pgoutput',"
                            + "'scan.incremental.snapshot.enabled' = 'true',"
                            + "'scan.incremental.snapshot.chunk.size' = '"
                            + settings.splitSize()
                            + "',"
                            + "'debezium.publication.name' = '"
                            + slots.get(i)
                            + "_pub')");
            selects.add("SELECT * FROM " + src);
        }
        // the Flink catalog's name is the JDBC catalog's name: the same catalog as Tidemark's
        String ice = Bench.CATALOG_NAME;
        sql.executeSql(
                "CREATE CATALOG "
                        + ice
                        + " WITH ("
                        + "'type' = 'iceberg',"
                        + "'catalog-impl' = 'org.apache.iceberg.jdbc.JdbcCatalog',"
                        + "'uri' = '"
                        + db.jdbcUrl(Bench.CATALOG_DATABASE)
                        + "',"
                        + "'jdbc.user' = '"
                        + EmbeddedDatabase.USER
                        + "',"
                        + "'jdbc.password' = '',"
                        + "'jdbc.schema-version' = 'V1',"
                        + "'warehouse' = '"
                        + bench.warehouse()
                        + "')");
        TableIdentifier target = table(run);
        sql.executeSql("CREATE DATABASE IF NOT EXISTS " + ice + "." + target.namespace());
        sql.executeSql(
                "CREATE TABLE IF NOT EXISTS "
                        + ice
                        + "."
                        + target
                        + " ("
                        + columns
                        + ") WITH ('format-version' = '2', 'write.upsert.enabled' = 'true')");
        TableResult insert =
                sql.executeSql(
                        "INSERT INTO "
                                + ice
                                + "."
                                + target
                                + " "
                                + String.join(" UNION ALL ", selects));
        return insert.getJobClient()
                .orElseThrow(() -> new IllegalStateException("INSERT INTO started no job"));
    }
}
