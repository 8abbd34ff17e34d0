package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.replication.MeshRecords.PutResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Records on a real 3-member cluster in this JVM: every member's records reach every member; updates,
 * removals and a partition's writes converge; a rogue's records are dropped and counted. The cluster is
 * shared, the tests run in order and each uses its own keys.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RecordsClusterTest {
  private static final int SIZE = 3;
  private final TestBundles bundles = new TestBundles();
  private final List<String> heardOn2 = new CopyOnWriteArrayList<>();
  private TestCluster cluster;

  @BeforeAll
  void startCluster() {
    cluster = TestCluster.plaintext("rec", SIZE, bundles).startAll();
    cluster.mesh(2).records().addListener((key, member) -> heardOn2.add(key + "@" + member));
    cluster.awaitClustered();
  }

  @AfterAll
  void stopCluster() {
    cluster.close();
  }

  @Test
  @Order(1)
  void eachMembersRecords_reachEveryMember_andListenersHearRemoteOnes() {
    for (int i = 0; i < SIZE; i++) {
      for (int k = 0; k < 3; k++) {
        assertThat(records(i).putOwn("all/k" + k, bytes("v1-" + i))).isEqualTo(PutResult.STORED);
      }
    }
    Map<String, Map<String, String>> expected = new TreeMap<>();
    for (int k = 0; k < 3; k++) {
      Map<String, String> byMember = new TreeMap<>();
      for (int i = 0; i < SIZE; i++) {
        byMember.put(id(i), "v1-" + i);
      }
      expected.put("all/k" + k, byMember);
    }
    awaitEveryMemberHas("all/", expected);
    assertThat(heardOn2).contains("all/k0@rec-0", "all/k2@rec-1", "all/k1@rec-2");
  }

  @Test
  @Order(2)
  void updatesAndRemovals_propagate() {
    records(0).putOwn("upd/a", bytes("1"));
    records(0).putOwn("upd/b", bytes("1"));
    awaitEveryMemberHas("upd/", Map.of("upd/a", Map.of(id(0), "1"), "upd/b", Map.of(id(0), "1")));

    records(0).putOwn("upd/a", bytes("2"));
    records(0).removeOwn("upd/b");

    awaitEveryMemberHas("upd/", Map.of("upd/a", Map.of(id(0), "2")));
    await().atMost(TestCluster.WAIT).until(() -> heardOn2.stream().filter("upd/b@rec-0"::equals).count() >= 2);
  }

  @Test
  @Order(3)
  void aRoguesBadRecords_areDroppedAndCounted_onTheOthers() {
    // a member writing straight into the cache, around putOwn's checks
    var cache = cluster.mesh(0).recordsCache();
    cache.put("rogue|big", new byte[MeshRecords.MAX_VALUE_BYTES + 1]);
    cache.put("rogue|Not A Key", bytes("x"));
    cache.put("rogue|fine", bytes("ok"));

    awaitEveryMemberHas("fine", Map.of("fine", Map.of("rogue", "ok")));
    for (int i = 1; i < SIZE; i++) {
      int m = i;
      await().atMost(TestCluster.WAIT).untilAsserted(() -> assertThat(cluster.mesh(m).stats().rejected())
          .containsEntry(ReplicatedRecords.TOO_LARGE, 1L).containsEntry(ReplicatedRecords.BAD_KEY, 1L));
      assertThat(records(m).snapshot()).doesNotContainKeys("big", "Not A Key");
    }
  }

  @Test
  @Order(4)
  void writesOnBothSidesOfAPartition_convergeAfterTheHeal() {
    for (int i = 0; i < SIZE; i++) {
      records(i).putOwn("part/x", bytes("before-" + i));
      records(i).putOwn("part/gone", bytes("before-" + i));
    }
    Map<String, Map<String, String>> before = new HashMap<>();
    before.put("part/x", members("before-"));
    before.put("part/gone", members("before-"));
    awaitEveryMemberHas("part/", before);

    Partition.split(cluster.meshes(0), cluster.meshes(1, 2));
    cluster.awaitViews(0);
    cluster.awaitViews(1, 2);
    for (int i = 0; i < SIZE; i++) {
      records(i).putOwn("part/x", bytes("during-" + i));
    }
    records(0).removeOwn("part/gone");
    records(1).putOwn("part/new", bytes("during-1"));
    // each side sees its own side's writes, and the other side's last values from before
    await().atMost(TestCluster.WAIT).untilAsserted(() -> {
      assertThat(text(records(2).snapshot().get("part/x").get(id(1)))).isEqualTo("during-1");
      assertThat(text(records(2).snapshot().get("part/x").get(id(0)))).isEqualTo("before-0");
    });

    Partition.heal(cluster.meshes);
    cluster.awaitClustered();
    Map<String, Map<String, String>> after = new HashMap<>();
    after.put("part/x", members("during-"));
    after.put("part/gone", Map.of(id(1), "before-1", id(2), "before-2"));
    after.put("part/new", Map.of(id(1), "during-1"));
    awaitEveryMemberHas("part/", after);
  }

  @Test
  @Order(5)
  void aRestartedMember_getsTheOthersRecords_andTheOnesItPutsAgainSpread() {
    records(0).putOwn("rst/kept", bytes("old"));
    records(0).putOwn("rst/dropped", bytes("old"));
    records(1).putOwn("rst/peer", bytes("p1"));
    records(2).putOwn("rst/peer", bytes("p2"));
    awaitEveryMemberHas("rst/", Map.of("rst/kept", Map.of(id(0), "old"), "rst/dropped", Map.of(id(0), "old"),
        "rst/peer", Map.of(id(1), "p1", id(2), "p2")));

    cluster.stop(0);
    // a new incarnation keeps nothing; the node puts again what its disk says, before starting the mesh
    InfinispanMesh restarted = new InfinispanMesh(cluster.configs.get(0), bundles.verifier, cluster.store(0),
        java.time.Clock.systemUTC(), cluster.mesh(1).options);
    cluster.meshes.set(0, restarted);
    assertThat(restarted.records().snapshot()).isEmpty();
    long t0 = System.nanoTime();
    assertThat(restarted.records().putOwn("rst/kept", bytes("new"))).isEqualTo(PutResult.STORED);
    restarted.start();
    // while the mesh joins: stored at once, pushed once the cache is ready
    assertThat(restarted.records().putOwn("rst/joining", bytes("j"))).isEqualTo(PutResult.STORED);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
    cluster.awaitClustered();

    // what it no longer puts is gone everywhere, what it puts again spreads, and it has the others'
    awaitEveryMemberHas("rst/", Map.of("rst/kept", Map.of(id(0), "new"), "rst/joining", Map.of(id(0), "j"),
        "rst/peer", Map.of(id(1), "p1", id(2), "p2")));
    assertThat(text(records(0).snapshot().get("all/k0").get(id(2)))).isEqualTo("v1-2");
  }

  private MeshRecords records(int i) {
    return cluster.mesh(i).records();
  }

  private String id(int i) {
    return cluster.configs.get(i).nodeId();
  }

  private Map<String, String> members(String prefix) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < SIZE; i++) {
      m.put(id(i), prefix + i);
    }
    return m;
  }

  /** Waits until every member's snapshot, limited to keys starting with {@code prefix}, is exactly {@code expected}. */
  private void awaitEveryMemberHas(String prefix, Map<String, Map<String, String>> expected) {
    try {
      awaitEveryMemberHas0(prefix, expected);
    } catch (RuntimeException | AssertionError e) {
      for (int i = 0; i < SIZE; i++) {
        Map<Object, String> copy = new TreeMap<>();
        for (Map.Entry<?, ?> entry : cluster.mesh(i).recordsCache().getAdvancedCache()
            .withFlags(org.infinispan.context.Flag.CACHE_MODE_LOCAL).entrySet()) {
          copy.put(entry.getKey(), entry.getValue() instanceof byte[] b ? text(b) : String.valueOf(entry.getValue()));
        }
        System.err.println("records cache copy of member " + i + ": " + copy); // to tell a missed event from a lost write
      }
      throw e;
    }
  }

  private void awaitEveryMemberHas0(String prefix, Map<String, Map<String, String>> expected) {
    await(prefix + " on every member").atMost(TestCluster.WAIT).pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> IntStream.range(0, SIZE).forEach(i ->
            assertThat(texts(records(i).snapshot(), prefix)).as("member %d", i).isEqualTo(expected)));
  }

  private static Map<String, Map<String, String>> texts(Map<String, Map<String, byte[]>> snapshot, String prefix) {
    Map<String, Map<String, String>> out = new HashMap<>();
    snapshot.forEach((key, byMember) -> {
      if (key.startsWith(prefix)) {
        Map<String, String> m = new HashMap<>();
        byMember.forEach((member, value) -> m.put(member, text(value)));
        out.put(key, m);
      }
    });
    return out;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
