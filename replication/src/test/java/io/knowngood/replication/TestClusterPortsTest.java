package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
  void testJvmsSideBySide_pickFromSlicesThatDoNotOverlap() {
    assertThat(TestCluster.slice(20000, 32766, 1, 1)).containsExactly(20000, 32766);
    int[] first = TestCluster.slice(20000, 32766, 1, 2);
    int[] second = TestCluster.slice(20000, 32766, 2, 2);
    assertThat(first[0]).isEqualTo(20000);
    assertThat(first[1]).isEqualTo(second[0]);
    assertThat(second[1]).isLessThanOrEqualTo(32766);
    assertThatThrownBy(() -> TestCluster.slice(20000, 32766, 3, 2)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void thisJvmsPorts_comeFromItsSlice() {
    int[] slice = TestCluster.portSlice();
    if (System.getProperty(TestCluster.FORKS) != null) { // run by surefire, as replication's pom sets it up
      assertThat(TestCluster.number(TestCluster.FORK)).isBetween(1, TestCluster.number(TestCluster.FORKS));
    }
    if (TestCluster.number(TestCluster.FORKS) > 1) {
      assertThat(slice[1] - slice[0]).as("a slice of the range, not all of it").isLessThan(12766 / 2 + 1);
    }
    for (int i = 0; i < 50; i++) {
      assertThat(TestCluster.freePortPair()).isBetween(slice[0], slice[1] - 1);
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
