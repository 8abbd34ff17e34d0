package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshConfigTest {
  private static final InetSocketAddress BIND = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7800);

  @Test
  void config_hostName_isRefusedNoDns() {
    InetSocketAddress byName = InetSocketAddress.createUnresolved("peer.example", 7800);
    assertThatThrownBy(() -> config("a", BIND, List.of(byName)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("IP literals");
  }

  @Test
  void config_badValues_areRefused() {
    assertThatThrownBy(() -> config("../a", BIND, List.of())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> config("a", new InetSocketAddress(InetAddress.getLoopbackAddress(), 65535), List.of()))
        .hasMessageContaining("port + 1");
    assertThatThrownBy(() -> MeshConfig.Timings.forLan().withPublishTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void config_peersIncludingSelf_areDeduplicated() {
    MeshConfig c = config("a", BIND, List.of(BIND, BIND));
    assertThat(c.expectedMembers()).containsExactly(BIND);
    assertThat(c.publishTimeout()).isEqualTo(MeshConfig.Timings.forLan().publishTimeout());
  }

  @Test
  void mesh_notStarted_saysStartingAndPublishAnswersAtOnce() {
    TestBundles bundles = new TestBundles();
    try (Mesh mesh = Mesh.create(config("a", BIND, List.of()), bundles.verifier, new InMemoryLocalBundles())) {
      assertThat(mesh.view().state()).isEqualTo(MeshState.STARTING);
      assertThat(mesh.publish(bundles.bundle("x", 1))).isEqualTo(new PublishOutcome("x", 1, 1, 1, false));
      assertThat(mesh.memberDigests()).containsOnlyKeys("a");
    }
  }

  @Test
  void mesh_portTaken_reportsStopped() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      InetSocketAddress bind = new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());
      TestBundles bundles = new TestBundles();
      try (Mesh mesh = new InfinispanMesh(config("a", bind, List.of()), bundles.verifier, new InMemoryLocalBundles(),
          Clock.systemUTC(), InfinispanMesh.Options.production())) {
        mesh.start();
        await().atMost(TestCluster.WAIT).until(() -> mesh.view().state() == MeshState.STOPPED);
      }
    }
  }

  private static MeshConfig config(String id, InetSocketAddress bind, List<InetSocketAddress> peers) {
    return new MeshConfig(id, "c", bind, peers, new MeshConfig.Plaintext(), MeshConfig.Timings.forLan());
  }
}
