package io.tidemark.commit;

import io.tidemark.decode.ChangeEvent;

/**
 * A key's newest version in its history table ({@link HistoryWriter}'s keyed state): its number,
 * when it began, its operation and the change that made it. {@code change} is null when the key has
 * no open version (a truncate closed it).
 */
record OpenVersion(long version, long validFromMillis, String operation, ChangeEvent change) {}
