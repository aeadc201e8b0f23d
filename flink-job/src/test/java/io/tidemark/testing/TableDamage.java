package io.tidemark.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.encryption.EncryptedFiles;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.types.Types;

/**
 * Damage done to a replica through Iceberg, as a stray job or a hand-written fix would, for the
 * tests of its repair: keys {@code offset + 1 .. offset + 80} deleted by equality deletes, keys
 * {@code offset + 51 .. offset + 80} written back with other values, keys {@code offset + 900001 ..
 * offset + 900020} added. The diff then counts 50 missing, 30 stale and 20 extra rows.
 */
public final class TableDamage {

    /** The row of key {@code id} with {@code v} and {@code n} in the table's own schema. */
    @FunctionalInterface
    public interface Rows {
        Record row(Schema schema, long id, String v, int n);
    }

    private TableDamage() {}

    public static void corrupt(Table table, long offset, Rows rows) throws IOException {
        corrupt(table, offset, rows, 80);
    }

    /**
     * As {@link #corrupt(Table, long, Rows)} with {@code deleted} keys deleted (from {@code offset}
     * + 1), the last 30 of them written back altered.
     */
    public static void corrupt(Table table, long offset, Rows rows, int deleted)
            throws IOException {
        Schema schema = table.schema();
        List<String> keyColumns = new ArrayList<>();
        for (Types.NestedField column : schema.columns()) {
            if (schema.identifierFieldIds().contains(column.fieldId())) {
                keyColumns.add(column.name());
            }
        }
        Schema key = schema.select(keyColumns);
        GenericAppenderFactory factory =
                new GenericAppenderFactory(
                        schema,
                        PartitionSpec.unpartitioned(),
                        schema.identifierFieldIds().stream().mapToInt(Integer::intValue).toArray(),
                        key,
                        null);
        OutputFile deletes =
                table.io()
                        .newOutputFile(
                                table.locationProvider()
                                        .newDataLocation("corrupt-deletes-" + offset + ".parquet"));
        EqualityDeleteWriter<Record> deleteWriter =
                factory.newEqDeleteWriter(
                        EncryptedFiles.plainAsEncryptedOutput(deletes), FileFormat.PARQUET, null);
        try (deleteWriter) {
            for (long id = offset + 1; id <= offset + deleted; id++) {
                Record row = rows.row(schema, id, "", 0);
                GenericRecord record = GenericRecord.create(key);
                for (String column : keyColumns) {
                    record.setField(column, row.getField(column));
                }
                deleteWriter.write(record);
            }
        }
        DeleteFile deleteFile = deleteWriter.toDeleteFile();
        List<Record> written = new ArrayList<>();
        for (long id = offset + deleted - 29; id <= offset + deleted; id++) {
            written.add(rows.row(schema, id, "altered by hand", -1));
        }
        for (long id = offset + 900_001; id <= offset + 900_020; id++) {
            written.add(rows.row(schema, id, "never in the source", -1));
        }
        DataFile dataFile = IcebergFiles.parquet(table, written);
        table.newRowDelta().addDeletes(deleteFile).addRows(dataFile).commit();
    }
}
