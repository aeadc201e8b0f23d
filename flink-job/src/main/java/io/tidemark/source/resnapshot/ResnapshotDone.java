package io.tidemark.source.resnapshot;

import org.apache.flink.api.connector.source.SourceEvent;

/** From the reader to the coordinator: a re-snapshot's rows are all emitted (or it failed). */
record ResnapshotDone(ResnapshotSplit split, String outcome) implements SourceEvent {}
