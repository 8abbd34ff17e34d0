package io.knowngood.testkit.process;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The test ports stay out of the kernel's ephemeral range, where outgoing connections take their source ports. */
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
    void freePortOtherThan_neverReturnsATakenPort() throws Exception {
        int first = NodeProcess.freePort();
        for (int i = 0; i < 20; i++) {
            assertTrue(NodeProcess.freePortOtherThan(first) != first);
        }
    }
}
