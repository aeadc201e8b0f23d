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
 * target}, limited to the keys of the fingerprints {@code keys} when there are any, else to the
 * keys in {@code buckets} when there are any. Read from its start again after a restore (a re-read
 * is idempotent: the reconciler orders it).
 */
public record ResnapshotSplit(
        long request, String sourceTable, String target, List<Integer> buckets, List<Long> keys)
        implements SourceSplit, java.io.Serializable {

    public ResnapshotSplit {
        buckets = List.copyOf(buckets);
        keys = List.copyOf(keys);
    }

    /** What the split re-reads, for its outcome: empty for the whole table. */
    String scope() {
        return !keys.isEmpty()
                ? " (" + keys.size() + " keys)"
                : buckets.isEmpty() ? "" : " (keys in " + buckets.size() + " buckets)";
    }

    @Override
    public String splitId() {
        return target + "@" + request;
    }

    /**
     * Version 2: request, source table, target, buckets (none: every key), key fingerprints (none:
     * every key of the buckets). Version 1 (written before repairs named keys) has no key
     * fingerprints.
     */
    static final class Serializer implements SimpleVersionedSerializer<ResnapshotSplit> {

        static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 2;
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
            if (version != 1 && version != 2) {
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
            return new ResnapshotSplit(request, sourceTable, target, buckets, keys);
        }
    }
}
