package io.knowngood.replication;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Thread-safe counters behind {@link MeshStats}. */
final class Counters {
  private final Map<String, LongAdder> stored = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> rejected = new ConcurrentHashMap<>();
  final LongAdder ignored = new LongAdder();
  final LongAdder rounds = new LongAdder();
  final LongAdder pulls = new LongAdder();
  final LongAdder repaired = new LongAdder();
  final LongAdder recordWrites = new LongAdder();
  final LongAdder recordWritesDeferred = new LongAdder();
  final LongAdder handOvers = new LongAdder();
  final LongAdder recordRepushes = new LongAdder();
  final LongAdder mergeChecksKept = new LongAdder();
  final LongAdder mergeChecksResumed = new LongAdder();
  final LongAdder sameIdViewsTold = new LongAdder();
  final LongAdder sameIdViewsLeft = new LongAdder();

  void stored(String source) {
    stored.computeIfAbsent(source, k -> new LongAdder()).increment();
  }

  void rejected(String code) {
    rejected.computeIfAbsent(code, k -> new LongAdder()).increment();
  }

  MeshStats snapshot() {
    return snapshot(Map.of(), java.util.Optional.empty());
  }

  MeshStats snapshot(Map<String, Long> tlsRefused, java.util.Optional<Revocations.Status> revocationList) {
    return new MeshStats(sum(stored), sum(rejected), ignored.sum(), rounds.sum(), pulls.sum(), repaired.sum(),
        recordWrites.sum(), recordWritesDeferred.sum(), recordRepushes.sum(), handOvers.sum(),
        mergeChecksKept.sum(), mergeChecksResumed.sum(), sameIdViewsTold.sum(), sameIdViewsLeft.sum(), tlsRefused, revocationList);
  }

  private static Map<String, Long> sum(Map<String, LongAdder> m) {
    Map<String, Long> out = new TreeMap<>();
    m.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }
}
