package io.tidemark.catalog.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
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
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.hadoop.HadoopCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TableRows} on a real Iceberg table (a Hadoop catalog in a temporary directory) with data
 * files, equality deletes of several ages and a position delete: the rows it reads are exactly
 * those Iceberg's generic reader reads, at the newest snapshot and an older one, every column or
 * one.
 */
class TableRowsTest {

    private static final Schema SCHEMA =
            new Schema(
                    List.of(
                            Types.NestedField.required(1, "id", Types.LongType.get()),
                            Types.NestedField.optional(2, "name", Types.StringType.get())),
                    Set.of(1));

    private static final Schema KEY = SCHEMA.select("id");

    @TempDir Path warehouse;

    private Table table;
    private GenericAppenderFactory files;
    private int fileNumber;

    @BeforeEach
    void createTable() {
        table = createTable("t", SCHEMA);
        files =
                new GenericAppenderFactory(
                        SCHEMA, PartitionSpec.unpartitioned(), new int[] {1}, KEY);
    }

    private Table createTable(String name, Schema schema) {
        HadoopCatalog catalog =
                new HadoopCatalog(
                        new org.apache.hadoop.conf.Configuration(), warehouse.toUri().toString());
        return catalog.createTable(
                TableIdentifier.of("ns", name),
                schema,
                PartitionSpec.unpartitioned(),
                Map.of(TableProperties.FORMAT_VERSION, "2"));
    }

    @Test
    void readsExactlyWhatIcebergsReaderReads() {
        DataFile first = data(LongStream.rangeClosed(1, 100), "v1");
        table.newAppend().appendFile(first).commit();
        long afterFirst = table.currentSnapshot().snapshotId();
        // an update of 50..60: their new versions and an equality delete of the old ones
        DataFile updates = data(LongStream.rangeClosed(50, 60), "v2");
        table.newRowDelta().addRows(updates).addDeletes(equality(50, 60)).commit();
        long afterUpdates = table.currentSnapshot().snapshotId();
        // deletes of 1..5 (equality, applying to both files) and of 50 (its position in updates)
        table.newRowDelta().addDeletes(equality(1, 5)).addDeletes(position(updates, 0)).commit();
        // 1..3 inserted again, younger than the delete of 1..5
        table.newAppend().appendFile(data(LongStream.rangeClosed(1, 3), "v3")).commit();
        long newest = table.currentSnapshot().snapshotId();

        List<String> expected = new ArrayList<>();
        LongStream.rangeClosed(1, 3).forEach(id -> expected.add(id + "=v3"));
        LongStream.rangeClosed(6, 49).forEach(id -> expected.add(id + "=v1"));
        LongStream.rangeClosed(51, 60).forEach(id -> expected.add(id + "=v2"));
        LongStream.rangeClosed(61, 100).forEach(id -> expected.add(id + "=v1"));
        assertThat(rows(TableRows.read(table, newest)))
                .containsExactlyInAnyOrderElementsOf(expected);
        for (long snapshot : List.of(afterFirst, afterUpdates, newest)) {
            assertThat(rows(TableRows.read(table, snapshot)))
                    .as("snapshot %s", snapshot)
                    .containsExactlyInAnyOrderElementsOf(
                            rows(IcebergGenerics.read(table).useSnapshot(snapshot).build()));
        }
        assertThat(ids(TableRows.read(table, newest, List.of("id"))))
                .containsExactlyInAnyOrderElementsOf(
                        expected.stream().map(row -> Long.valueOf(row.split("=")[0])).toList());
    }

    @Test
    void readsASnapshotOlderThanAColumn() {
        table.newAppend().appendFile(data(LongStream.rangeClosed(1, 3), "v1")).commit();
        long before = table.currentSnapshot().snapshotId();
        table.updateSchema().addColumn("added", Types.IntegerType.get()).commit();
        table.newRowDelta().addDeletes(equality(2, 2)).commit();

        assertThat(rows(TableRows.read(table, before)))
                .containsExactlyInAnyOrder("1=v1", "2=v1", "3=v1");
        assertThat(rows(TableRows.read(table, table.currentSnapshot().snapshotId())))
                .containsExactlyInAnyOrder("1=v1", "3=v1");
    }

    @Test
    void appliesDeletesOfSeveralColumnSetsAndBinaryKeys() {
        Schema schema =
                new Schema(
                        List.of(
                                Types.NestedField.required(1, "region", Types.StringType.get()),
                                Types.NestedField.required(2, "id", Types.IntegerType.get()),
                                Types.NestedField.optional(3, "tag", Types.FixedType.ofLength(2))),
                        Set.of(1, 2));
        table = createTable("composite", schema);
        GenericAppenderFactory byKey =
                new GenericAppenderFactory(
                        schema,
                        PartitionSpec.unpartitioned(),
                        new int[] {1, 2},
                        schema.select("region", "id"),
                        null);
        GenericAppenderFactory byTag =
                new GenericAppenderFactory(
                        schema,
                        PartitionSpec.unpartitioned(),
                        new int[] {3},
                        schema.select("tag"),
                        null);
        List<Record> rows = new ArrayList<>();
        for (String region : List.of("eu", "us")) {
            for (int id = 1; id <= 4; id++) {
                Record row = GenericRecord.create(schema);
                row.setField("region", region);
                row.setField("id", id);
                row.setField("tag", new byte[] {(byte) id, 0});
                rows.add(row);
            }
        }
        DataWriter<Record> data = byKey.newDataWriter(output(), FileFormat.PARQUET, null);
        try (data) {
            rows.forEach(data::write);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // ("eu", 2) by the key; every row tagged {3, 0} by the tag
        Record key = GenericRecord.create(schema.select("region", "id"));
        key.setField("region", "eu");
        key.setField("id", 2);
        Record tag = GenericRecord.create(schema.select("tag"));
        tag.setField("tag", new byte[] {3, 0});
        table.newAppend().appendFile(data.toDataFile()).commit();
        table.newRowDelta()
                .addDeletes(equalityOf(byKey, List.of(key)))
                .addDeletes(equalityOf(byTag, List.of(tag)))
                .commit();

        List<String> read = new ArrayList<>();
        try (CloseableIterable<Record> records =
                TableRows.read(table, table.currentSnapshot().snapshotId())) {
            records.forEach(r -> read.add(r.getField("region") + "/" + r.getField("id")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        assertThat(read).containsExactlyInAnyOrder("eu/1", "eu/4", "us/1", "us/2", "us/4");
    }

    private DeleteFile equalityOf(GenericAppenderFactory factory, List<Record> keys) {
        EqualityDeleteWriter<Record> writer =
                factory.newEqDeleteWriter(output(), FileFormat.PARQUET, null);
        try (writer) {
            keys.forEach(writer::write);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return writer.toDeleteFile();
    }

    private static List<String> rows(CloseableIterable<Record> records) {
        List<String> rows = new ArrayList<>();
        try (records) {
            records.forEach(r -> rows.add(r.getField("id") + "=" + r.getField("name")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rows;
    }

    private static List<Long> ids(CloseableIterable<Record> records) {
        List<Long> ids = new ArrayList<>();
        try (records) {
            records.forEach(r -> ids.add((Long) r.getField("id")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ids;
    }

    private DataFile data(LongStream ids, String name) {
        DataWriter<Record> writer = files.newDataWriter(output(), FileFormat.PARQUET, null);
        try (writer) {
            ids.forEach(
                    id -> {
                        Record record = GenericRecord.create(SCHEMA);
                        record.setField("id", id);
                        record.setField("name", name);
                        writer.write(record);
                    });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return writer.toDataFile();
    }

    private DeleteFile equality(long from, long to) {
        List<Record> keys = new ArrayList<>();
        LongStream.rangeClosed(from, to)
                .forEach(
                        id -> {
                            Record key = GenericRecord.create(KEY);
                            key.setField("id", id);
                            keys.add(key);
                        });
        return equalityOf(files, keys);
    }

    private DeleteFile position(DataFile file, long position) {
        PositionDeleteWriter<Record> writer =
                files.newPosDeleteWriter(output(), FileFormat.PARQUET, null);
        try (writer) {
            writer.write(PositionDelete.<Record>create().set(file.location(), position));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return writer.toDeleteFile();
    }

    private EncryptedOutputFile output() {
        String location =
                table.locationProvider().newDataLocation("f-" + fileNumber++ + ".parquet");
        return EncryptedFiles.plainAsEncryptedOutput(table.io().newOutputFile(location));
    }
}
