package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a view counts as partitioned: every configured peer accounted for by a member in view. */
class MeshStateTest {
  private static final InetSocketAddress SELF = new InetSocketAddress("127.0.0.1", 7800);
  private static final InetSocketAddress B = new InetSocketAddress("127.0.0.2", 7800);
  private static final InetSocketAddress C = new InetSocketAddress("127.0.0.3", 7800);
  private static final InetSocketAddress STRANGER = new InetSocketAddress("127.0.0.9", 7800);

  @Test
  void everyPeerPresent_isNotPartitioned() {
    assertThat(InfinispanMesh.partitioned(List.of(B, C), Set.of(SELF, B, C), 0)).isFalse();
  }

  @Test
  void aPeerMissing_isPartitioned_evenWithAStrangerInItsPlace() {
    assertThat(InfinispanMesh.partitioned(List.of(B, C), Set.of(SELF, B), 0)).isTrue();
    assertThat(InfinispanMesh.partitioned(List.of(B, C), Set.of(SELF, B, STRANGER), 0)).isTrue();
  }

  @Test
  void aMemberWhoseAddressIsNotKnownThisMoment_standsForOneMissingPeer_notTwo() {
    assertThat(InfinispanMesh.partitioned(List.of(B, C), Set.of(SELF, B), 1)).isFalse();
    assertThat(InfinispanMesh.partitioned(List.of(B, C), Set.of(SELF), 1)).isTrue();
    assertThat(InfinispanMesh.partitioned(List.of(B, C), Set.of(SELF), 2)).isFalse();
  }

  @Test
  void noConfiguredPeers_isNeverPartitioned() {
    assertThat(InfinispanMesh.partitioned(List.of(), Set.of(SELF), 0)).isFalse();
  }
}
