package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Thousands of idle long-polls hold no thread; all are answered by one publish. Also: bind addresses, IPv6. */
class ManyWaitersTest {

    static final int WAITERS = 2000;
    final TestBundles bundles = new TestBundles();

    @Test
    void thousandsOfIdleLongPolls_costNoThreads_andAllWakeOnPublish(@TempDir Path dir) throws Exception {
        try (TestNode node = TestNode.start(dir, bundles.writePublicKey(dir), s -> {
            s.maxConnectionsPerClient = WAITERS + 10;
            s.longPollMaxWait = "120s";
        })) {
            assertThat(node.publish("watched", bundles.bundle("watched", 1, "one")).statusCode()).isEqualTo(201);
            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            List<Socket> sockets = new ArrayList<>();
            byte[] request = "GET /v1/bundles/watched?wait=120&after=1 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
            try {
                for (int i = 0; i < WAITERS; i++) {
                    Socket s = new Socket();
                    s.connect(new InetSocketAddress("127.0.0.1", node.vmPort()), 5000);
                    s.getOutputStream().write(request);
                    sockets.add(s);
                }
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        new String(node.node.metrics().scrape(), StandardCharsets.UTF_8).contains("kgnode_long_poll_waiters " + WAITERS + ".0"));
                int threadsWaiting = ManagementFactory.getThreadMXBean().getThreadCount();
                System.out.printf("%d parked long-polls: JVM threads %d before, %d while parked%n", WAITERS, threadsBefore, threadsWaiting);
                assertThat(threadsWaiting - threadsBefore).isLessThan(10);

                long t0 = System.nanoTime();
                assertThat(node.publish("watched", bundles.bundle("watched", 2, "two")).statusCode()).isEqualTo(201);
                int ok = 0;
                for (Socket s : sockets) {
                    s.setSoTimeout(30_000);
                    if (statusLine(s.getInputStream()).equals("HTTP/1.1 200 OK")) {
                        ok++;
                    }
                }
                System.out.printf("all %d waiters answered %d ms after the publish returned%n", ok, (System.nanoTime() - t0) / 1_000_000);
                assertThat(ok).isEqualTo(WAITERS);
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
            }
        }
    }

    @Test
    void bindsTheGivenAddressesOnly_ipv4AndIpv6(@TempDir Path dir) throws Exception {
        try (TestNode node = TestNode.start(dir, bundles.writePublicKey(dir), s -> s.vmBind = List.of("127.0.0.1:0", "[::1]:0"))) {
            int v4 = node.node.vmAddresses().get(0).getPort();
            int v6 = node.node.vmAddresses().get(1).getPort();
            assertThat(get("127.0.0.1", v4)).isEqualTo("HTTP/1.1 200 OK");
            assertThat(get("::1", v6)).isEqualTo("HTTP/1.1 200 OK");
            // 127.0.0.2 is loopback too, but not bound
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.2", v4), 2000);
                throw new AssertionError("connected to an address the node was not told to bind");
            } catch (ConnectException expected) {
                // refused: good
            }
        }
    }

    private static String get(String host, int port) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2000);
            s.setSoTimeout(5000);
            s.getOutputStream().write("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            return statusLine(s.getInputStream());
        }
    }

    private static String statusLine(InputStream in) throws Exception {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\r') {
            sb.append((char) c);
        }
        return sb.toString();
    }
}
