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
 * target}, limited to the keys in {@code buckets} when there are any. Read from its start again
 * after a restore (a re-read is idempotent: the reconciler orders it).
 */
public record ResnapshotSplit(
        long request, String sourceTable, String target, List<Integer> buckets)
        implements SourceSplit, java.io.Serializable {

    public ResnapshotSplit {
        buckets = List.copyOf(buckets);
    }

    @Override
    public String splitId() {
        return target + "@" + request;
    }

    /** Version 1: request, source table, target, buckets (none: every key). */
    static final class Serializer implements SimpleVersionedSerializer<ResnapshotSplit> {

        static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 1;
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
            if (version != 1) {
                throw new IOException("unknown re-snapshot split version " + version);
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
                return read(in);
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
        }

        static ResnapshotSplit read(DataInputStream in) throws IOException {
            long request = in.readLong();
            String sourceTable = in.readUTF();
            String target = in.readUTF();
            List<Integer> buckets = new java.util.ArrayList<>();
            for (int i = in.readInt(); i > 0; i--) {
                buckets.add(in.readInt());
            }
            return new ResnapshotSplit(request, sourceTable, target, buckets);
        }
    }
}
