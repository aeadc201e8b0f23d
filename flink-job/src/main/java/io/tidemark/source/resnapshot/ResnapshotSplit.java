package io.tidemark.source.resnapshot;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * One re-snapshot to run: request {@code request} to re-read {@code sourceTable} into {@code
 * target}, limited to the keys of the fingerprints {@code keys} when there are any, or to those in
 * the file {@code keysFile} (a path of the table's FileIO, empty for none) when it names one, else
 * to the keys in {@code buckets} when there are any. Read from its start again after a restore (a
 * re-read is idempotent: the reconciler orders it).
 */
public record ResnapshotSplit(
        long request,
        String sourceTable,
        String target,
        List<Integer> buckets,
        List<Long> keys,
        String keysFile)
        implements SourceSplit, java.io.Serializable {

    public ResnapshotSplit {
        buckets = List.copyOf(buckets);
        keys = List.copyOf(keys);
        keysFile = keysFile == null ? "" : keysFile;
    }

    /** What the split re-reads, for its outcome: empty for the whole table. */
    String scope() {
        return !keys.isEmpty()
                ? " (" + keys.size() + " keys)"
                : !keysFile.isEmpty()
                        ? " (the keys in " + keysFile + ")"
                        : buckets.isEmpty() ? "" : " (keys in " + buckets.size() + " buckets)";
    }

    @Override
    public String splitId() {
        return target + "@" + request;
    }

    /**
     * Version 3: request, source table, target, buckets (none: every key), key fingerprints (none:
     * every key of the buckets), the keys file (empty: none). Version 2 (written before a repair's
     * keys file was left to the reader) has no keys file, version 1 (before repairs named keys) no
     * key fingerprints either.
     */
    static final class Serializer implements SimpleVersionedSerializer<ResnapshotSplit> {

        static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 3;
        }

        @Override
        public byte[] serialize(ResnapshotSplit split) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                write(out, split);
            }
            return bytes.toByteArray();
        }

        @Override
        public ResnapshotSplit deserialize(int version, byte[] serialized) throws IOException {
            if (version < 1 || version > 3) {
                throw new IOException("unknown re-snapshot split version " + version);
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
                return read(in, version);
            }
        }

        static void write(DataOutputStream out, ResnapshotSplit split) throws IOException {
            out.writeLong(split.request());
            out.writeUTF(split.sourceTable());
            out.writeUTF(split.target());
            out.writeInt(split.buckets().size());
            for (int bucket : split.buckets()) {
                out.writeInt(bucket);
            }
            out.writeInt(split.keys().size());
            for (long key : split.keys()) {
                out.writeLong(key);
            }
            out.writeUTF(split.keysFile());
        }

        static ResnapshotSplit read(DataInputStream in, int version) throws IOException {
            long request = in.readLong();
            String sourceTable = in.readUTF();
            String target = in.readUTF();
            List<Integer> buckets = new java.util.ArrayList<>();
            for (int i = in.readInt(); i > 0; i--) {
                buckets.add(in.readInt());
            }
            List<Long> keys = new java.util.ArrayList<>();
            for (int i = version < 2 ? 0 : in.readInt(); i > 0; i--) {
                keys.add(in.readLong());
            }
            String keysFile = version < 3 ? "" : in.readUTF();
            return new ResnapshotSplit(request, sourceTable, target, buckets, keys, keysFile);
        }
    }
}
