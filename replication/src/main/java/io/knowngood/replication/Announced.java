package io.knowngood.replication;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What one member announced: the digest it last sent (or this node's own, when its hash matched)
 * plus the haves since. Owned by {@link Reconciler}: written on the reconciler's thread only, read by
 * publishers counting holders.
 */
final class Announced {
  volatile Map<String, VersionStamp> base = Map.of();
  volatile byte[] baseHash;
  final Map<String, VersionStamp> haves = new ConcurrentHashMap<>();

  VersionStamp get(String name) {
    VersionStamp h = haves.get(name);
    return h != null ? h : base.get(name);
  }

  /**
   * A new base: a digest the member sent, or this node's own when their hashes matched. A have newer
   * than the base's entry for its name stays: the member may have composed the digest just before it
   * stored that version and sent the have (the have goes out from its store's thread, the digest from its
   * reconciler's), so the have can arrive first. Clearing it made a publisher count that member as not
   * holding until its next round, and the publish call waited for it: about 2.4 s at 5 and 8 nodes in
   * PropagationBench, 2026-12-02. A member's versions never go down, so the newer have is the truth.
   */
  void setBase(Map<String, VersionStamp> digest, byte[] hash) {
    base = digest;
    baseHash = hash;
    haves.entrySet().removeIf(e -> !e.getValue().beats(digest.get(e.getKey())));
    if (digest.size() + haves.size() > Reconciler.MAX_ANNOUNCED_PER_MEMBER) {
      haves.clear(); // the per-member bound holds: the next round brings what the cap dropped
    }
  }

  /** False when the member is at its cap of names. A have older than what it announced before is ignored. */
  boolean record(String name, VersionStamp stamp) {
    VersionStamp current = get(name);
    if (current == null && base.size() + haves.size() >= Reconciler.MAX_ANNOUNCED_PER_MEMBER) {
      return false;
    }
    if (stamp.beats(current)) {
      haves.put(name, stamp);
    }
    return true;
  }

  Map<String, VersionStamp> snapshot() {
    if (haves.isEmpty()) {
      return base;
    }
    Map<String, VersionStamp> all = new HashMap<>(base);
    all.putAll(haves);
    return Map.copyOf(all);
  }
}
