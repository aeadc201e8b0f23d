package io.tidemark.job;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Table;
import org.apache.iceberg.flink.TableLoader;

/**
 * The table loader of a table's maintenance: its tables stamp {@code summary} on every rewrite
 * committed through them. Iceberg's Flink compaction (1.11, {@code DataFileRewriteCommitter})
 * commits {@code table.newRewrite()} of the table it loads and takes no snapshot properties; this
 * is how its snapshots carry Tidemark's provenance (the task, the run id, the code version).
 */
final class StampingTableLoader implements TableLoader {

    private static final long serialVersionUID = 1L;

    private final TableLoader loader;
    private final HashMap<String, String> summary;

    StampingTableLoader(TableLoader loader, Map<String, String> summary) {
        this.loader = loader;
        this.summary = new HashMap<>(summary);
    }

    @Override
    public void open() {
        loader.open();
    }

    @Override
    public boolean isOpen() {
        return loader.isOpen();
    }

    @Override
    public Table loadTable() {
        return stamping(loader.loadTable(), summary);
    }

    @Override
    @SuppressWarnings({"MethodDoesntCallSuperMethod", "checkstyle:NoClone"})
    public TableLoader clone() {
        return new StampingTableLoader(loader.clone(), summary);
    }

    @Override
    public void close() throws IOException {
        loader.close();
    }

    /**
     * {@code table}, its rewrites stamped with {@code summary}; everything else is {@code table}'s
     * own (its operations too, which Iceberg's serializable copy of a table reads).
     */
    static Table stamping(Table table, Map<String, String> summary) {
        Class<?>[] interfaces =
                table instanceof HasTableOperations
                        ? new Class<?>[] {Table.class, HasTableOperations.class}
                        : new Class<?>[] {Table.class};
        Map<String, String> stamp = Map.copyOf(summary);
        return (Table)
                Proxy.newProxyInstance(
                        Table.class.getClassLoader(),
                        interfaces,
                        (proxy, method, args) -> {
                            if (method.getName().equals("newRewrite")
                                    && method.getParameterCount() == 0) {
                                RewriteFiles rewrite = table.newRewrite();
                                stamp.forEach(rewrite::set);
                                return rewrite;
                            }
                            try {
                                return method.invoke(table, args);
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
    }
}
