package io.tidemark.reconcile;

/**
 * What the reconciler remembers about one key: the sequence of the last applied change, whether
 * that change was a delete (a tombstone, so an older update arriving later cannot resurrect the
 * row), the newest event time seen, and when the key's state may be dropped.
 */
public record KeyState(Sequence applied, boolean tombstone, long eventTime, long cleanupAt) {}
