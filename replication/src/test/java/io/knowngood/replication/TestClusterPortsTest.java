package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The members' ports: never handed out twice in one JVM, never one that still holds a connection. */
class TestClusterPortsTest {

  @Test
  void freePortPair_neverHandsOutAPortTwice() {
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 300; i++) {
      int p = TestCluster.freePortPair();
      assertThat(ports.add(p)).as("port %d handed out again", p).isTrue();
      assertThat(ports.add(p + 1)).as("port %d handed out again", p + 1).isTrue();
    }
  }

  @Test
  void aPortWhoseConnectionLingersInTimeWait_isPassedOver() throws Exception {
    int port = TestCluster.freePortPair();
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress(TestCluster.loopback(), port), 1);
      try (Socket client = new Socket(TestCluster.loopback(), port)) {
        listener.accept().close(); // the side that closes first keeps the connection in TIME_WAIT, on this port
        assertThat(client.getInputStream().read()).isEqualTo(-1);
      }
    }
    assertThat(TestCluster.unused(port)).as("port %d with a connection in TIME_WAIT", port).isFalse();
    assertThat(TestCluster.unused(TestCluster.freePortPair())).isTrue();
  }
}
