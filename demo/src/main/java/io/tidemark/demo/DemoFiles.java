package io.tidemark.demo;

import io.tidemark.deploy.TrinoServer;
import io.tidemark.testbed.EmbeddedDatabase;
import io.tidemark.testbed.EmbeddedMariaDb;
import io.tidemark.testbed.ShopWorkload;
import java.nio.file.Path;
import java.util.Map;

/**
 * The files the demo writes into its work directory: the pipeline file (the same format {@code
 * tidemark run --config} reads), the orders contract and Trino's catalog file.
 */
final class DemoFiles {

    static final String CATALOG_NAME = "tidemark";
    static final String PIPELINE_ID = "shop-demo";

    private DemoFiles() {}

    /**
     * The orders contract of {@code table}: the table's columns, plus a status set and a note
     * length. {@code paidType}: MySQL keeps a BOOLEAN as tinyint(1), an int.
     */
    static String ordersContract(String table, String paidType) {
        return String.join(
                "\n",
                "# Written by `tidemark demo`: version 1 of the contract of " + table + ".",
                "table: " + table,
                "version: 1",
                "columns:",
                "  - {name: id, type: long, nullable: false}",
                "  - {name: customer_id, type: long, nullable: false}",
                "  - {name: status, type: string, nullable: false}",
                "  - {name: quantity, type: int, nullable: false}",
                "  - {name: amount, type: 'decimal(12,2)', nullable: false}",
                "  - {name: weight, type: double}",
                "  - {name: paid, type: " + paidType + ", nullable: false}",
                "  - {name: ordered_at, type: timestamptz, nullable: false}",
                "  - {name: updated_at, type: timestamp, nullable: false}",
                "  - {name: note, type: string}",
                "primary-key: [id]",
                "schema-evolution: evolve",
                "constraints:",
                "  - {column: status, allowed-values: [new, paid, shipped, delivered, returned]}",
                "  - {column: note, max-length: 100}",
                "checks:",
                "  - {check: quarantine-ratio, max: 0.5, window: 5, mode: warn}",
                "");
    }

    /** The orders contract of the demo's source. */
    static String ordersContract(DemoServers servers) {
        return ordersContract(servers.ordersTable(), servers.mysql() ? "int" : "boolean");
    }

    /** The demo's pipeline file. */
    static String pipelineYaml(DemoSettings settings, DemoServers servers, Path work) {
        return String.join(
                "\n",
                "# Written by `tidemark demo`: the same file format `tidemark run --config` reads.",
                "pipeline:",
                "  id: " + PIPELINE_ID,
                "  parallelism: " + settings.parallelism(),
                "checkpoint:",
                "  interval: " + settings.checkpointInterval().toMillis() + "ms",
                "  dir: " + work.resolve("checkpoints").toUri(),
                servers.mysql()
                        ? String.join(
                                "\n",
                                "source:",
                                "  type: mysql",
                                "  hostname: 127.0.0.1",
                                "  port: " + servers.sourcePort(),
                                "  database: " + DemoServers.SOURCE_DATABASE,
                                "  username: " + EmbeddedMariaDb.CDC_USER,
                                "  password: " + EmbeddedMariaDb.CDC_PASSWORD)
                        : String.join(
                                "\n",
                                "source:",
                                "  type: postgres",
                                "  hostname: 127.0.0.1",
                                "  port: " + servers.sourcePort(),
                                "  database: " + DemoServers.SOURCE_DATABASE,
                                "  username: " + EmbeddedDatabase.USER,
                                "  password: \"\""),
                "  scan.incremental.snapshot.chunk.size: 1000",
                "catalog:",
                "  name: " + CATALOG_NAME,
                "  type: jdbc",
                "  properties:",
                "    uri: " + servers.catalogUrl(),
                "    jdbc.user: " + EmbeddedDatabase.USER,
                "    jdbc.password: \"\"",
                "    jdbc.schema-version: V1",
                "    warehouse: " + work.resolve("warehouse").toUri(),
                "contracts:",
                "  dir: " + work.resolve("contracts"),
                "tables:",
                servers.mysql()
                        ? String.join(
                                "\n",
                                "  # every table of MariaDB database shop, each into shop.<table>;",
                                "  # shop.orders has a contract, so it has an entry of its own",
                                "  - source: " + DemoServers.SOURCE_DATABASE + ".*",
                                "    target: shop.*")
                        : String.join(
                                "\n",
                                "  - source: " + ShopWorkload.CUSTOMERS,
                                "    target: shop.customers"),
                "  - source: " + servers.ordersTable(),
                "    target: shop.orders",
                "    primary-key: [id]",
                "    contract: 1",
                "");
    }

    /** Trino's catalog over the demo's Iceberg catalog. */
    static Map<String, String> trinoCatalog(DemoServers servers, Path work) {
        return TrinoServer.icebergJdbcCatalog(
                CATALOG_NAME,
                servers.catalogUrl(),
                EmbeddedDatabase.USER,
                "",
                work.resolve("warehouse").toUri().toString());
    }
}
