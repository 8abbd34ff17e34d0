package io.knowngood.replication;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.util.Map;
import java.util.Optional;

/**
 * The node's own last-known-good store, implemented by node/. Replication offers it every bundle
 * that arrives from the mesh, only after verifying the signature, the hashes and the rollback floor;
 * the store re-checks its durable floor and decides.
 */
public interface LocalBundles {
  /** Highest version held per name. */
  Map<String, VersionStamp> digest();

  Optional<VerifiedBundle> highest(String name);

  /**
   * {@code source} says how it came, for logs and metrics: "replication" (a put replicated to this
   * node), "state-transfer", "merge" (re-examined after a view change), "anti-entropy" (pulled from a
   * peer), "rescan" (periodic re-examination of this node's cache copy) or "start".
   */
  Admission offer(VerifiedBundle bundle, String source);
}
