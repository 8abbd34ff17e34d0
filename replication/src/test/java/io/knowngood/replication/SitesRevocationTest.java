package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.infinispan.configuration.cache.CacheMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mesh CA's revocation list and sites, on a TLS mesh of two sites in this JVM (loopback 127.0.0.227-232;
 * SitesMeshTest covers the rest of sites): east has one member, west two.
 */
class SitesRevocationTest {
  private static final Duration WAIT = TestSites.WAIT;
  private final TestSites sites = new TestSites();
  @TempDir Path tmp;

  @AfterEach
  void close() {
    sites.close();
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
    await("west-0 holds app v3").atMost(WAIT).until(() -> sites.held(1, "app") == 3);
    await("west-1 does not").during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> sites.held(2, "app") == 0);
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
        .until(() -> SiteSync.isSiteMaster(TestSites.relay(s.west1), s.west1.channel()));
    await("east refuses west-0 at its bridge").atMost(WAIT)
        .until(() -> s.east0.stats().tlsRefused().getOrDefault("revoked", 0L) > 0);

    publishInEast(s, 4);
    await("west-1 holds app v4").atMost(WAIT).until(() -> sites.held(2, "app") == 4);
    await("west-0 does not").during(Duration.ofSeconds(3)).atMost(WAIT).until(() -> sites.held(1, "app") == 0);
  }

  /** east-0 alone in east; west-0, then west-1 in west, west-0 its coordinator and site master; one mesh CA, TLS everywhere. */
  private record TlsSites(MeshCa ca, Map<String, NodeCredentials> creds, InfinispanMesh east0,
                          InfinispanMesh west0, InfinispanMesh west1) {
  }

  private TlsSites tlsSites(int firstHost) throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true);
    Map<String, NodeCredentials> creds = new HashMap<>();
    for (String id : List.of("east-0", "west-0", "west-1")) {
      creds.put(id, ca.issue(id));
    }
    Function<String, MeshConfig.Security> tls = id ->
        new MeshConfig.Tls(creds.get(id), tmp.resolve(id + "-" + RevocationList.FILE));
    int e = firstHost;
    int w0 = firstHost + 1;
    int w1 = firstHost + 2;
    InfinispanMesh east0 = sites.start("east-0", "east", "west", e, List.of(e), w0, true, new InMemoryLocalBundles(),
        options, tls.apply("east-0"));
    InfinispanMesh west0 = sites.start("west-0", "west", "east", w0, List.of(w0, w1), e, true, new InMemoryLocalBundles(),
        options, tls.apply("west-0"));
    await("west-0 ready").atMost(WAIT).until(west0::isReady);
    InfinispanMesh west1 = sites.start("west-1", "west", "east", w1, List.of(w0, w1), e, true, new InMemoryLocalBundles(),
        options, tls.apply("west-1"));
    await("meshes ready").atMost(WAIT).until(() -> sites.meshes.stream().allMatch(InfinispanMesh::isReady));
    await("west clustered").atMost(WAIT).until(() -> west0.view().members().size() == 2);
    assertThat(west0.view().coordinator()).contains("west-0");
    await("west-0 is west's site master").atMost(WAIT).until(() -> SiteSync.isSiteMaster(TestSites.relay(west0), west0.channel()));
    await("sites online").atMost(WAIT).until(() -> east0.sites().get(0).online() && west0.sites().get(0).online());
    return new TlsSites(ca, creds, east0, west0, west1);
  }

  private void publishInEast(TlsSites s, long version) {
    var b = sites.bundles.bundle("app", version);
    ((InMemoryLocalBundles) sites.stores.get(0)).store(b);
    s.east0.publish(b);
  }
}
