package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.jgroups.JChannel;
import org.jgroups.protocols.DISCARD;
import org.jgroups.protocols.FD_SOCK2;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A coordinator killed and restarted on its address before failure detection has excluded it, on the
 * real JGroups stack over loopback: the survivors still name the dead incarnation coordinator. Its next
 * incarnation's discovery request tells them it is dead (one address, one process), so they exclude it
 * and the newcomer joins at once, instead of sending its JOIN to its own address until it gives up (the
 * soak's restarts that took up to 18 s). Failure detection is made slow here (FD_SOCK2 removed, FD_ALL3
 * 60 s), so only the discovery path can explain a quick join.
 */
class RestartedCoordinatorTest {
  private static final Duration QUICK = Duration.ofSeconds(10);
  private static final LoopbackChannels.StackChange WITHOUT_FD_SOCK = stack -> stack.removeProtocol(FD_SOCK2.class);
  @RegisterExtension
  final LoopbackChannels channels = new LoopbackChannels();

  @Test
  void aRestartedCoordinator_isJoinedAgainQuickly_whileFailureDetectionHasNotExcludedItsEarlierIncarnation() throws Exception {
    LoopbackChannels.Members members = channels.startInOneView(RestartedCoordinatorTest::config, true, WITHOUT_FD_SOCK,
        "node-a", "node-b", "node-c");
    JChannel first = members.get(0);
    JChannel memberB = members.get(1);
    JChannel memberC = members.get(2);

    // kill -9 of the coordinator: nothing more from it, its sockets close, no leave
    first.getProtocolStack().<DISCARD>findProtocol(DISCARD.class).discardAll(true);
    first.close();
    long t0 = System.nanoTime();
    // returns once it has joined (or given up: a view of its own)
    JChannel again = channels.start(config("node-a", members.addresses().get(0), members.addresses()), true, WITHOUT_FD_SOCK);
    Duration joined = Duration.ofNanos(System.nanoTime() - t0);
    org.slf4j.LoggerFactory.getLogger(RestartedCoordinatorTest.class).info("the new incarnation joined in {} ms", joined.toMillis());
    Duration left = QUICK.minus(joined);
    assertThat(left).as("joined within " + QUICK).isPositive();
    await("the new incarnation in one view with both survivors, the earlier one gone").atMost(left)
        .until(() -> Arrays.stream(new JChannel[] {again, memberB, memberC}).allMatch(m -> m.getView() != null
            && m.getView().size() == 3 && m.getView().containsMember(again.getAddress())
            && m.getView().containsMember(memberB.getAddress()) && m.getView().containsMember(memberC.getAddress())));
  }

  private static MeshConfig config(String id, InetSocketAddress bind, List<InetSocketAddress> peers) {
    MeshConfig.Timings slowDetection = new MeshConfig.Timings(Duration.ofSeconds(2), Duration.ofMillis(500),
        Duration.ofSeconds(60), Duration.ofMillis(500), Duration.ofMillis(300), Duration.ofMillis(900),
        Duration.ofMillis(1000), Duration.ofSeconds(2), Duration.ofMillis(500), MeshConfig.Timings.HAVE_GRACE, Duration.ofSeconds(5),
        Duration.ofMillis(300));
    return new MeshConfig(id, "restart", bind, peers, new MeshConfig.Plaintext(), slowDetection);
  }
}
