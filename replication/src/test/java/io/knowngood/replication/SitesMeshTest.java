package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.factories.ComponentRegistry;
import org.infinispan.xsite.XSiteAdminOperations;
import org.jgroups.protocols.relay.RELAY2;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two sites in this JVM, bridged by RELAY2 (loopback 127.0.0.211-220 and 225-226, ports 18720-18731): a publish in one
 * site reaches the other through the site masters and spreads inside it; the sites report each other online.
 */
class SitesMeshTest {
  private static final Duration WAIT = TestSites.WAIT;
  private static final int MESH_PORT = TestSites.MESH_PORT;
  private final TestSites sites = new TestSites();
  private final TestBundles bundles = sites.bundles;
  private final List<InfinispanMesh> meshes = sites.meshes;
  private final List<LocalBundles> stores = sites.stores;

  @AfterEach
  void close() {
    sites.close();
  }

  @Test
  void publishInOneSite_isHeldByEveryNodeOfTheOther_andSitesSeeEachOtherOnline() throws Exception {
    InfinispanMesh east0 = sites.start("east-0", "east", "west", 211, List.of(211, 212), 213);
    InfinispanMesh east1 = sites.start("east-1", "east", "west", 212, List.of(211, 212), 213);
    InfinispanMesh west0 = sites.start("west-0", "west", "east", 213, List.of(213), 211);
    await("meshes ready").atMost(WAIT).until(() -> meshes.stream().allMatch(InfinispanMesh::isReady));
    await("east clustered").atMost(WAIT).until(() -> east0.view().members().size() == 2);
    assertThat((Object) east0.channel().getProtocolStack().findProtocol(RELAY2.class)).isNotNull();

    var b = bundles.bundle("app", 1);
    ((InMemoryLocalBundles) stores.get(0)).store(b);
    east0.publish(b);
    await("west holds app v1").atMost(WAIT).until(() -> sites.held(2, "app") == 1);

    var b2 = bundles.bundle("app", 2);
    ((InMemoryLocalBundles) stores.get(2)).store(b2);
    west0.publish(b2);
    await("east holds app v2").atMost(WAIT)
        .until(() -> sites.held(0, "app") == 2 && sites.held(1, "app") == 2);

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
    InfinispanMesh east0 = sites.start("east-0", "east", "west", 214, List.of(214), 215);
    InfinispanMesh west0 = sites.start("west-0", "west", "east", 215, List.of(215), 214);
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

    await("west holds app v5").atMost(WAIT).until(() -> sites.held(1, "app") == 5);
    assertThat(west0.stats().storedBySource()).containsEntry("site", 1L);
  }

  /**
   * A node without a bridge never becomes its site's master, even as the view's coordinator: the next
   * member with one relays, and the bridgeless node's publish still crosses.
   */
  @Test
  void aNodeWithoutABridge_relaysThroughTheOneWithABridge() throws Exception {
    InfinispanMesh east0 = sites.start("east-0", "east", "west", 216, List.of(216, 217), 218, false);
    await("east-0 ready").atMost(WAIT).until(east0::isReady);
    InfinispanMesh east1 = sites.start("east-1", "east", "west", 217, List.of(216, 217), 218);
    InfinispanMesh west0 = sites.start("west-0", "west", "east", 218, List.of(218), 217);
    await("meshes ready").atMost(WAIT).until(() -> meshes.stream().allMatch(InfinispanMesh::isReady));
    await("east clustered").atMost(WAIT).until(() -> east0.view().members().size() == 2);
    assertThat(east0.view().coordinator()).contains("east-0");
    await("east-1 is east's site master").atMost(WAIT).until(() -> SiteSync.isSiteMaster(TestSites.relay(east1), east1.channel()));
    assertThat(SiteSync.isSiteMaster(TestSites.relay(east0), east0.channel())).isFalse();

    var b = bundles.bundle("app", 7);
    ((InMemoryLocalBundles) stores.get(0)).store(b);
    east0.publish(b);

    await("west holds app v7").atMost(WAIT).until(() -> sites.held(2, "app") == 7);
    await("east-0 sees west online through its site master").atMost(WAIT).until(() -> east0.sites().get(0).online());
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
    InfinispanMesh east0 = sites.start("east-0", "east", "west", 219, List.of(219), 220);
    sites.start("west-0", "west", "east", 220, List.of(220), 219, true, lying);
    await("meshes ready").atMost(WAIT).until(() -> meshes.stream().allMatch(InfinispanMesh::isReady));

    await("east drops west's answer").atMost(WAIT)
        .until(() -> east0.stats().rejected().getOrDefault("name_mismatch", 0L) >= 1);
    assertThat(sites.held(0, "app")).isZero();
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
    InfinispanMesh first = sites.start("host-01", "east", "west", 225, List.of(225), 226, true, new InMemoryLocalBundles(), options);
    await("east ready").atMost(WAIT).until(first::isReady);
    InfinispanMesh later = sites.start("host-01", "west", "east", 226, List.of(226), 225, true, new InMemoryLocalBundles(), options);
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
