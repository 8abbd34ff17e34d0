package io.knowngood.replication;

import java.util.Comparator;
import java.util.Objects;

/**
 * Which version of a bundle a member holds: the version and the manifest digest (lower-case hex
 * SHA-256 of manifest.json). Ordered so that the deterministic merge winner is the greatest:
 * higher version first, then, between two different bundles claiming the same version, the lower
 * manifest digest.
 */
public record VersionStamp(long version, String manifestDigest) implements Comparable<VersionStamp> {

  static final Comparator<VersionStamp> WINNER_LAST = Comparator.comparingLong(VersionStamp::version)
      .thenComparing(VersionStamp::manifestDigest, Comparator.reverseOrder());

  public VersionStamp {
    Objects.requireNonNull(manifestDigest, "manifestDigest");
    if (version < 1) {
      throw new IllegalArgumentException("version must be >= 1: " + version);
    }
  }

  @Override
  public int compareTo(VersionStamp o) {
    return WINNER_LAST.compare(this, o);
  }

  /** True if this stamp wins over {@code other} (or other is absent). */
  public boolean beats(VersionStamp other) {
    return other == null || compareTo(other) > 0;
  }
}
