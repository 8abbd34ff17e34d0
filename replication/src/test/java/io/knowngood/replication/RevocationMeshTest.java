package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.infinispan.configuration.cache.CacheMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host removed from the mesh by the CA's revocation list: once the list naming it is in one member's
 * TLS directory, the mesh carries it to the others, and they close their connections to it, refuse it at
 * every handshake, and go on as a mesh without it; a damaged list put over it later changes nothing.
 */
class RevocationMeshTest {
  @TempDir Path tmp;

  @Test
  void aMemberWhoseCertificateIsRevoked_isCutOffByTheOthers_andStaysOut() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    TestBundles bundles = new TestBundles();
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, false, true, true);
    List<NodeCredentials> creds = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      creds.add(ca.issue("rev-" + i));
    }
    try (TestCluster cluster = TestCluster.create("rev", 3, bundles, options,
        i -> new MeshConfig.Tls(creds.get(i), tmp.resolve("n" + i + "-" + RevocationList.FILE)))) {
      cluster.startAll();
      cluster.awaitClustered();
      assertThat(cluster.mesh(0).revocationList()).hasValueSatisfying(s -> assertThat(s.inForce()).isFalse());

      RevocationList list = ca.revocationList(null, List.of(creds.get(2).certificate().getSerialNumber()));
      // copied to one host only: the mesh carries it to the others (rev-1 never has a crl.pem)
      Files.writeString(tmp.resolve("n0-" + RevocationList.FILE), list.pem());

      cluster.awaitViews(0, 1);
      // the view can exclude rev-2 as soon as rev-0 cuts it off, before rev-1's looker has taken the list from rev-0's record
      for (int i = 0; i < 2; i++) {
        int member = i;
        await("rev-" + i + " has the list in force").atMost(TestCluster.WAIT).untilAsserted(() ->
            assertThat(cluster.mesh(member).revocationList()).hasValueSatisfying(s -> {
              assertThat(s.inForce()).isTrue();
              assertThat(s.revoked()).isEqualTo(1);
              assertThat(s.problem()).isNull();
            }));
      }
      await("rev-2's attempts to come back are refused as revoked").atMost(TestCluster.WAIT).until(() ->
          cluster.meshes(0, 1).stream().mapToLong(m -> m.stats().tlsRefused().getOrDefault("revoked", 0L)).sum() > 0);
      assertThat(cluster.meshes(0, 1).stream().flatMap(m -> m.tlsRefusals().stream()).map(TlsRefusals.Refusal::reason))
          .anyMatch(r -> r.startsWith("its certificate CN=rev-2") && r.contains("was revoked by this mesh's CA"));

      PublishOutcome out = cluster.publish(0, "after", 1);
      assertThat(out.membersInView()).isEqualTo(2);
      cluster.awaitAllHold("after", 1, 0, 1);

      // a damaged copy over the list in force: nothing changes, rev-2 stays out
      Files.writeString(tmp.resolve("n0-" + RevocationList.FILE), list.pem().substring(0, list.pem().length() / 2),
          StandardCharsets.US_ASCII);
      await("the damaged list is seen and not used").atMost(Duration.ofSeconds(10))
          .until(() -> cluster.mesh(0).revocationList().orElseThrow().problem() != null);
      assertThat(cluster.mesh(0).revocationList().orElseThrow().revoked()).isEqualTo(1);
      await("rev-2 stays out").during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10))
          .until(() -> cluster.mesh(0).view().members().stream().noneMatch(m -> m.id().equals("rev-2")));
      assertThat(cluster.store(2).version("after")).isZero();
    }
  }
}
