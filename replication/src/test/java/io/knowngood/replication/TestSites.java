package io.knowngood.replication;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.infinispan.configuration.cache.CacheMode;
import org.jgroups.protocols.relay.RELAY2;

/**
 * Meshes of several sites in this JVM, each member on a loopback address of its own (127.0.0.HOST) with
 * the mesh on port 18720 and its bridge on 18730; the tests that use it give each member its own HOST.
 */
final class TestSites implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(40);
  static final int MESH_PORT = 18720;
  static final int BRIDGE_PORT = 18730;
  final TestBundles bundles = new TestBundles();
  /** The members in the order they were started, and each one's store. */
  final List<InfinispanMesh> meshes = new ArrayList<>();
  final List<LocalBundles> stores = new ArrayList<>();

  static InetSocketAddress at(int host, int port) throws Exception {
    return new InetSocketAddress(InetAddress.getByName("127.0.0." + host), port);
  }

  InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost)
      throws Exception {
    return start(id, site, other, host, siteHosts, otherHost, true);
  }

  InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost,
                       boolean bridge) throws Exception {
    return start(id, site, other, host, siteHosts, otherHost, bridge, new InMemoryLocalBundles());
  }

  InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost,
                       boolean bridge, LocalBundles store) throws Exception {
    return start(id, site, other, host, siteHosts, otherHost, bridge, store, new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true));
  }

  InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost,
                       boolean bridge, LocalBundles store, InfinispanMesh.Options options) throws Exception {
    return start(id, site, other, host, siteHosts, otherHost, bridge, store, options, new MeshConfig.Plaintext());
  }

  /** Starts member {@code id} of {@code site}, whose bridge (if it has one) has the other site's bridge at {@code otherHost} as its peer. */
  InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost,
                       boolean bridge, LocalBundles store, InfinispanMesh.Options options,
                       MeshConfig.Security security) throws Exception {
    List<InetSocketAddress> peers = new ArrayList<>();
    for (int h : siteHosts) {
      peers.add(at(h, MESH_PORT));
    }
    MeshConfig c = new MeshConfig(id, "sites-test", at(host, MESH_PORT), peers, security,
        MeshConfig.Timings.forLocalTesting())
        .withSite(new MeshConfig.Site(site, List.of(other), bridge ? Optional.of(at(host, BRIDGE_PORT)) : Optional.empty(),
            List.of(at(otherHost, BRIDGE_PORT))));
    InfinispanMesh m = new InfinispanMesh(c, bundles.verifier, store, Clock.systemUTC(), options);
    meshes.add(m);
    stores.add(store);
    m.start();
    return m;
  }

  /** The highest version of {@code name} the {@code i}th member started holds, 0 for none. */
  long held(int i, String name) {
    return stores.get(i).highest(name).map(b -> b.version()).orElse(0L);
  }

  static RELAY2 relay(InfinispanMesh m) {
    return m.channel().getProtocolStack().findProtocol(RELAY2.class);
  }

  @Override
  public void close() {
    meshes.parallelStream().forEach(InfinispanMesh::close);
  }
}
