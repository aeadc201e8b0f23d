package io.tidemark.source.resnapshot;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * The re-snapshot coordinator's state: per target the newest request accepted, the splits not yet
 * handed to the reader, and the outcomes not yet written to their tables ({@code target}, text).
 */
public record ResnapshotEnumeratorState(
        Map<String, Long> accepted, List<ResnapshotSplit> pending, List<Outcome> outcomes) {

    /** The outcome of a request, to record on its table once the checkpoint holding it is done. */
    public record Outcome(String target, String text) {}

    public ResnapshotEnumeratorState {
        accepted = new LinkedHashMap<>(accepted);
        pending = new ArrayList<>(pending);
        outcomes = new ArrayList<>(outcomes);
    }

    /**
     * Version 3: accepted requests, pending splits (in {@link ResnapshotSplit.Serializer}'s version
     * of the same number), outcomes. Versions 1 and 2 read their splits in the split's version 1
     * (before repairs named keys) and 2 (before a repair's keys file was left to the reader).
     */
    static final class Serializer implements SimpleVersionedSerializer<ResnapshotEnumeratorState> {

        static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            // its splits are written in the split's format: a new one is a new version of this
            return ResnapshotSplit.Serializer.INSTANCE.getVersion();
        }

        @Override
        public byte[] serialize(ResnapshotEnumeratorState state) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeInt(state.accepted().size());
                for (Map.Entry<String, Long> entry : state.accepted().entrySet()) {
                    out.writeUTF(entry.getKey());
                    out.writeLong(entry.getValue());
                }
                out.writeInt(state.pending().size());
                for (ResnapshotSplit split : state.pending()) {
                    ResnapshotSplit.Serializer.write(out, split);
                }
                out.writeInt(state.outcomes().size());
                for (Outcome outcome : state.outcomes()) {
                    out.writeUTF(outcome.target());
                    out.writeUTF(outcome.text());
                }
            }
            return bytes.toByteArray();
        }

        @Override
        public ResnapshotEnumeratorState deserialize(int version, byte[] serialized)
                throws IOException {
            if (version < 1 || version > 3) {
                throw new IOException("unknown re-snapshot coordinator state version " + version);
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
                Map<String, Long> accepted = new LinkedHashMap<>();
                for (int i = in.readInt(); i > 0; i--) {
                    accepted.put(in.readUTF(), in.readLong());
                }
                List<ResnapshotSplit> pending = new ArrayList<>();
                for (int i = in.readInt(); i > 0; i--) {
                    pending.add(ResnapshotSplit.Serializer.read(in, version));
                }
                List<Outcome> outcomes = new ArrayList<>();
                for (int i = in.readInt(); i > 0; i--) {
                    outcomes.add(new Outcome(in.readUTF(), in.readUTF()));
                }
                return new ResnapshotEnumeratorState(accepted, pending, outcomes);
            }
        }
    }
}
