package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.meshca.MeshCa;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.MergeView;
import org.jgroups.stack.IpAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readdressing without DNS, on the real JGroups stack over loopback (no cache: discovery is all
 * that is under test): a node remembers its peers' addresses from earlier views, a member asked
 * by a newcomer introduces it to the mesh, and neither lets a host without a mesh certificate in.
 */
class ReaddressingTest {
  private final List<JChannel> channels = new ArrayList<>();
  @TempDir
  Path dir;

  @AfterEach
  void closeAll() {
    channels.forEach(JChannel::close);
  }

  private static InetSocketAddress freeAddress() {
    return new InetSocketAddress(TestCluster.loopback(), TestCluster.freePortPair());
  }

  private static MeshConfig config(String id, InetSocketAddress bind, InetSocketAddress... peers) {
    return config(id, new MeshConfig.Plaintext(), bind, peers);
  }

  private static MeshConfig config(String id, MeshConfig.Security security, InetSocketAddress bind, InetSocketAddress... peers) {
    return new MeshConfig(id, "readdress", bind, List.of(peers), security, MeshConfig.Timings.forLocalTesting());
  }

  private JChannel start(MeshConfig config) throws Exception {
    JChannel ch = JGroupsStack.build(config, false);
    channels.add(ch);
    ch.connect(config.clusterName());
    return ch;
  }


  @Test
  void aNodeWhosePeerListIsStale_joins_throughTheAddressItRememberedFromAnEarlierView() throws Exception {
    InetSocketAddress a = freeAddress();
    InetSocketAddress b = freeAddress();
    Path aPeers = dir.resolve("a-data/mesh-peers");
    java.nio.file.Files.createDirectories(aPeers.getParent());
    JChannel first = start(config("node-a", a, a, b).withPeersFile(aPeers));
    JChannel second = start(config("node-b", b, a, b));
    TestCluster.awaitChannelViews(first, second);
    await("b remembered by a").atMost(TestCluster.WAIT).until(() -> RememberedPeers.read(aPeers).contains(b));
    first.close();
    second.close();

    // b comes back knowing nobody; a comes back with a peer list whose only peer is wrong
    JChannel lonelyB = start(config("node-b", b));
    InetSocketAddress wrong = freeAddress();
    JChannel staleA = start(config("node-a", a, wrong).withPeersFile(aPeers));

    TestCluster.awaitChannelViews(staleA, lonelyB);
  }

  @Test
  void aNewcomerListedByNobody_findsTheMesh_throughTheOneMemberItLists_andTheOthersLearnIt() throws Exception {
    InetSocketAddress a = freeAddress();
    InetSocketAddress b = freeAddress();
    InetSocketAddress c = freeAddress(); // a host back with a new address: in nobody's list
    Path bPeers = dir.resolve("b-peers");
    JChannel coordinator = start(config("node-b", b, a, b).withPeersFile(bPeers));
    TestCluster.awaitChannelViews(coordinator);
    JChannel member = start(config("node-a", a, a, b));
    TestCluster.awaitChannelViews(coordinator, member);
    assertThat(coordinator.getView().getCoord()).isEqualTo(coordinator.getAddress());

    JChannel newcomer = start(config("node-c", c, a)); // lists only a, which is not the coordinator

    TestCluster.awaitChannelViews(coordinator, member, newcomer);
    // it joined through the coordinator a named, not by forming a view alone that a merge fixed later
    assertThat((Object) newcomer.getView()).isNotInstanceOf(MergeView.class);
    assertThat(newcomer.getView().getViewId().getCreator()).isEqualTo(coordinator.getAddress());
    assertThat(coordinator.down(new Event(Event.GET_PHYSICAL_ADDRESS, newcomer.getAddress())))
        .isEqualTo(new IpAddress(c.getAddress(), c.getPort()));
    await("c remembered by b").atMost(TestCluster.WAIT).until(() -> RememberedPeers.read(bPeers).contains(c));
  }

  /**
   * An old peer's address now held by a host without a mesh certificate (plaintext, or another CA's):
   * remembered or not, it is only a place discovery knocks; TLS refuses it, so it is neither admitted
   * nor introduced, and it stays alone while both of them list the member.
   */
  @Test
  void rememberedAddresses_ofHostsWithoutAMeshCertificate_letNobodyIn() throws Exception {
    MeshCa ca = MeshCa.generate(Clock.systemUTC());
    MeshCa otherCa = MeshCa.generate(Clock.systemUTC());
    InetSocketAddress a = freeAddress();
    InetSocketAddress b = freeAddress();
    InetSocketAddress plain = freeAddress();
    InetSocketAddress foreign = freeAddress();
    Path aPeers = dir.resolve("a-peers");
    new RememberedPeers(aPeers, a).viewed(List.of(plain, foreign)); // remembered from when they were peers

    JChannel memberA = start(config("node-a", new MeshConfig.Tls(ca.issue("node-a")), a, a, b).withPeersFile(aPeers));
    JChannel memberB = start(config("node-b", new MeshConfig.Tls(ca.issue("node-b")), b, a, b));
    JChannel plaintext = start(config("plain", plain, a, b));
    JChannel otherCaHost = start(config("foreign", new MeshConfig.Tls(otherCa.issue("foreign")), foreign, a, b));
    TestCluster.awaitChannelViews(memberA, memberB);

    await("strangers stay out").during(Duration.ofSeconds(4)).atMost(TestCluster.WAIT).until(() ->
        memberA.getView().size() == 2 && memberB.getView().size() == 2
            && plaintext.getView().size() == 1 && otherCaHost.getView().size() == 1);
    assertThat(memberB.down(new Event(Event.GET_PHYSICAL_ADDRESS, plaintext.getAddress()))).isNull();
    assertThat(memberB.down(new Event(Event.GET_PHYSICAL_ADDRESS, otherCaHost.getAddress()))).isNull();
  }
}
