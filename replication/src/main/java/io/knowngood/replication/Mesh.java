package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.VerifiedBundle;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The node's view of the mesh: an embedded Infinispan replicated cache of signed bundle archives
 * over JGroups TCP, available on every side of a partition, converging to the highest valid version
 * by anti-entropy. Everything that arrives is verified before it is offered to {@link LocalBundles}.
 */
public interface Mesh extends AutoCloseable {

  static Mesh create(MeshConfig config, BundleVerifier verifier, LocalBundles local) {
    return create(config, verifier, local, Clock.systemUTC());
  }

  static Mesh create(MeshConfig config, BundleVerifier verifier, LocalBundles local, Clock clock) {
    return new InfinispanMesh(config, verifier, local, clock, InfinispanMesh.Options.production());
  }

  /** Returns at once; joining, state transfer and anti-entropy run in the background. */
  void start();

  /**
   * Replicates a bundle the caller has already verified, rollback-checked and stored. Answers within
   * {@link MeshConfig#publishTimeout()} on either side of a partition, with how many members in view
   * confirmed they hold it.
   */
  PublishOutcome publish(VerifiedBundle bundle);

  /**
   * The first half of {@link #publish}, for a caller that sends while its own copy becomes durable:
   * starts replicating a bundle the caller has verified and rollback-checked and whose bytes it has
   * written (the cache put, and the have with the pushed archive), and returns at once. The members
   * verify and store it on their own; this node counts as holding it once its store has it.
   */
  Publishing send(VerifiedBundle bundle);

  /**
   * The second half of {@link #publish}: waits, until {@link MeshConfig#publishTimeout()} after
   * {@link #send}, for every member in view (this node included) to hold what was sent.
   */
  PublishOutcome awaitHolders(Publishing sent);

  MeshView view();

  /** memberId -> bundle name -> stamp, for this node and every member in view (for {@code kgctl status}). */
  Map<String, Map<String, VersionStamp>> memberDigests();

  /** Small per-member records replicated beside the bundles (rollout states and report counts). */
  MeshRecords records();

  /** This mesh's site name, empty when it is not one of several sites. */
  default Optional<String> site() {
    return Optional.empty();
  }

  /** The other sites, online or not, when last heard from, and this node's backups to them held offline (empty without sites). */
  default List<SiteInfo> sites() {
    return List.of();
  }

  /** Counters: stored by source, rejected by reason, anti-entropy rounds. */
  MeshStats stats();

  /** The latest failed mesh TLS handshake with each address, most recent first (none without TLS). */
  default List<TlsRefusals.Refusal> tlsRefusals() {
    return List.of();
  }

  /**
   * The latest member seen with this node's id at another address, per address, most recent first
   * (docs/replication.md, "One id per host"): the later of two such members leaves the mesh.
   */
  default List<IdClashes.Clash> idClashes() {
    return List.of();
  }

  @Override
  void close();
}
