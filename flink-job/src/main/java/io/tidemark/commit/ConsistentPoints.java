package io.tidemark.commit;

import io.tidemark.catalog.TableManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's consistent points ({@code points.table}): after the tables of a completed
 * checkpoint are committed, one row per target table naming the snapshot that holds exactly that
 * checkpoint (its own commit of it, or its newest before it when the checkpoint changed nothing in
 * it), appended in one commit. Since a source transaction lands whole in one checkpoint ({@code
 * TransactionFence}), the tables read at one point's snapshots hold a state the source held: a join
 * across them sees no transaction half applied, whatever order the tables were committed in.
 *
 * <p>{@code point_id} grows by one per point of the pipeline, across restarts and lineages (a fresh
 * start's checkpoint ids begin again); the newest point is the one with the greatest. A point is
 * published once: the table property {@code tidemark.points-through.<pipeline>} ({@code <lineage>
 * <checkpoint> <point id>}) is set in the same commit and checked before each. Points older than
 * the newest {@code retain} are deleted (each point is one file) and the points table's own old
 * snapshots expired every {@value #TIDY_EVERY} points.
 */
public final class ConsistentPoints {

    private static final Logger LOG = LoggerFactory.getLogger(ConsistentPoints.class);

    static final Schema SCHEMA =
            new Schema(
                    Types.NestedField.required(1, "pipeline_id", Types.StringType.get()),
                    Types.NestedField.required(2, "point_id", Types.LongType.get()),
                    Types.NestedField.required(3, "lineage", Types.StringType.get()),
                    Types.NestedField.required(4, "checkpoint_id", Types.LongType.get()),
                    Types.NestedField.required(5, "committed_at", Types.TimestampType.withZone()),
                    Types.NestedField.required(6, "table_name", Types.StringType.get()),
                    Types.NestedField.optional(7, "snapshot_id", Types.LongType.get()),
                    Types.NestedField.optional(8, "source_positions", Types.StringType.get()),
                    Types.NestedField.optional(9, "valid_through", Types.StringType.get()));

    /** Points between deletions of old points and expiry of the points table's snapshots. */
    static final int TIDY_EVERY = 100;

    private final Catalog catalog;
    private final TableIdentifier identifier;
    private final String pipelineId;
    private final int retain;

    /** The snapshots of the last point this committer published (null: none yet). */
    private Map<String, Long> published;

    ConsistentPoints(Catalog catalog, TableIdentifier identifier, String pipelineId, int retain) {
        this.catalog = catalog;
        this.identifier = identifier;
        this.pipelineId = pipelineId;
        this.retain = retain;
    }

    /**
     * Makes the points table {@code identifier} if it is missing (append-only, full column metrics,
     * so that the points of one pipeline are told from another's in every file), or checks it.
     */
    public static void ensure(Catalog catalog, TableIdentifier identifier) {
        Table table = new TableManager(catalog).ensureAppendOnly(identifier, SCHEMA);
        if (!"full".equals(table.properties().get(TableProperties.DEFAULT_WRITE_METRICS_MODE))) {
            table.updateProperties()
                    .set(TableProperties.DEFAULT_WRITE_METRICS_MODE, "full")
                    .commit();
        }
    }

    /** The table property naming the last point of {@code pipelineId}. */
    static String throughKey(String pipelineId) {
        return "tidemark.points-through." + pipelineId;
    }

    /**
     * Publishes the point of checkpoint {@code checkpointId} of {@code lineage}: {@code snapshots}
     * per target table (null: the table has no snapshot yet, it is empty), unless it is published
     * or names the same snapshots as the last one (a checkpoint that changed no table: that point
     * still holds).
     */
    void publish(
            String lineage,
            long checkpointId,
            Map<String, Long> snapshots,
            String positions,
            String validThrough) {
        if (snapshots.equals(published)) {
            return;
        }
        Table table = catalog.loadTable(identifier);
        String through = table.properties().get(throughKey(pipelineId));
        long pointId = 1;
        if (through != null) {
            String[] parts = through.split(" ");
            if (parts[0].equals(lineage) && Long.parseLong(parts[1]) >= checkpointId) {
                LOG.info(
                        "The point of checkpoint {} of lineage {} is already in {}",
                        checkpointId,
                        lineage,
                        identifier);
                published = new java.util.HashMap<>(snapshots);
                return;
            }
            pointId = Long.parseLong(parts[2]) + 1;
        }
        OffsetDateTime now = Instant.now().atOffset(ZoneOffset.UTC);
        DataFile file =
                write(
                        table,
                        pointId,
                        lineage,
                        checkpointId,
                        now,
                        snapshots,
                        positions,
                        validThrough);
        Transaction transaction = table.newTransaction();
        transaction.newAppend().appendFile(file).commit();
        transaction
                .updateProperties()
                .set(throughKey(pipelineId), lineage + " " + checkpointId + " " + pointId)
                .commit();
        transaction.commitTransaction();
        published = new java.util.HashMap<>(snapshots);
        if (pointId % TIDY_EVERY == 0) {
            tidy(pointId);
        }
    }

    private DataFile write(
            Table table,
            long pointId,
            String lineage,
            long checkpointId,
            OffsetDateTime now,
            Map<String, Long> snapshots,
            String positions,
            String validThrough) {
        OutputFile out =
                table.io()
                        .newOutputFile(
                                table.locationProvider()
                                        .newDataLocation(
                                                String.format(
                                                        "point-%s-%d-%s.parquet",
                                                        pipelineId, pointId, UUID.randomUUID())));
        DataWriter<Record> writer;
        try {
            writer =
                    new GenericAppenderFactory(table.schema(), table.spec())
                            .newDataWriter(
                                    org.apache.iceberg.encryption.EncryptedFiles
                                            .plainAsEncryptedOutput(out),
                                    FileFormat.PARQUET,
                                    null);
            try (DataWriter<Record> rows = writer) {
                for (Map.Entry<String, Long> entry : snapshots.entrySet()) {
                    GenericRecord row = GenericRecord.create(table.schema());
                    row.setField("pipeline_id", pipelineId);
                    row.setField("point_id", pointId);
                    row.setField("lineage", lineage);
                    row.setField("checkpoint_id", checkpointId);
                    row.setField("committed_at", now);
                    row.setField("table_name", entry.getKey());
                    row.setField("snapshot_id", entry.getValue());
                    row.setField("source_positions", positions);
                    row.setField("valid_through", validThrough);
                    rows.write(row);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing a point to " + identifier, e);
        }
        return writer.toDataFile();
    }

    /** Deletes the points before the newest {@link #retain} and expires old snapshots. */
    private void tidy(long pointId) {
        try {
            catalog.loadTable(identifier)
                    .newDelete()
                    .deleteFromRowFilter(
                            Expressions.and(
                                    Expressions.equal("pipeline_id", pipelineId),
                                    Expressions.lessThanOrEqual("point_id", pointId - retain)))
                    .commit();
            catalog.loadTable(identifier)
                    .expireSnapshots()
                    .expireOlderThan(System.currentTimeMillis())
                    .retainLast(10)
                    .commit();
        } catch (RuntimeException e) {
            // the points stay readable; the next tidy tries again
            LOG.warn("Could not remove old points from {}", identifier, e);
        }
    }
}
