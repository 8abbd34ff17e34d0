package io.knowngood.testkit.process;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The test ports stay out of the kernel's ephemeral range, where outgoing connections take their source ports,
 * and are never handed out twice in one JVM nor while a connection still holds them.
 */
class NodeProcessPortsTest {

    @Test
    void freePort_isBelowTheEphemeralRange_andBindable() throws Exception {
        int low = NodeProcess.ephemeralLow();
        assertTrue(low > 21000, "ephemeral range read as starting at " + low);
        for (int i = 0; i < 20; i++) {
            int p = NodeProcess.freePort();
            assertTrue(p >= 20000 && p < low, p + " not in [20000, " + low + ")");
            assertDoesNotThrow(() -> new ServerSocket(p, 1, InetAddress.getLoopbackAddress()).close());
        }
    }

    @Test
    void freePortPairs_areDistinctPairsBelowTheEphemeralRange() throws Exception {
        int low = NodeProcess.ephemeralLow();
        int[] ports = NodeProcess.freePortPairs(8);
        int[] all = Arrays.stream(ports).flatMap(p -> java.util.stream.IntStream.of(p, p + 1)).sorted().distinct().toArray();
        assertTrue(all.length == 16, "pairs overlap: " + Arrays.toString(ports));
        for (int p : ports) {
            assertTrue(p >= 20000 && p + 1 < low, p + " not below " + low);
            try (ServerSocket a = new ServerSocket(p, 1, InetAddress.getLoopbackAddress());
                 ServerSocket b = new ServerSocket(p + 1, 1, InetAddress.getLoopbackAddress())) {
                assertTrue(a.isBound() && b.isBound());
            }
        }
    }

    @Test
    void noPortIsHandedOutTwice() throws Exception {
        java.util.Set<Integer> ports = new java.util.HashSet<>();
        for (int i = 0; i < 200; i++) {
            int p = NodeProcess.freePort();
            assertTrue(ports.add(p), "port " + p + " handed out again");
            int pair = NodeProcess.freePortPairs(1)[0];
            assertTrue(ports.add(pair) && ports.add(pair + 1), "pair " + pair + " overlaps a port handed out before");
        }
    }

    @Test
    void aPortWhoseConnectionLingersInTimeWait_isPassedOver() throws Exception {
        int port = NodeProcess.freePort();
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), port)) {
                listener.accept().close(); // the side that closes first keeps the connection in TIME_WAIT, on this port
                assertEquals(-1, client.getInputStream().read());
            }
        }
        assertFalse(NodeProcess.unused(port), "port " + port + " with a connection in TIME_WAIT");
        assertTrue(NodeProcess.unused(NodeProcess.freePort()));
    }

    @Test
    void freePortOtherThan_neverReturnsATakenPort() throws Exception {
        int first = NodeProcess.freePort();
        for (int i = 0; i < 20; i++) {
            assertTrue(NodeProcess.freePortOtherThan(first) != first);
        }
    }
}
