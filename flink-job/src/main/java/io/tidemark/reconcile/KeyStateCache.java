package io.tidemark.reconcile;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The key states of the keys the reconciler saw last, in front of a state backend that serializes
 * on every access (RocksDB): a read of a cached key costs no state access, and a change is written
 * back once per key and checkpoint ({@link #flush}, before the barrier) or when the key leaves the
 * cache (the least recently used of more than {@code capacity}), not once per change. A cleared
 * state is cached as {@code null} and written back as a clear.
 *
 * <p>Exact because the state backend is only read through the cache and every change reaches it
 * before a checkpoint snapshots it; after a failure the cache starts empty and the restored state
 * is read again. Not used on the heap, where the backend's own map is this already.
 */
final class KeyStateCache {

    /** Writes one key's state to the backend ({@code null}: clears it). */
    @FunctionalInterface
    interface Writer {
        void write(String key, KeyState state) throws Exception;
    }

    /** Reads the current key's state from the backend. */
    @FunctionalInterface
    interface Loader {
        KeyState load() throws Exception;
    }

    private static final class Slot {
        KeyState state;
        boolean dirty;

        Slot(KeyState state, boolean dirty) {
            this.state = state;
            this.dirty = dirty;
        }
    }

    private final int capacity;
    private final Writer writer;

    /** In access order: the eldest is the least recently used. */
    private final LinkedHashMap<String, Slot> slots = new LinkedHashMap<>(1024, 0.75f, true);

    KeyStateCache(int capacity, Writer writer) {
        this.capacity = capacity;
        this.writer = writer;
    }

    /**
     * The state of {@code key}, the current key, read from the backend on a miss; the key read then
     * pushes the least recently used out, so reads alone (a replay of stale changes) never grow the
     * cache past its capacity.
     */
    KeyState get(String key, Loader loader) throws Exception {
        Slot slot = slots.get(key);
        if (slot == null) {
            slot = new Slot(loader.load(), false);
            slots.put(key, slot);
            evictOverflow();
        }
        return slot.state;
    }

    /** Sets the state of {@code key} ({@code null}: cleared), written back later. */
    void put(String key, KeyState state) {
        Slot slot = slots.get(key);
        if (slot == null) {
            slots.put(key, new Slot(state, true));
        } else {
            slot.state = state;
            slot.dirty = true;
        }
    }

    /** Writes back and drops the least recently used keys beyond the capacity. */
    void evictOverflow() throws Exception {
        if (slots.size() <= capacity) {
            // called per change: no iterator while the cache has room
            return;
        }
        Iterator<Map.Entry<String, Slot>> eldest = slots.entrySet().iterator();
        while (slots.size() > capacity) {
            Map.Entry<String, Slot> entry = eldest.next();
            eldest.remove();
            if (entry.getValue().dirty) {
                writer.write(entry.getKey(), entry.getValue().state);
            }
        }
    }

    /** Writes back every changed key; the keys stay cached. */
    void flush() throws Exception {
        for (Map.Entry<String, Slot> entry : slots.entrySet()) {
            Slot slot = entry.getValue();
            if (slot.dirty) {
                writer.write(entry.getKey(), slot.state);
                slot.dirty = false;
            }
        }
    }

    int size() {
        return slots.size();
    }
}
