package io.knowngood.node.store;

import java.time.Instant;
import java.util.Optional;

/**
 * One version of a bundle kept on disk.
 *
 * @param digest the manifest digest, once this copy has been verified (at load or by the scrub)
 * @param state {@code current} (served), {@code kept} (verified, for fallback) or {@code unverified}
 *     (not yet re-read since start)
 */
public record HistoryEntry(long version, Optional<String> digest, long sizeBytes, Instant storedAt, String state) {}
