package io.tidemark.catalog;

import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;

/**
 * Loads Iceberg catalogs from properties with Iceberg's own catalog loading ({@link
 * CatalogUtil#loadCatalog}), so every property Iceberg documents for a catalog works unchanged.
 *
 * <p>The kind of catalog comes from {@code type} ({@code jdbc}, {@code rest}, {@code hadoop},
 * {@code hive}) or, for any other implementation, {@code catalog-impl} with a class name. Setting
 * both is an error, as in Iceberg itself.
 */
public final class Catalogs {

    public static final String TYPE = CatalogUtil.ICEBERG_CATALOG_TYPE;
    public static final String IMPL = CatalogProperties.CATALOG_IMPL;

    private static final Map<String, String> IMPLEMENTATIONS =
            Map.of(
                    "jdbc", "org.apache.iceberg.jdbc.JdbcCatalog",
                    "rest", CatalogUtil.ICEBERG_CATALOG_REST,
                    "hadoop", CatalogUtil.ICEBERG_CATALOG_HADOOP,
                    "hive", CatalogUtil.ICEBERG_CATALOG_HIVE);

    private Catalogs() {}

    /**
     * The implementation class for catalog properties: {@code catalog-impl} if set, else the class
     * for {@code type}.
     *
     * @throws IllegalArgumentException naming the property to fix
     */
    public static String implementation(Map<String, String> properties) {
        String impl = properties.get(IMPL);
        String type = properties.get(TYPE);
        if (impl != null && type != null) {
            throw new IllegalArgumentException(
                    String.format(
                            "catalog: set either '%s' or '%s', not both (got type '%s' and catalog-impl '%s')",
                            TYPE, IMPL, type, impl));
        }
        if (impl != null) {
            return impl;
        }
        if (type == null) {
            throw new IllegalArgumentException(
                    String.format(
                            "catalog: set '%s' to one of %s, or '%s' to a catalog class",
                            TYPE, IMPLEMENTATIONS.keySet().stream().sorted().toList(), IMPL));
        }
        String resolved = IMPLEMENTATIONS.get(type.toLowerCase(Locale.ROOT));
        if (resolved == null) {
            throw new IllegalArgumentException(
                    String.format(
                            "catalog: unknown %s '%s'; expected one of %s, or set '%s' to a catalog class",
                            TYPE, type, IMPLEMENTATIONS.keySet().stream().sorted().toList(), IMPL));
        }
        return resolved;
    }

    /** Loads and initializes a catalog. The {@code type} key is not passed on to the catalog. */
    public static Catalog load(String name, Map<String, String> properties, Configuration conf) {
        registerJdbcDrivers();
        String impl = implementation(properties);
        Map<String, String> withoutType = new java.util.HashMap<>(properties);
        withoutType.remove(TYPE);
        withoutType.remove(IMPL);
        return CatalogUtil.loadCatalog(impl, name, withoutType, conf);
    }

    /**
     * Registers the bundled Postgres and MySQL JDBC drivers with {@link java.sql.DriverManager}
     * from the calling code's class loader. {@code DriverManager} only hands a connection to code
     * that can see the driver's class: in a Flink JobManager or TaskManager every job has its own
     * class loader, so without this the second job in one JVM gets "No suitable driver" from the
     * JDBC catalog and from the schema reader.
     */
    public static void registerJdbcDrivers() {
        for (String driver : new String[] {"org.postgresql.Driver", "com.mysql.cj.jdbc.Driver"}) {
            try {
                Class.forName(driver, true, Catalogs.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                // not on the classpath: catalogs and sources on other databases bring their own
            }
        }
    }
}
