package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.factories.ComponentRegistry;
import org.infinispan.xsite.XSiteAdminOperations;
import org.jgroups.protocols.relay.RELAY2;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two sites in this JVM, bridged by RELAY2 (loopback 127.0.0.211-220 and 225-232, ports 18720-18731): a publish in one
 * site reaches the other through the site masters and spreads inside it; the sites report each other online.
 */
class SitesMeshTest {
  private static final Duration WAIT = Duration.ofSeconds(40);
  private static final int MESH_PORT = 18720;
  private static final int BRIDGE_PORT = 18730;
  private final TestBundles bundles = new TestBundles();
  private final List<InfinispanMesh> meshes = new ArrayList<>();
  private final List<LocalBundles> stores = new ArrayList<>();
  @TempDir Path tmp;

  @AfterEach
  void close() {
    meshes.parallelStream().forEach(InfinispanMesh::close);
  }

  private static InetSocketAddress at(int host, int port) throws Exception {
    return new InetSocketAddress(InetAddress.getByName("127.0.0." + host), port);
  }

  private InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost)
      throws Exception {
    return start(id, site, other, host, siteHosts, otherHost, true);
  }

  private InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost,
                               boolean bridge) throws Exception {
    return start(id, site, other, host, siteHosts, otherHost, bridge, new InMemoryLocalBundles());
  }

  private InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost,
                               boolean bridge, LocalBundles store) throws Exception {
    return start(id, site, other, host, siteHosts, otherHost, bridge, store, new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true));
  }

  private InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost,
                               boolean bridge, LocalBundles store, InfinispanMesh.Options options) throws Exception {
    return start(id, site, other, host, siteHosts, otherHost, bridge, store, options, new MeshConfig.Plaintext());
  }

  private InfinispanMesh start(String id, String site, String other, int host, List<Integer> siteHosts, int otherHost,
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
    InfinispanMesh m = new InfinispanMesh(c, bundles.verifier, store, Clock.systemUTC(),
        options);
    meshes.add(m);
    stores.add(store);
    m.start();
    return m;
  }

  @Test
  void publishInOneSite_isHeldByEveryNodeOfTheOther_andSitesSeeEachOtherOnline() throws Exception {
    InfinispanMesh east0 = start("east-0", "east", "west", 211, List.of(211, 212), 213);
    InfinispanMesh east1 = start("east-1", "east", "west", 212, List.of(211, 212), 213);
    InfinispanMesh west0 = start("west-0", "west", "east", 213, List.of(213), 211);
    await("meshes ready").atMost(WAIT).until(() -> meshes.stream().allMatch(InfinispanMesh::isReady));
    await("east clustered").atMost(WAIT).until(() -> east0.view().members().size() == 2);
    assertThat((Object) east0.channel().getProtocolStack().findProtocol(RELAY2.class)).isNotNull();

    var b = bundles.bundle("app", 1);
    ((InMemoryLocalBundles) stores.get(0)).store(b);
    east0.publish(b);
    await("west holds app v1").atMost(WAIT).until(() -> held(2, "app") == 1);

    var b2 = bundles.bundle("app", 2);
    ((InMemoryLocalBundles) stores.get(2)).store(b2);
    west0.publish(b2);
    await("east holds app v2").atMost(WAIT)
        .until(() -> held(0, "app") == 2 && held(1, "app") == 2);

    await("sites online").atMost(WAIT).until(() -> east1.sites().size() == 1 && east1.sites().get(0).online()
        && west0.sites().get(0).online());
    assertThat(west0.site()).contains("west");
    assertThat(west0.sites().get(0).name()).isEqualTo("east");
  }

  /**
   * Cross-site anti-entropy is the guarantee, not Infinispan: with the backups taken offline in both
   * sites (as after failures, or as a message lost when a site master dies), a publish still reaches the
   * other site, pulled by its site master through Ingest.
   */
  @Test
  void withInfinispanBackupsOffline_siteSyncAloneCarriesAPublishAcross() throws Exception {
    InfinispanMesh east0 = start("east-0", "east", "west", 214, List.of(214), 215);
    InfinispanMesh west0 = start("west-0", "west", "east", 215, List.of(215), 214);
    await("meshes ready").atMost(WAIT).until(() -> meshes.stream().allMatch(InfinispanMesh::isReady));
    await("sites online").atMost(WAIT).until(() -> east0.sites().get(0).online() && west0.sites().get(0).online());
    // a bridge's late sites-up event brings a backup Infinispan had just taken offline back online (seen
    // once: "online" read right after takeSiteOffline returned SUCCESS), so take them offline until both read so
    await("backups offline on both sides").atMost(WAIT).until(() -> {
      boolean both = true;
      for (var m : List.of(east0, west0)) {
        XSiteAdminOperations admin = ComponentRegistry.of(m.cache()).getComponent(XSiteAdminOperations.class);
        String other = m == east0 ? "west" : "east";
        if (!XSiteAdminOperations.OFFLINE.equals(admin.siteStatus(other))) {
          assertThat(admin.takeSiteOffline(other)).isEqualTo(XSiteAdminOperations.SUCCESS);
          both &= XSiteAdminOperations.OFFLINE.equals(admin.siteStatus(other));
        }
      }
      return both;
    });

    var b = bundles.bundle("app", 5);
    ((InMemoryLocalBundles) stores.get(0)).store(b);
    east0.publish(b);

    await("west holds app v5").atMost(WAIT).until(() -> held(1, "app") == 5);
    assertThat(west0.stats().storedBySource()).containsEntry("site", 1L);
  }

  /**
   * A node without a bridge never becomes its site's master, even as the view's coordinator: the next
   * member with one relays, and the bridgeless node's publish still crosses.
   */
  @Test
  void aNodeWithoutABridge_relaysThroughTheOneWithABridge() throws Exception {
    InfinispanMesh east0 = start("east-0", "east", "west", 216, List.of(216, 217), 218, false);
    await("east-0 ready").atMost(WAIT).until(east0::isReady);
    InfinispanMesh east1 = start("east-1", "east", "west", 217, List.of(216, 217), 218);
    InfinispanMesh west0 = start("west-0", "west", "east", 218, List.of(218), 217);
    await("meshes ready").atMost(WAIT).until(() -> meshes.stream().allMatch(InfinispanMesh::isReady));
    await("east clustered").atMost(WAIT).until(() -> east0.view().members().size() == 2);
    assertThat(east0.view().coordinator()).contains("east-0");
    await("east-1 is east's site master").atMost(WAIT).until(() -> SiteSync.isSiteMaster(relay(east1), east1.channel()));
    assertThat(SiteSync.isSiteMaster(relay(east0), east0.channel())).isFalse();

    var b = bundles.bundle("app", 7);
    ((InMemoryLocalBundles) stores.get(0)).store(b);
    east0.publish(b);

    await("west holds app v7").atMost(WAIT).until(() -> held(2, "app") == 7);
    await("east-0 sees west online through its site master").atMost(WAIT).until(() -> east0.sites().get(0).online());
  }

  /**
   * The mesh CA's revocation list crosses sites as a record does (the records cache is backed up to every
   * site): written into one east host's TLS directory only, it is in force in west too, whose members cut
   * off the one it names; a publish from east still reaches west's site master, and not the revoked host.
   */
  @Test
  void aRevocationListWrittenInOneSite_isInForceInTheOther_whichCutsOffTheRevokedMember() throws Exception {
    TlsSites s = tlsSites(227);
    RevocationList list = s.ca.revocationList(null, List.of(s.creds.get("west-1").certificate().getSerialNumber()));
    Files.writeString(tmp.resolve("east-0-" + RevocationList.FILE), list.pem());

    await("west-0 has east's list in force").atMost(WAIT).untilAsserted(() ->
        assertThat(s.west0.revocationList()).hasValueSatisfying(st -> {
          assertThat(st.inForce()).isTrue();
          assertThat(st.revoked()).isEqualTo(1);
          assertThat(st.problem()).isNull();
        }));
    await("west-0 goes on without west-1").atMost(WAIT)
        .until(() -> s.west0.view().members().stream().noneMatch(m -> m.id().equals("west-1")));
    await("west-1's attempts to come back are refused as revoked").atMost(WAIT)
        .until(() -> s.west0.stats().tlsRefused().getOrDefault("revoked", 0L) > 0);

    publishInEast(s, 3);
    await("west-0 holds app v3").atMost(WAIT).until(() -> held(1, "app") == 3);
    await("west-1 does not").during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> held(2, "app") == 0);
  }

  /**
   * A revoked site master is the one way into its site, and the other site refuses it: its site may never
   * hear of a list written only elsewhere, so the list goes into one host of each site. There it cuts the
   * revoked host off, the other member becomes the site master, and publishes cross again.
   */
  @Test
  void aRevokedSiteMaster_isReplacedOnceItsOwnSiteHasTheList() throws Exception {
    TlsSites s = tlsSites(230);
    RevocationList list = s.ca.revocationList(null, List.of(s.creds.get("west-0").certificate().getSerialNumber()));
    Files.writeString(tmp.resolve("east-0-" + RevocationList.FILE), list.pem());
    Files.writeString(tmp.resolve("west-1-" + RevocationList.FILE), list.pem());

    await("west-1 goes on without west-0").atMost(WAIT)
        .until(() -> s.west1.view().members().stream().noneMatch(m -> m.id().equals("west-0")));
    await("west-1 is west's site master").atMost(WAIT)
        .until(() -> SiteSync.isSiteMaster(relay(s.west1), s.west1.channel()));
    await("east refuses west-0 at its bridge").atMost(WAIT)
        .until(() -> s.east0.stats().tlsRefused().getOrDefault("revoked", 0L) > 0);

    publishInEast(s, 4);
    await("west-1 holds app v4").atMost(WAIT).until(() -> held(2, "app") == 4);
    await("west-0 does not").during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> held(1, "app") == 0);
  }

  /** east-0 alone in east; west-0, then west-1 in west, west-0 its coordinator and site master; one mesh CA, TLS everywhere. */
  private record TlsSites(MeshCa ca, java.util.Map<String, NodeCredentials> creds, InfinispanMesh east0,
                          InfinispanMesh west0, InfinispanMesh west1) {
  }

  private TlsSites tlsSites(int firstHost) throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true);
    java.util.Map<String, NodeCredentials> creds = new java.util.HashMap<>();
    for (String id : List.of("east-0", "west-0", "west-1")) {
      creds.put(id, ca.issue(id));
    }
    java.util.function.Function<String, MeshConfig.Security> tls = id ->
        new MeshConfig.Tls(creds.get(id), tmp.resolve(id + "-" + RevocationList.FILE));
    int e = firstHost;
    int w0 = firstHost + 1;
    int w1 = firstHost + 2;
    InfinispanMesh east0 = start("east-0", "east", "west", e, List.of(e), w0, true, new InMemoryLocalBundles(),
        options, tls.apply("east-0"));
    InfinispanMesh west0 = start("west-0", "west", "east", w0, List.of(w0, w1), e, true, new InMemoryLocalBundles(),
        options, tls.apply("west-0"));
    await("west-0 ready").atMost(WAIT).until(west0::isReady);
    InfinispanMesh west1 = start("west-1", "west", "east", w1, List.of(w0, w1), e, true, new InMemoryLocalBundles(),
        options, tls.apply("west-1"));
    await("meshes ready").atMost(WAIT).until(() -> meshes.stream().allMatch(InfinispanMesh::isReady));
    await("west clustered").atMost(WAIT).until(() -> west0.view().members().size() == 2);
    assertThat(west0.view().coordinator()).contains("west-0");
    await("west-0 is west's site master").atMost(WAIT).until(() -> SiteSync.isSiteMaster(relay(west0), west0.channel()));
    await("sites online").atMost(WAIT).until(() -> east0.sites().get(0).online() && west0.sites().get(0).online());
    return new TlsSites(ca, creds, east0, west0, west1);
  }

  private void publishInEast(TlsSites s, long version) {
    var b = bundles.bundle("app", version);
    ((InMemoryLocalBundles) stores.get(0)).store(b);
    s.east0.publish(b);
  }

  private static RELAY2 relay(InfinispanMesh m) {
    return m.channel().getProtocolStack().findProtocol(RELAY2.class);
  }

  private long held(int i, String name) {
    return stores.get(i).highest(name).map(b -> b.version()).orElse(0L);
  }

  /**
   * The same door between sites as inside one: a site master that answers a pull for {@code app} with
   * another name's archive (a lying or broken site) gets it dropped by Ingest, which counts it; nothing is
   * stored.
   */
  @Test
  void anArchiveFromAnotherSite_thatDoesNotVerifyAsTheName_isDroppedBeforeTheStore() throws Exception {
    var other = bundles.bundle("other", 9);
    LocalBundles lying = new LocalBundles() {
      @Override
      public java.util.Map<String, VersionStamp> digest() {
        return java.util.Map.of("app", Ingest.stampOf(other));
      }

      @Override
      public Optional<io.knowngood.crypto.bundle.VerifiedBundle> highest(String name) {
        return Optional.of(other);
      }

      @Override
      public Admission offer(io.knowngood.crypto.bundle.VerifiedBundle bundle, String source) {
        return new Admission.Ignored("lying store keeps what it has");
      }
    };
    InfinispanMesh east0 = start("east-0", "east", "west", 219, List.of(219), 220);
    start("west-0", "west", "east", 220, List.of(220), 219, true, lying);
    await("meshes ready").atMost(WAIT).until(() -> meshes.stream().allMatch(InfinispanMesh::isReady));

    await("east drops west's answer").atMost(WAIT)
        .until(() -> east0.stats().rejected().getOrDefault("name_mismatch", 0L) >= 1);
    assertThat(held(0, "app")).isZero();
    assertThat(((InMemoryLocalBundles) stores.get(0)).offered()).isEmpty();
    assertThat(east0.stats().storedBySource()).doesNotContainKey("site");
  }

  /**
   * One node id in two sites: the two hosts are never in one view, but the records cache is backed up
   * across, so each overwrote the other's records and wrote its own again, without end (before
   * SiteIdClashWatch: a write every 2 s each way, seen for a minute). The later host leaves the mesh;
   * the earlier stays, and nothing more is written.
   */
  @Test
  void oneNodeIdInTwoSites_theLaterHostLeavesTheMesh_andTheExchangeOfRecordsStops() throws Exception {
    // records are written again every round only while they differ from the copy: the exchange, not the rewrites of a recent change
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true)
        .withIdClashGrace(Duration.ofSeconds(3)).withRecordsRecent(Duration.ofMillis(500));
    InfinispanMesh first = start("host-01", "east", "west", 225, List.of(225), 226, true, new InMemoryLocalBundles(), options);
    await("east ready").atMost(WAIT).until(first::isReady);
    InfinispanMesh later = start("host-01", "west", "east", 226, List.of(226), 225, true, new InMemoryLocalBundles(), options);
    first.records().putOwn("report", "east".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    later.records().putOwn("report", "west".getBytes(java.nio.charset.StandardCharsets.US_ASCII));

    await("the later host leaves").atMost(WAIT).until(() -> later.lifecycle() == MeshLifecycle.DUPLICATE_ID);
    assertThat(later.view().state()).isEqualTo(MeshState.DUPLICATE_ID);
    assertThat(later.idClashes()).singleElement().satisfies(c -> {
      assertThat(c.address()).isEqualTo("127.0.0.225:" + MESH_PORT);
      assertThat(c.site()).isEqualTo("east");
      assertThat(c.left()).isTrue();
    });
    assertThat(first.lifecycle()).isEqualTo(MeshLifecycle.READY);
    assertThat(first.idClashes()).singleElement().satisfies(c -> {
      assertThat(c.address()).isEqualTo("127.0.0.226:" + MESH_PORT);
      assertThat(c.site()).isEqualTo("west");
      assertThat(c.earlier()).isFalse();
      assertThat(c.left()).isFalse();
    });
    ReplicatedRecords records = (ReplicatedRecords) first.records();
    long[] writes = {records.writes(), System.nanoTime()};
    await("east writes nothing more for 4 s").atMost(WAIT).pollInterval(Duration.ofMillis(250)).until(() -> {
      if (records.writes() != writes[0]) {
        writes[0] = records.writes();
        writes[1] = System.nanoTime();
      }
      return System.nanoTime() - writes[1] > Duration.ofSeconds(4).toNanos();
    });
    assertThat(first.records().snapshot().get("report")).containsOnlyKeys("host-01");
    assertThat(new String(first.records().snapshot().get("report").get("host-01"), java.nio.charset.StandardCharsets.US_ASCII))
        .isEqualTo("east");
  }
}
