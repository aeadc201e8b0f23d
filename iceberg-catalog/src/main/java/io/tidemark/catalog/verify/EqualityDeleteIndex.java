package io.tidemark.catalog.verify;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.formats.FormatModelRegistry;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.types.TypeUtil;

/**
 * The equality deletes of one planned read, each delete file read once: for every set of equality
 * columns, a map from a deleted key to the delete files that hold it. A row of a data file is
 * deleted when one of those files is among the ones Iceberg's planning attached to that data file
 * (which already holds the sequence-number and partition rules), so one map serves every data file
 * instead of a set built per data file from every delete file again.
 */
final class EqualityDeleteIndex {

    /**
     * The deleted keys of one set of equality columns, and a filter of their hashes in front of
     * them: most rows of a read are not deleted, and a bit of a compact array tells them at one
     * memory access instead of a lookup in a map larger than the processor's caches.
     */
    static final class Group {
        private final Set<Integer> fieldIds;
        private final Map<Object, int[]> files = new HashMap<>();
        private final BitSet numbers = new BitSet();
        private long[] hashes = new long[0];
        private int shift = 64;

        Group(Set<Integer> fieldIds) {
            this.fieldIds = fieldIds;
        }

        Set<Integer> fieldIds() {
            return fieldIds;
        }

        private void add(Object key, int file) {
            int[] holders = files.get(key);
            if (holders == null) {
                files.put(key, new int[] {file});
            } else if (holders[holders.length - 1] != file) {
                int[] more = Arrays.copyOf(holders, holders.length + 1);
                more[holders.length] = file;
                files.put(key, more);
            }
        }

        /**
         * Fills the filter of hashes once every key is in: 64 bits a key at least, at most 2^30
         * bits (128 MiB; beyond 16 million keys more of them pass to the map).
         */
        private void seal() {
            int keys = Math.min(files.size(), 1 << 24);
            int bits = Integer.highestOneBit(Math.max(1 << 10, keys * 64 - 1)) << 1;
            hashes = new long[bits >>> 6];
            shift = 64 - Integer.numberOfTrailingZeros(bits);
            for (Object key : files.keySet()) {
                int bit = bit(key);
                hashes[bit >>> 6] |= 1L << bit;
            }
        }

        private int bit(Object key) {
            return (int) ((Objects.hashCode(key) * 0x9E3779B97F4A7C15L) >>> shift);
        }

        /** Whether one of this group's delete files is among {@code applicable}. */
        boolean appliesTo(BitSet applicable) {
            return numbers.intersects(applicable);
        }

        /** Whether {@code key} is deleted by one of the files in {@code applicable}. */
        boolean deletes(Object key, BitSet applicable) {
            int bit = bit(key);
            if ((hashes[bit >>> 6] & (1L << bit)) == 0) {
                return false;
            }
            int[] holders = files.get(key);
            if (holders == null) {
                return false;
            }
            for (int file : holders) {
                if (applicable.get(file)) {
                    return true;
                }
            }
            return false;
        }
    }

    private final Map<String, Integer> fileNumbers = new HashMap<>();
    private final Map<Set<Integer>, Group> groups = new LinkedHashMap<>();

    private EqualityDeleteIndex() {}

    /** Every equality-delete file of {@code tasks}, read once. */
    static EqualityDeleteIndex load(FileIO io, Schema tableSchema, List<FileScanTask> tasks) {
        EqualityDeleteIndex index = new EqualityDeleteIndex();
        for (FileScanTask task : tasks) {
            for (DeleteFile delete : task.deletes()) {
                if (delete.content() == FileContent.EQUALITY_DELETES
                        && !index.fileNumbers.containsKey(delete.location())) {
                    index.read(io, tableSchema, delete);
                }
            }
        }
        index.groups.values().forEach(Group::seal);
        return index;
    }

    private void read(FileIO io, Schema tableSchema, DeleteFile delete) {
        int number = fileNumbers.size();
        fileNumbers.put(delete.location(), number);
        Set<Integer> fieldIds = new TreeSet<>(delete.equalityFieldIds());
        Group group = groups.computeIfAbsent(fieldIds, Group::new);
        group.numbers.set(number);
        Schema deleteSchema = TypeUtil.select(tableSchema, fieldIds);
        int[] positions = positions(deleteSchema, fieldIds);
        try (CloseableIterable<Record> keys =
                FormatModelRegistry.readBuilder(
                                delete.format(), Record.class, io.newInputFile(delete))
                        .project(deleteSchema)
                        .build()) {
            for (Record key : keys) {
                group.add(key(key, positions), number);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Iterable<Group> groups() {
        return groups.values();
    }

    /** The delete files of this index that Iceberg's planning attached to {@code task}. */
    BitSet applicable(FileScanTask task) {
        BitSet applicable = new BitSet(fileNumbers.size());
        for (DeleteFile delete : task.deletes()) {
            Integer number = fileNumbers.get(delete.location());
            if (number != null) {
                applicable.set(number);
            }
        }
        return applicable;
    }

    /** The positions in {@code schema}'s columns of {@code fieldIds}, in the ids' order. */
    static int[] positions(Schema schema, Set<Integer> fieldIds) {
        int[] positions = new int[fieldIds.size()];
        int i = 0;
        for (int fieldId : fieldIds) {
            positions[i++] = schema.columns().indexOf(schema.findField(fieldId));
        }
        return positions;
    }

    /**
     * The key of {@code record} at {@code positions}: the value itself for one column, a list for
     * several; values that do not compare by content (a {@code fixed} column's bytes, a char
     * sequence other than a string) made ones that do.
     */
    static Object key(Record record, int[] positions) {
        if (positions.length == 1) {
            return comparable(record.get(positions[0]));
        }
        List<Object> key = new ArrayList<>(positions.length);
        for (int position : positions) {
            key.add(comparable(record.get(position)));
        }
        return key;
    }

    private static Object comparable(Object value) {
        if (value instanceof byte[] bytes) {
            return ByteBuffer.wrap(bytes);
        }
        if (value instanceof CharSequence text && !(value instanceof String)) {
            return text.toString();
        }
        return value;
    }
}
