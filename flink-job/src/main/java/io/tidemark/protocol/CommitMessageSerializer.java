package io.tidemark.protocol;

import io.tidemark.decode.SourcePosition;
import io.tidemark.protocol.CommitMessage.Counts;
import io.tidemark.protocol.CommitMessage.FilesWritten;
import io.tidemark.protocol.CommitMessage.GateCounts;
import io.tidemark.protocol.CommitMessage.GateTally;
import io.tidemark.protocol.CommitMessage.Tally;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/**
 * Bytes of a {@link CommitMessage}: a version byte, a kind byte, then the fields. The committer
 * keeps pending messages in checkpoints in this form, so a new version must still read every older
 * one. Version 2 adds the part of {@link FilesWritten} after its table (version 1 reads as part 0)
 * and the {@link GateTally} kind. Version 3 adds {@link FilesWritten#truncatedAt()} after the
 * deleted rows (a flag, then the text; older versions read as none). Version 4 adds {@link
 * Tally#resnapshots()} after its positions (older versions read as none).
 */
public final class CommitMessageSerializer {

    static final int VERSION_1 = 1;
    static final int VERSION_2 = 2;
    static final int VERSION_3 = 3;
    static final int VERSION_4 = 4;
    static final int CURRENT = VERSION_4;

    private static final byte FILES_WRITTEN = 1;
    private static final byte TALLY = 2;
    private static final byte GATE_TALLY = 3;

    private CommitMessageSerializer() {}

    public static byte[] serialize(CommitMessage message) {
        try {
            DataOutputSerializer out = new DataOutputSerializer(256);
            out.writeByte(CURRENT);
            if (message instanceof FilesWritten files) {
                out.writeByte(FILES_WRITTEN);
                out.writeLong(files.checkpointId());
                out.writeUTF(files.table());
                out.writeInt(files.part());
                out.writeInt(files.manifestsVersion());
                out.writeInt(files.manifests().length);
                out.write(files.manifests());
                out.writeLong(files.rowsUpserted());
                out.writeLong(files.rowsDeleted());
                out.writeBoolean(files.truncatedAt() != null);
                if (files.truncatedAt() != null) {
                    out.writeUTF(files.truncatedAt());
                }
            } else if (message instanceof GateTally gate) {
                out.writeByte(GATE_TALLY);
                out.writeLong(gate.checkpointId());
                out.writeInt(gate.subtask());
                out.writeInt(gate.tables().size());
                for (Map.Entry<String, GateCounts> table : gate.tables().entrySet()) {
                    out.writeUTF(table.getKey());
                    out.writeLong(table.getValue().in());
                    out.writeLong(table.getValue().passed());
                    out.writeLong(table.getValue().quarantined());
                    out.writeLong(table.getValue().forwarded());
                }
            } else {
                Tally tally = (Tally) message;
                out.writeByte(TALLY);
                out.writeLong(tally.checkpointId());
                out.writeInt(tally.subtask());
                out.writeLong(tally.watermark());
                out.writeInt(tally.tables().size());
                for (Map.Entry<String, Counts> table : tally.tables().entrySet()) {
                    out.writeUTF(table.getKey());
                    out.writeLong(table.getValue().in());
                    out.writeLong(table.getValue().stale());
                    out.writeLong(table.getValue().late());
                }
                out.writeInt(tally.positions().size());
                for (Map.Entry<String, SourcePosition> position : tally.positions().entrySet()) {
                    out.writeUTF(position.getKey());
                    out.writeLong(position.getValue().commitLsn());
                    out.writeLong(position.getValue().changeLsn());
                    out.writeLong(position.getValue().txId());
                }
                out.writeInt(tally.resnapshots().size());
                for (Map.Entry<String, Long> resnapshot : tally.resnapshots().entrySet()) {
                    out.writeUTF(resnapshot.getKey());
                    out.writeLong(resnapshot.getValue());
                }
            }
            return out.getCopyOfBuffer();
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize " + message, e);
        }
    }

    public static CommitMessage deserialize(byte[] bytes) {
        try {
            DataInputDeserializer in = new DataInputDeserializer(bytes);
            int version = in.readUnsignedByte();
            if (version < VERSION_1 || version > CURRENT) {
                throw new IllegalStateException(
                        "commit message of version "
                                + version
                                + " but this build reads up to version "
                                + CURRENT
                                + "; restore with the release that wrote it or a newer one");
            }
            byte kind = in.readByte();
            if (kind == FILES_WRITTEN) {
                long checkpointId = in.readLong();
                String table = in.readUTF();
                int part = version >= VERSION_2 ? in.readInt() : 0;
                int manifestsVersion = in.readInt();
                byte[] manifests = new byte[in.readInt()];
                in.readFully(manifests);
                long upserted = in.readLong();
                long deleted = in.readLong();
                String truncatedAt = version >= VERSION_3 && in.readBoolean() ? in.readUTF() : null;
                return new FilesWritten(
                        checkpointId,
                        table,
                        part,
                        manifestsVersion,
                        manifests,
                        upserted,
                        deleted,
                        truncatedAt);
            }
            if (kind == TALLY) {
                long checkpointId = in.readLong();
                int subtask = in.readInt();
                long watermark = in.readLong();
                Map<String, Counts> tables = new LinkedHashMap<>();
                for (int i = in.readInt(); i > 0; i--) {
                    tables.put(
                            in.readUTF(), new Counts(in.readLong(), in.readLong(), in.readLong()));
                }
                Map<String, SourcePosition> positions = new LinkedHashMap<>();
                for (int i = in.readInt(); i > 0; i--) {
                    positions.put(
                            in.readUTF(),
                            new SourcePosition(in.readLong(), in.readLong(), in.readLong()));
                }
                Map<String, Long> resnapshots = new LinkedHashMap<>();
                if (version >= VERSION_4) {
                    for (int i = in.readInt(); i > 0; i--) {
                        resnapshots.put(in.readUTF(), in.readLong());
                    }
                }
                return new Tally(checkpointId, subtask, watermark, tables, positions, resnapshots);
            }
            if (kind == GATE_TALLY && version >= VERSION_2) {
                long checkpointId = in.readLong();
                int subtask = in.readInt();
                Map<String, GateCounts> tables = new LinkedHashMap<>();
                for (int i = in.readInt(); i > 0; i--) {
                    tables.put(
                            in.readUTF(),
                            new GateCounts(
                                    in.readLong(), in.readLong(), in.readLong(), in.readLong()));
                }
                return new GateTally(checkpointId, subtask, tables);
            }
            throw new IllegalStateException("unknown commit message kind " + kind);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read a commit message", e);
        }
    }
}
