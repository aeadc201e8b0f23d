package io.tidemark.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DeleteFold} on a real Iceberg table (a Hadoop catalog in a temporary directory), written
 * as the pipeline's writers write it: per commit one data file of the upserted rows, one
 * equality-delete file of every key changed, and position deletes for a key changed twice in the
 * commit. Random changes over a table of old rows, folds between them: after every commit the
 * table's rows equal a model of the changes (keys deleted and inserted again in later commits, in
 * the same commit, rows of the old file and of the folded one), a fold changes no row and leaves
 * one data file and one equality-delete file for the commits it folded; a fold planned on a
 * snapshot and committed after more commits leaves their rows as they are; the delete files a
 * compaction leaves (applying to no live data file) are neither folded nor removed (the committer
 * removes them).
 */
class DeleteFoldTest {

    private static final Schema SCHEMA =
            new Schema(
                    List.of(
                            Types.NestedField.required(1, "id", Types.LongType.get()),
                            Types.NestedField.optional(2, "v", Types.StringType.get())),
                    Set.of(1));

    private static final Schema KEY = SCHEMA.select("id");

    private static final Map<String, String> STAMP =
            Map.of(Provenance.RUN_ID, "run-fold", Provenance.CODE_VERSION, "test");

    private static final int OLD_ROWS = 20_000;

    @TempDir Path warehouse;

    private Table table;

    /** The rows the table must hold: id -> v. */
    private final Map<Long, String> model = new TreeMap<>();

    @BeforeEach
    void createTable() throws Exception {
        HadoopCatalog catalog =
                new HadoopCatalog(
                        new org.apache.hadoop.conf.Configuration(), warehouse.toUri().toString());
        table =
                catalog.createTable(
                        TableIdentifier.of("ns", "t"),
                        SCHEMA,
                        PartitionSpec.unpartitioned(),
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
        // the old rows: one file, as a compaction leaves them
        Map<Long, String> old = new LinkedHashMap<>();
        for (long id = 0; id < OLD_ROWS; id++) {
            old.put(id, "old-" + id);
        }
        DataFile file = writeRows(new ArrayList<>(old.entrySet())).file();
        table.newAppend().appendFile(file).commit();
        model.putAll(old);
    }

    @Test
    void aFoldChangesNoRowAndLaterChangesApplyToEveryFile() throws Exception {
        Random random = new Random(20261206L);
        int folds = 0;
        for (int commit = 0; commit < 60; commit++) {
            commitChanges(random, 40);
            assertThat(rows()).as("rows after commit %d", commit).isEqualTo(model);
            if (commit % 7 == 6) {
                Snapshot before = table.currentSnapshot();
                int folded = DeleteFold.fold(table, STAMP);
                assertThat(folded).as("files folded at commit %d", commit).isGreaterThan(0);
                folds++;
                Snapshot after = table.currentSnapshot();
                assertThat(after.parentId()).isEqualTo(before.snapshotId());
                assertThat(after.operation()).isEqualTo("replace");
                assertThat(after.summary())
                        .containsEntry(Provenance.DELETES_FOLDED, Integer.toString(folded))
                        .containsEntry(Provenance.MAINTENANCE, DeleteFold.TASK)
                        .containsEntry(Provenance.RUN_ID, "run-fold");
                // the old file, the folded rows, the folded keys
                assertThat(after.summary().get("total-data-files")).isEqualTo("2");
                assertThat(after.summary().get("total-delete-files")).isEqualTo("1");
                assertThat(rows()).as("rows after the fold at commit %d", commit).isEqualTo(model);
            }
        }
        assertThat(folds).isEqualTo(8);
    }

    @Test
    void aFoldCommittedAfterMoreCommitsLeavesTheirRowsAsTheyAre() throws Exception {
        Random random = new Random(7L);
        for (int round = 0; round < 6; round++) {
            for (int commit = 0; commit < 5; commit++) {
                commitChanges(random, 40);
            }
            // planned and written, then the pipeline commits again before the fold does: hot
            // keys the folded deletes hold are inserted again, changed and deleted
            DeleteFold fold = DeleteFold.prepare(table, table.currentSnapshot());
            assertThat(fold).isNotNull();
            for (int commit = 0; commit < 3; commit++) {
                commitChanges(random, 40);
            }
            Snapshot before = table.currentSnapshot();
            assertThat(fold.commit(STAMP)).isGreaterThan(0);
            table.refresh();
            assertThat(table.currentSnapshot().parentId()).isEqualTo(before.snapshotId());
            assertThat(rows()).as("rows after the fold of round %d", round).isEqualTo(model);
            commitChanges(random, 40);
            assertThat(rows())
                    .as("rows after a commit on the fold of round %d", round)
                    .isEqualTo(model);
        }
    }

    @Test
    void theDeleteFilesACompactionLeavesAreNeitherFoldedNorTouched() throws Exception {
        Random random = new Random(11L);
        for (int commit = 0; commit < 6; commit++) {
            commitChanges(random, 40);
        }
        // a compaction as Iceberg's: every row in one file at the sequence number it started
        // from, every delete file left in the table (none applies to the new file)
        Snapshot start = table.currentSnapshot();
        List<Map.Entry<Long, String>> all = new ArrayList<>(model.entrySet());
        DataFile compacted = writeRows(all).file();
        org.apache.iceberg.RewriteFiles rewrite =
                table.newRewrite()
                        .validateFromSnapshot(start.snapshotId())
                        .dataSequenceNumber(start.sequenceNumber());
        liveDataFiles().forEach(rewrite::deleteFile);
        rewrite.addFile(compacted).commit();
        int leftover =
                Integer.parseInt(table.currentSnapshot().summary().get("total-delete-files"));
        for (int commit = 0; commit < 4; commit++) {
            commitChanges(random, 40);
        }
        assertThat(leftover).isPositive();
        assertThat(DeleteFold.fold(table, STAMP)).isPositive();
        Snapshot after = table.currentSnapshot();
        // the compacted file kept, the folded rows; the folded keys beside what the compaction
        // left, untouched
        assertThat(after.summary().get("total-data-files")).isEqualTo("2");
        assertThat(after.summary().get("total-delete-files"))
                .isEqualTo(Integer.toString(leftover + 1));
        assertThat(liveDataFiles()).extracting(DataFile::location).contains(compacted.location());
        assertThat(rows()).isEqualTo(model);
    }

    private List<DataFile> liveDataFiles() throws Exception {
        table.refresh();
        List<DataFile> files = new ArrayList<>();
        try (CloseableIterable<org.apache.iceberg.FileScanTask> tasks =
                table.newScan().planFiles()) {
            tasks.forEach(task -> files.add(task.file()));
        }
        return files;
    }

    /** One commit of {@code changes} random upserts and deletes, as the pipeline writes them. */
    private void commitChanges(Random random, int changes) throws Exception {
        List<Map.Entry<Long, String>> upserts = new ArrayList<>();
        Map<Long, Integer> positionInCommit = new HashMap<>();
        List<Long> positionDeletes = new ArrayList<>();
        Set<Long> changedKeys = new java.util.LinkedHashSet<>();
        for (int i = 0; i < changes; i++) {
            // half on 50 hot keys, old ones and new ones: keys change again in the same commit
            // and in later ones, are deleted and inserted again; half anywhere in the old rows
            long id =
                    random.nextBoolean()
                            ? OLD_ROWS - 25 + random.nextInt(50)
                            : random.nextInt(OLD_ROWS);
            changedKeys.add(id);
            Integer earlier = positionInCommit.remove(id);
            if (earlier != null) {
                positionDeletes.add((long) earlier);
            }
            if (random.nextInt(4) == 0) {
                model.remove(id);
            } else {
                String value = UUID.randomUUID().toString();
                positionInCommit.put(id, upserts.size());
                upserts.add(Map.entry(id, value));
                model.put(id, value);
            }
        }
        Written rows = writeRows(upserts);
        RowDelta delta = table.newRowDelta().addDeletes(writeKeys(changedKeys));
        if (rows.file() != null) {
            delta.addRows(rows.file());
            if (!positionDeletes.isEmpty()) {
                delta.addDeletes(writePositions(rows.file().location(), positionDeletes));
            }
        }
        delta.commit();
    }

    private record Written(DataFile file) {}

    private Written writeRows(List<Map.Entry<Long, String>> rows) throws Exception {
        if (rows.isEmpty()) {
            return new Written(null);
        }
        DataWriter<Record> writer =
                new GenericAppenderFactory(SCHEMA, PartitionSpec.unpartitioned())
                        .newDataWriter(
                                EncryptedFiles.plainAsEncryptedOutput(newFile()),
                                FileFormat.PARQUET,
                                null);
        try (writer) {
            for (Map.Entry<Long, String> row : rows) {
                GenericRecord record = GenericRecord.create(SCHEMA);
                record.set(0, row.getKey());
                record.set(1, row.getValue());
                writer.write(record);
            }
        }
        return new Written(writer.toDataFile());
    }

    private DeleteFile writeKeys(Set<Long> keys) throws Exception {
        EqualityDeleteWriter<Record> writer =
                new GenericAppenderFactory(
                                SCHEMA, PartitionSpec.unpartitioned(), new int[] {1}, KEY, null)
                        .newEqDeleteWriter(
                                EncryptedFiles.plainAsEncryptedOutput(newFile()),
                                FileFormat.PARQUET,
                                null);
        try (writer) {
            for (long id : keys) {
                GenericRecord key = GenericRecord.create(KEY);
                key.set(0, id);
                writer.write(key);
            }
        }
        return writer.toDeleteFile();
    }

    private DeleteFile writePositions(String dataFile, List<Long> positions) throws Exception {
        // the table's metrics for position deletes: the data file's path whole in the bounds, as
        // Iceberg's Flink writers keep it
        PositionDeleteWriter<Record> writer =
                new GenericAppenderFactory(
                                table,
                                SCHEMA,
                                PartitionSpec.unpartitioned(),
                                Map.of(),
                                null,
                                null,
                                null)
                        .newPosDeleteWriter(
                                EncryptedFiles.plainAsEncryptedOutput(newFile()),
                                FileFormat.PARQUET,
                                null);
        try (writer) {
            for (long position : positions.stream().sorted().toList()) {
                PositionDelete<Record> delete = PositionDelete.create();
                writer.write(delete.set(dataFile, position, null));
            }
        }
        return writer.toDeleteFile();
    }

    private OutputFile newFile() {
        return table.io()
                .newOutputFile(
                        table.locationProvider().newDataLocation(UUID.randomUUID() + ".parquet"));
    }

    /** The table's rows, read by Iceberg's generic reader (not the fold's own reader). */
    private Map<Long, String> rows() throws Exception {
        table.refresh();
        Map<Long, String> rows = new TreeMap<>();
        try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
            for (Record record : records) {
                String previous = rows.put((Long) record.get(0), (String) record.get(1));
                assertThat(previous).as("a second row of key %s", record.get(0)).isNull();
            }
        }
        return rows;
    }
}
