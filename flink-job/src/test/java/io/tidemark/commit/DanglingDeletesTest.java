package io.tidemark.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tidemark.catalog.provenance.Provenance;
import io.tidemark.runtime.RunContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileMetadata;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DanglingDeletes} on a real Iceberg table (a Hadoop catalog in a temporary directory),
 * committed to as the pipeline and a compaction commit: after the rewrite, exactly the delete files
 * no live data file is old enough for are removed (an equality delete at or below the oldest data
 * sequence number, a position delete below it), in one snapshot carrying the run; those that still
 * apply stay, and a table with no rewrite since the last check is not touched.
 */
class DanglingDeletesTest {

    private static final Schema SCHEMA =
            new Schema(
                    List.of(Types.NestedField.required(1, "id", Types.LongType.get())), Set.of(1));

    private static final RunContext RUN = new RunContext("run-dd", "pipeline-dd", "test-version");

    @TempDir Path warehouse;

    private Table table;

    @BeforeEach
    void createTable() {
        HadoopCatalog catalog =
                new HadoopCatalog(
                        new org.apache.hadoop.conf.Configuration(), warehouse.toUri().toString());
        table =
                catalog.createTable(
                        TableIdentifier.of("ns", "t"),
                        SCHEMA,
                        PartitionSpec.unpartitioned(),
                        Map.of(TableProperties.FORMAT_VERSION, "2"));
    }

    @Test
    void removesExactlyTheDeletesNoDataFileIsOldEnoughForAfterARewrite() {
        DataFile first = data("first"); // sequence 1
        table.newAppend().appendFile(first).commit();
        DeleteFile equalityBeforeRewrite = equality("eq-2");
        DeleteFile positionBeforeRewrite = position("pos-2");
        DeleteFile positionOfFirst =
                deleteFile("pos-of-first")
                        .ofPositionDeletes()
                        .withReferencedDataFile(first.location())
                        .build();
        table.newRowDelta() // sequence 2
                .addDeletes(equalityBeforeRewrite)
                .addDeletes(positionBeforeRewrite)
                .commit();
        DanglingDeletes dangling = new DanglingDeletes(RUN);
        long beforeRewrite = table.currentSnapshot().snapshotId();
        dangling.afterCommit("ns.t", table);
        assertThat(table.currentSnapshot().snapshotId())
                .as("before any rewrite every delete applies to the first data file")
                .isEqualTo(beforeRewrite);

        DataFile second = data("second");
        DeleteFile equalityAtRewriteStart = equality("eq-3");
        DeleteFile positionAtRewriteStart = position("pos-3");
        table.newRowDelta() // sequence 3
                .addRows(second)
                .addDeletes(equalityAtRewriteStart)
                .addDeletes(positionAtRewriteStart)
                .addDeletes(positionOfFirst)
                .commit();
        long rewriteStart = table.currentSnapshot().sequenceNumber();
        // a compaction that started at sequence 3 rewrites the first file, its deletes applied,
        // and removes the position delete of that file alone, both as its scan planned them:
        // Iceberg's commit then looks at no other delete file
        FileScanTask planned = planned(first);
        DeleteFile plannedPositionOfFirst =
                planned.deletes().stream()
                        .filter(d -> d.location().equals(positionOfFirst.location()))
                        .findFirst()
                        .orElseThrow();
        table.newRewrite()
                .validateFromSnapshot(table.currentSnapshot().snapshotId())
                .rewriteFiles(
                        Set.of(planned.file()),
                        Set.of(plannedPositionOfFirst),
                        Set.of(data("first-compacted")),
                        Set.of())
                .dataSequenceNumber(rewriteStart)
                .commit();
        DeleteFile equalityAfterRewrite = equality("eq-5");
        table.newRowDelta().addDeletes(equalityAfterRewrite).commit(); // sequence 5
        assertThat(paths(liveDeletes())).hasSize(5);

        dangling.afterCommit("ns.t", table);

        // the oldest data file is at sequence 3: equality deletes at 2 and 3 match nothing, the
        // position delete at 2 neither; the position delete at 3 still applies to sequence 3
        assertThat(paths(liveDeletes()))
                .containsExactlyInAnyOrder(
                        positionAtRewriteStart.location(), equalityAfterRewrite.location());
        Snapshot removal = table.currentSnapshot();
        assertThat(removal.operation()).isEqualTo("replace");
        assertThat(removal.summary())
                .containsEntry(Provenance.DANGLING_DELETES_REMOVED, "3")
                .containsEntry(Provenance.RUN_ID, "run-dd")
                .containsEntry(Provenance.CODE_VERSION, "test-version")
                .doesNotContainKey(Provenance.PIPELINE_ID)
                .containsEntry("removed-delete-files", "3")
                .doesNotContainKey("deleted-data-files");
        assertThat(table.newScan().planFiles()).hasSize(2);

        // a commit without a rewrite since: not checked again, nothing committed
        table.newRowDelta().addDeletes(equality("eq-7")).commit();
        long afterAppend = table.currentSnapshot().snapshotId();
        dangling.afterCommit("ns.t", table);
        assertThat(table.currentSnapshot().snapshotId()).isEqualTo(afterAppend);
    }

    @Test
    void anEqualityDeleteAtTheOldestDataSequenceNumberIsDanglingAPositionDeleteIsNot() {
        DeleteFile equality = equality("eq");
        DeleteFile position = position("pos");
        table.newRowDelta().addRows(data("d")).addDeletes(equality).addDeletes(position).commit();
        Snapshot snapshot = table.currentSnapshot();
        long sequence = snapshot.sequenceNumber();
        List<DeleteFile> live = liveDeletes();
        assertThat(live).allSatisfy(f -> assertThat(f.dataSequenceNumber()).isEqualTo(sequence));
        for (DeleteFile file : live) {
            boolean isEquality = file.location().equals(equality.location());
            assertThat(DanglingDeletes.appliesToData(file, sequence))
                    .as(file.location())
                    .isEqualTo(!isEquality);
            assertThat(DanglingDeletes.appliesToData(file, sequence - 1)).isTrue();
            assertThat(DanglingDeletes.appliesToData(file, sequence + 1)).isFalse();
        }
        assertThat(paths(DanglingDeletes.find(table, snapshot)))
                .containsExactly(equality.location());
    }

    private FileScanTask planned(DataFile file) {
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            for (FileScanTask task : tasks) {
                if (task.file().location().equals(file.location())) {
                    return task;
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        throw new AssertionError(file.location() + " is not live");
    }

    private List<DeleteFile> liveDeletes() {
        List<DeleteFile> files = new ArrayList<>();
        for (ManifestFile manifest : table.currentSnapshot().deleteManifests(table.io())) {
            try (ManifestReader<DeleteFile> reader =
                    ManifestFiles.readDeleteManifest(manifest, table.io(), table.specs())) {
                reader.forEach(f -> files.add(f.copyWithoutStats()));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return files;
    }

    private static List<String> paths(List<DeleteFile> files) {
        return files.stream().map(DeleteFile::location).toList();
    }

    private DataFile data(String name) {
        return DataFiles.builder(PartitionSpec.unpartitioned())
                .withPath(table.location() + "/data/" + name + ".parquet")
                .withFormat(FileFormat.PARQUET)
                .withFileSizeInBytes(100)
                .withRecordCount(10)
                .build();
    }

    private DeleteFile equality(String name) {
        return deleteFile(name).ofEqualityDeletes(1).build();
    }

    private DeleteFile position(String name) {
        return deleteFile(name).ofPositionDeletes().build();
    }

    private FileMetadata.Builder deleteFile(String name) {
        return FileMetadata.deleteFileBuilder(PartitionSpec.unpartitioned())
                .withPath(table.location() + "/data/" + name + ".parquet")
                .withFormat(FileFormat.PARQUET)
                .withFileSizeInBytes(50)
                .withRecordCount(1);
    }
}
