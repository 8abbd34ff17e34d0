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

  void setBase(Map<String, VersionStamp> digest, byte[] hash) {
    base = digest;
    baseHash = hash;
    haves.clear();
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
