package io.tidemark.decode;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Source positions per source as a commit's provenance records them ({@code
 * tidemark.source-positions}), both ways: {@code
 * {"<source>":{"commit_lsn":"0/16B3748","change_lsn":"0/16B3790","tx_id":745}}}; a position placed
 * by GTID adds {@code "gtid_ordinal"} (the transaction's place in the GTID order, see {@link
 * GtidPosition}); its {@code commit_lsn} holds the whole place, GTID mark included.
 */
public final class SourcePositions {

    private static final ObjectMapper JSON = new ObjectMapper();

    private SourcePositions() {}

    public static String toJson(Map<String, SourcePosition> positions) {
        ObjectNode root = JSON.createObjectNode();
        positions.forEach(
                (source, position) -> {
                    ObjectNode node = root.putObject(source);
                    if (GtidPosition.isGtid(position)) {
                        node.put("gtid_ordinal", position.commitLsn() & ~GtidPosition.GTID_ORDER);
                    }
                    node.put("commit_lsn", SourcePosition.lsn(position.commitLsn()));
                    node.put("change_lsn", SourcePosition.lsn(position.changeLsn()));
                    node.put("tx_id", position.txId());
                });
        return root.toString();
    }

    /** The positions {@link #toJson} wrote; a source without a log position yet is left out. */
    public static Map<String, SourcePosition> parse(String json) {
        Map<String, SourcePosition> positions = new TreeMap<>();
        if (json == null || json.isBlank()) {
            return positions;
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("source positions are not JSON: " + json, e);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            JsonNode node = entry.getValue();
            SourcePosition position =
                    new SourcePosition(
                            lsn(node.path("commit_lsn").asText("-")),
                            lsn(node.path("change_lsn").asText("-")),
                            node.path("tx_id").asLong(SourcePosition.UNKNOWN));
            if (position.commitLsn() != SourcePosition.UNKNOWN) {
                positions.put(entry.getKey(), position);
            }
        }
        return positions;
    }

    /**
     * {@code json} ({@link #toJson}'s) with {@code "log_from"} added to each source of {@code
     * logFrom}: where a start reads the source's log again from.
     */
    public static String withLogFrom(String json, Map<String, Long> logFrom) {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(json);
            logFrom.forEach(
                    (source, lsn) -> {
                        if (root.get(source) instanceof ObjectNode node) {
                            node.put("log_from", SourcePosition.lsn(lsn));
                        }
                    });
            return root.toString();
        } catch (JsonProcessingException | ClassCastException e) {
            throw new IllegalArgumentException("source positions are not JSON: " + json, e);
        }
    }

    /**
     * The {@code "log_from"} of each source of {@code json} that has one ({@link #withLogFrom}).
     */
    public static Map<String, Long> logFrom(String json) {
        Map<String, Long> logFrom = new TreeMap<>();
        try {
            JsonNode root = JSON.readTree(json);
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                JsonNode from = entry.getValue().get("log_from");
                if (from != null) {
                    logFrom.put(entry.getKey(), lsn(from.asText()));
                }
            }
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("source positions are not JSON: " + json, e);
        }
        return logFrom;
    }

    /** {@link SourcePosition#lsn}'s text back to its number. */
    static long lsn(String text) {
        if (text.equals("-")) {
            return SourcePosition.UNKNOWN;
        }
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("not a position: " + text);
        }
        return (Long.parseUnsignedLong(text.substring(0, slash), 16) << 32)
                | Long.parseUnsignedLong(text.substring(slash + 1), 16);
    }
}
