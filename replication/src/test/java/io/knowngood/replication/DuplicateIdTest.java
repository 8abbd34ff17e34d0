package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.infinispan.configuration.cache.CacheMode;
import org.junit.jupiter.api.Test;

/**
 * Two hosts given one node id (a configuration copied to a second host), in-process on the real stack:
 * the one that joined later leaves the mesh and says why; the one that joined first stays, and its
 * records, which the later one overwrote while both were in view, are its own again everywhere.
 */
class DuplicateIdTest {
  private static final Duration GRACE = Duration.ofSeconds(3);

  @Test
  void theLaterOfTwoMembersWithOneId_leavesTheMesh_andTheFirstKeepsItsRecords() {
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, true)
        .withIdClashGrace(GRACE);
    try (TestCluster cluster = TestCluster.create("dupid", 3, new TestBundles(), options, i -> new MeshConfig.Plaintext())) {
      MeshConfig second = cluster.configs.get(2);
      String id = cluster.configs.get(0).nodeId();
      cluster.configs.set(2, new MeshConfig(id, second.clusterName(), second.bind(), second.peers(),
          second.security(), second.timings()));
      cluster.start(0);
      cluster.start(1);
      cluster.awaitViews(0, 1);
      cluster.mesh(0).records().putOwn("desktop@1", bytes("first host's reports"));
      await("member 1 has member 0's record").atMost(TestCluster.WAIT)
          .until(() -> "first host's reports".equals(recordOf(cluster.mesh(1), "desktop@1", id)));

      InfinispanMesh later = cluster.start(2);
      later.records().putOwn("desktop@1", bytes("second host's reports"));

      await("the later member leaves").atMost(TestCluster.WAIT)
          .until(() -> later.view().state() == MeshState.DUPLICATE_ID);
      assertThat(later.lifecycle()).isEqualTo(MeshLifecycle.DUPLICATE_ID);
      String firstAddress = InfinispanMesh.format(cluster.configs.get(0).bind());
      String laterAddress = InfinispanMesh.format(second.bind());
      assertThat(later.idClashes()).singleElement().satisfies(c -> {
        assertThat(c.address()).isEqualTo(firstAddress);
        assertThat(c.earlier()).isTrue();
        assertThat(c.left()).isTrue();
      });
      assertThat(cluster.mesh(0).idClashes()).singleElement().satisfies(c -> {
        assertThat(c.address()).isEqualTo(laterAddress);
        assertThat(c.earlier()).isFalse();
        assertThat(c.left()).isFalse();
      });

      // the first stays in the mesh with member 1, and its record is its own again there
      cluster.awaitViews(0, 1);
      assertThat(cluster.mesh(0).isReady()).isTrue();
      await("member 0's record restored on member 1").atMost(TestCluster.WAIT)
          .until(() -> "first host's reports".equals(recordOf(cluster.mesh(1), "desktop@1", id)));

      // the later one goes on alone: it takes a publish on its own and never rejoins
      PublishOutcome alone = cluster.publish(2, "desktop", 1);
      assertThat(alone.membersHolding()).isEqualTo(1);
      assertThat(alone.membersInView()).isEqualTo(1);
      assertThat(cluster.publish(0, "printers", 1).membersHolding()).isEqualTo(2);
      cluster.awaitAllHold("printers", 1, 0, 1);
      assertThat(cluster.store(2).version("printers")).isZero();
      assertThat(cluster.store(1).version("desktop")).isZero();
      assertThat(later.view().state()).isEqualTo(MeshState.DUPLICATE_ID);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String recordOf(InfinispanMesh mesh, String key, String member) {
    Map<String, byte[]> byMember = mesh.records().snapshot().get(key);
    byte[] v = byMember == null ? null : byMember.get(member);
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }
}
