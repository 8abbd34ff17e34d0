package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.VerifyResult;
import java.util.ArrayList;
import java.util.List;
import org.infinispan.container.entries.CacheEntry;
import org.infinispan.conflict.EntryMergePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Infinispan's conflict resolution for the bundle cache: among the copies the partitions hold for
 * one name, the winner is the highest version that verifies; two different bundles with the same
 * version are ordered by the lower manifest digest. Copies that do not verify never win; if none
 * verifies the key is dropped. Deterministic, so every coordinator picks the same winner. Infinispan
 * runs this only on the merge coordinator and only in some merges: anti-entropy, not this, is what
 * guarantees convergence; this just gets the cache there sooner.
 */
final class HighestVerifiedMergePolicy implements EntryMergePolicy<String, byte[]> {
  private static final Logger log = LoggerFactory.getLogger(HighestVerifiedMergePolicy.class);

  private final BundleVerifier verifier;
  private final Counters counters;

  HighestVerifiedMergePolicy(BundleVerifier verifier, Counters counters) {
    this.verifier = verifier;
    this.counters = counters;
  }

  @Override
  public CacheEntry<String, byte[]> merge(CacheEntry<String, byte[]> preferredEntry,
                                          List<CacheEntry<String, byte[]>> otherEntries) {
    List<CacheEntry<String, byte[]>> all = new ArrayList<>(otherEntries.size() + 1);
    if (preferredEntry != null) {
      all.add(preferredEntry);
    }
    all.addAll(otherEntries);
    CacheEntry<String, byte[]> winner = null;
    VersionStamp best = null;
    for (CacheEntry<String, byte[]> entry : all) {
      Object rawValue = entry.getValue();
      byte[] archive = Ingest.unwrap(rawValue);
      if (archive == null) {
        continue;
      }
      Object key = entry.getKey();
      VerifyResult r = key instanceof String name ? verifier.verifyAs(name, archive) : verifier.verify(archive);
      if (r instanceof VerifyResult.Verified v) {
        VersionStamp stamp = Ingest.stampOf(v.bundle());
        if (stamp.beats(best)) {
          best = stamp;
          winner = entry;
        }
      } else {
        VerifyResult.Rejected rejected = (VerifyResult.Rejected) r;
        counters.rejected(rejected.reason().code());
        log.warn("merge of {}: a copy does not verify, it never wins: {} ({})", key, rejected.reason().code(),
            rejected.reason().detail());
      }
    }
    if (winner != null) {
      log.debug("merge of {}: v{} wins among {} copies", winner.getKey(), best.version(), all.size());
    }
    return winner;
  }
}
