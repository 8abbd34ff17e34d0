package io.knowngood.replication;

import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a node takes part in the mesh.
 *
 * @param nodeId      this node's id (logical JGroups name, shown in views and digests)
 * @param clusterName members only cluster with members of the same name
 * @param bind        the cluster address: an IP literal and port (TCP); FD_SOCK2 listens on port + 1
 * @param peers       the static peer list (IP literal and cluster port each); may include {@code bind}; no DNS, no multicast
 * @param security    {@link Tls} (client certificates from the mesh CA, required both ways) or {@link Plaintext} (trying out only)
 * @param timings     failure detection, merge and anti-entropy timers: {@link Timings#forLan()} or {@link Timings#forLocalTesting()}
 * @param peersFile   where to remember the addresses peers had in the last views (node/: {@code <data-dir>/mesh-peers});
 *                    they are added to {@code peers} for discovery, so a stale peer list still finds a peer that moved.
 *                    Empty: nothing remembered (discovery uses {@code peers} and what the running mesh learns)
 * @param site        the site this mesh is, bridged to other sites by cross-site replication ({@link Site}); empty: one
 *                    mesh, no sites (nothing of the cross-site machinery is built)
 */
public record MeshConfig(String nodeId, String clusterName, InetSocketAddress bind, List<InetSocketAddress> peers,
                         Security security, Timings timings, Optional<Path> peersFile, Optional<Site> site) {

  /** What a node id (and a site name) may be. */
  public static final Pattern ID = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$");
  /** How long an address in {@code peersFile} is kept after it was last in a view. */
  public static final java.time.Duration PEERS_REMEMBERED_FOR = java.time.Duration.ofDays(30);

  public MeshConfig {
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(clusterName, "clusterName");
    Objects.requireNonNull(bind, "bind");
    Objects.requireNonNull(security, "security");
    Objects.requireNonNull(timings, "timings");
    Objects.requireNonNull(peersFile, "peersFile");
    Objects.requireNonNull(site, "site");
    if (!ID.matcher(nodeId).matches()) {
      throw new IllegalArgumentException("node id must match " + ID.pattern() + ": " + nodeId);
    }
    if (clusterName.isBlank()) {
      throw new IllegalArgumentException("cluster name is blank");
    }
    requireLiteral(bind);
    peers.forEach(MeshConfig::requireLiteral);
    peers = List.copyOf(new LinkedHashSet<>(peers));
  }

  /** No remembered peers: discovery uses {@code peers} only. */
  public MeshConfig(String nodeId, String clusterName, InetSocketAddress bind, List<InetSocketAddress> peers,
                    Security security, Timings timings) {
    this(nodeId, clusterName, bind, peers, security, timings, Optional.empty(), Optional.empty());
  }

  /** No site. */
  public MeshConfig(String nodeId, String clusterName, InetSocketAddress bind, List<InetSocketAddress> peers,
                    Security security, Timings timings, Optional<Path> peersFile) {
    this(nodeId, clusterName, bind, peers, security, timings, peersFile, Optional.empty());
  }

  /** The same, remembering peers' addresses in {@code file}. */
  public MeshConfig withPeersFile(Path file) {
    return new MeshConfig(nodeId, clusterName, bind, peers, security, timings, Optional.of(file), site);
  }

  /** The same mesh as site {@code s}. */
  public MeshConfig withSite(Site s) {
    return new MeshConfig(nodeId, clusterName, bind, peers, security, timings, peersFile, Optional.of(s));
  }

  /**
   * This mesh as one site of several, bridged by Infinispan cross-site replication over JGroups RELAY2.
   * The bridge is a second TCP stack with the mesh's own security (the same TLS client certificates), so
   * every site's nodes hold certificates of one mesh CA.
   *
   * @param name   this site's name (RELAY2's site); every site of the estate names itself differently
   * @param others the other sites' names: the bundles cache backs up to each of them (asynchronously)
   * @param bridge where this node listens for other sites' bridges (port and port + 1, FD_SOCK2); empty: this
   *               node never becomes its site's master (it relays through the one that does)
   * @param peers  the other sites' bridge addresses (static discovery of the bridge stack; no DNS)
   */
  public record Site(String name, List<String> others, Optional<InetSocketAddress> bridge, List<InetSocketAddress> peers) {
    public Site {
      Objects.requireNonNull(bridge, "bridge");
      if (name == null || !ID.matcher(name).matches()) {
        throw new IllegalArgumentException("site name must match " + ID.pattern() + ": " + name);
      }
      others = List.copyOf(new LinkedHashSet<>(others));
      for (String o : others) {
        if (!ID.matcher(o).matches()) {
          throw new IllegalArgumentException("site name must match " + ID.pattern() + ": " + o);
        }
      }
      if (others.contains(name)) {
        others = others.stream().filter(o -> !o.equals(name)).toList();
      }
      if (others.isEmpty()) {
        throw new IllegalArgumentException("a site needs at least one other site to back up to");
      }
      bridge.ifPresent(MeshConfig::requireLiteral);
      peers.forEach(MeshConfig::requireLiteral);
      peers = List.copyOf(new LinkedHashSet<>(peers));
    }

    /** Every site, this one first. */
    public List<String> all() {
      List<String> all = new java.util.ArrayList<>();
      all.add(name);
      all.addAll(others);
      return List.copyOf(all);
    }
  }

  /** Every configured member address: {@code bind} and the peers, without duplicates. */
  public List<InetSocketAddress> expectedMembers() {
    LinkedHashSet<InetSocketAddress> all = new LinkedHashSet<>();
    all.add(bind);
    all.addAll(peers);
    return List.copyOf(all);
  }

  public Duration publishTimeout() {
    return timings.publishTimeout();
  }

  private static void requireLiteral(InetSocketAddress a) {
    if (a.isUnresolved() || a.getAddress() == null) {
      throw new IllegalArgumentException("cluster addresses must be IP literals (no DNS): " + a);
    }
    if (a.getPort() < 1 || a.getPort() > 65534) {
      throw new IllegalArgumentException("cluster port must be 1..65534 (port + 1 is FD_SOCK2): " + a);
    }
  }

  /** How members authenticate each other and protect traffic. */
  public sealed interface Security permits Tls, Plaintext {}

  /**
   * TLS 1.3 on every cluster connection, client certificate required; only certificates issued by
   * the mesh CA in the trust store are accepted. Certificates identify members; no host name check.
   */
  public record Tls(NodeCredentials credentials, Path revocationList, Path keptList) implements Security {
    public Tls {
      Objects.requireNonNull(credentials, "credentials");
    }

    /** No revocation list: every certificate the CA issued is accepted. */
    public Tls(NodeCredentials credentials) {
      this(credentials, null, null);
    }

    /** The CA's revocation list in {@code revocationList} (which need not exist), with no copy kept across restarts. */
    public Tls(NodeCredentials credentials, Path revocationList) {
      this(credentials, revocationList, null);
    }

    /**
     * Reads {@code node.p12}, {@code truststore.p12} and {@code store.pass} from a directory written by {@code MeshCa.issue};
     * the CA's revocation list is {@code crl.pem} there, when there is one (looked at again once a second).
     */
    public static Tls fromDirectory(Path dir) throws IOException {
      return new Tls(NodeCredentials.load(dir), dir.resolve(RevocationList.FILE), null);
    }

    /**
     * The same, keeping in {@code file} a copy of the newest revocation list this member has read (node/: {@code
     * <data-dir>/mesh-crl.pem}), so that an older list put back while it was down is not taken at its next start.
     */
    public Tls keepingNewestListIn(Path file) {
      return new Tls(credentials, revocationList, file);
    }

    /** The revocation list's file, if the mesh looks at one (it need not exist). */
    public Optional<Path> revocationFile() {
      return Optional.ofNullable(revocationList);
    }

    /** Where the newest revocation list read is kept across restarts, if anywhere. */
    public Optional<Path> keptListFile() {
      return Optional.ofNullable(keptList);
    }
  }

  /** No encryption, no authentication: anyone who reaches the port can join. For trying out on one host only. */
  public record Plaintext() implements Security {}

  /**
   * Timers of failure detection, merging and anti-entropy. Shorter means faster detection of splits
   * and heals but more heartbeat traffic and more false suspicions when a host stalls (GC, CPU steal).
   *
   * @param joinTimeout          how long a starting node looks for a coordinator before it forms a view alone (GMS.join_timeout)
   * @param heartbeatInterval    FD_ALL3 heartbeat period; each member multicasts one heartbeat per period
   * @param failureTimeout       FD_ALL3: a member silent this long is suspected; a split is noticed after about this
   *                             plus {@code verifySuspectTimeout}; too short turns a GC pause into a split
   * @param verifySuspectTimeout VERIFY_SUSPECT2: a suspect is pinged once more for this long before it is excluded
   * @param mergeMinInterval     MERGE3: the shortest gap between two view announcements (INFO) of a member
   * @param mergeMaxInterval     MERGE3: announcements go out every max/2 + random(0, max), at least min apart (JGroups
   *                             5.5 {@code MERGE3.InfoSender.nextInterval}); each one is a discovery round to every
   *                             peer plus one INFO to each that answered
   * @param mergeCheckInterval   MERGE3: every member compares the announcements it received since its last check this
   *                             often, and the lowest view creator starts the merge; must exceed {@code mergeMaxInterval}
   *                             (else JGroups silently uses 1.6 x max). A heal is noticed within about
   *                             1.5 x max + check interval
   * @param antiEntropyInterval  period of the digest exchange (also run on every view change); the convergence guarantee
   * @param antiEntropyJitter    random extra delay added to each period so members do not all send at once
   * @param haveGrace            how long a version another member announced (its have) may take to arrive by the
   *                             pushed archive or the replicated put before this member pulls it
   * @param publishTimeout       the longest {@link Mesh#publish} waits for members to confirm they hold the version
   * @param connectTimeout       TCP connect timeout to a peer (TCP.sock_conn_timeout)
   */
  public record Timings(Duration joinTimeout, Duration heartbeatInterval, Duration failureTimeout,
                        Duration verifySuspectTimeout, Duration mergeMinInterval, Duration mergeMaxInterval,
                        Duration mergeCheckInterval, Duration antiEntropyInterval, Duration antiEntropyJitter,
                        Duration haveGrace, Duration publishTimeout, Duration connectTimeout) {
    /**
     * A have's grace in both presets: the pushed archive follows its have on the same channel and the
     * replicated put takes a hop more, both well under a second on a LAN; a pull is one round trip.
     */
    static final Duration HAVE_GRACE = Duration.ofSeconds(1);

    public Timings {
      for (Duration d : List.of(joinTimeout, heartbeatInterval, failureTimeout, verifySuspectTimeout, mergeMinInterval,
          mergeMaxInterval, mergeCheckInterval, antiEntropyInterval, haveGrace, publishTimeout, connectTimeout)) {
        if (d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("timings must be positive: " + d);
        }
      }
      if (antiEntropyJitter.isNegative()) {
        throw new IllegalArgumentException("antiEntropyJitter must not be negative");
      }
      if (failureTimeout.compareTo(heartbeatInterval.multipliedBy(2)) < 0) {
        throw new IllegalArgumentException("failureTimeout must be at least two heartbeats");
      }
      if (mergeMaxInterval.compareTo(mergeMinInterval) <= 0) {
        throw new IllegalArgumentException("mergeMaxInterval must exceed mergeMinInterval (MERGE3 refuses min >= max)");
      }
      if (mergeCheckInterval.compareTo(mergeMaxInterval) <= 0) {
        throw new IllegalArgumentException("mergeCheckInterval must exceed mergeMaxInterval (MERGE3 would replace it)");
      }
    }

    /**
     * A LAN: split noticed in about 2.5-3 s (2 s of silence + 0.5 s verification), heal noticed in
     * about 0.3-2 s (view announcements every 0.3-0.9 s, checked every 1 s), data converged by the
     * anti-entropy round that every view change triggers. A heal that comes before the split was noticed
     * changes no view: then a replicated write lost or held up meanwhile (Infinispan waits up to 10 s for
     * a topology) is caught by the periodic round, every 2-2.5 s. Costs one heartbeat per member every
     * 0.5 s, a view announcement (discovery round + INFO) to every peer every 0.6 s on average, and a
     * digest (43 bytes + the name per bundle) to every peer every 2-2.5 s.
     *
     * <p>Join timeout 1 s: a coordinator drops every JOIN that arrives while it takes part in a merge
     * (JGroups suspends its view handler and discards new requests), and the joiner asks again only
     * after the join timeout. In the soak a restarted node's JOIN met a merge in 3 of its 102 restarts,
     * each time the slowest (2.8-3.1 s to join with 2 s). Discovery answers arrive in milliseconds, so
     * 1 s still leaves a starting node time to find a mesh before it forms a view alone.
     */
    public static Timings forLan() {
      return new Timings(Duration.ofSeconds(1), Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofMillis(500),
          Duration.ofMillis(300), Duration.ofMillis(600), Duration.ofMillis(1000), Duration.ofSeconds(2),
          Duration.ofMillis(500), HAVE_GRACE, Duration.ofSeconds(5), Duration.ofMillis(500));
    }

    /**
     * Several members in one JVM on a loaded two-core machine: a longer failure timeout than the LAN
     * (3 s: CPU starvation must not read as a split), a short join timeout, faster merge announcements,
     * frequent anti-entropy.
     */
    public static Timings forLocalTesting() {
      return new Timings(Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofMillis(500),
          Duration.ofMillis(300), Duration.ofMillis(900), Duration.ofMillis(1000), Duration.ofSeconds(2),
          Duration.ofMillis(500), HAVE_GRACE, Duration.ofSeconds(5), Duration.ofMillis(300));
    }

    public Timings withJoinTimeout(Duration d) {
      return new Timings(d, heartbeatInterval, failureTimeout, verifySuspectTimeout, mergeMinInterval,
          mergeMaxInterval, mergeCheckInterval, antiEntropyInterval, antiEntropyJitter, haveGrace, publishTimeout, connectTimeout);
    }

    public Timings withPublishTimeout(Duration d) {
      return new Timings(joinTimeout, heartbeatInterval, failureTimeout, verifySuspectTimeout, mergeMinInterval,
          mergeMaxInterval, mergeCheckInterval, antiEntropyInterval, antiEntropyJitter, haveGrace, d, connectTimeout);
    }

    public Timings withConnectTimeout(Duration d) {
      return new Timings(joinTimeout, heartbeatInterval, failureTimeout, verifySuspectTimeout, mergeMinInterval,
          mergeMaxInterval, mergeCheckInterval, antiEntropyInterval, antiEntropyJitter, haveGrace, publishTimeout, d);
    }

    public Timings withAntiEntropyInterval(Duration interval, Duration jitter) {
      return new Timings(joinTimeout, heartbeatInterval, failureTimeout, verifySuspectTimeout, mergeMinInterval,
          mergeMaxInterval, mergeCheckInterval, interval, jitter, haveGrace, publishTimeout, connectTimeout);
    }

    public Timings withHaveGrace(Duration d) {
      return new Timings(joinTimeout, heartbeatInterval, failureTimeout, verifySuspectTimeout, mergeMinInterval,
          mergeMaxInterval, mergeCheckInterval, antiEntropyInterval, antiEntropyJitter, d, publishTimeout, connectTimeout);
    }
  }
}
