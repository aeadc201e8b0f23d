package io.tidemark.job;

import io.tidemark.catalog.Catalogs;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.flink.CatalogLoader;

/**
 * A {@link CatalogLoader} that registers the JDBC drivers before every load. Every operator of a
 * job has the job's own class loader, and a driver registered by another (an earlier job on the
 * same TaskManager, the submitting program on the JobManager) does not serve it: without this, the
 * first operator to open a JDBC catalog in a new job (the schema stage, the re-snapshot reader or
 * enumerator, the writers) fails with "No suitable driver" unless another one registered first.
 */
final class DriverRegisteringCatalogLoader implements CatalogLoader {

    private static final long serialVersionUID = 1L;

    private final CatalogLoader loader;

    DriverRegisteringCatalogLoader(CatalogLoader loader) {
        this.loader = loader;
    }

    @Override
    public Catalog loadCatalog() {
        Catalogs.registerJdbcDrivers();
        return loader.loadCatalog();
    }

    @Override
    @SuppressWarnings({"checkstyle:NoClone", "checkstyle:SuperClone"})
    public CatalogLoader clone() {
        return new DriverRegisteringCatalogLoader(loader.clone());
    }

    @Override
    public String toString() {
        return loader.toString();
    }
}
