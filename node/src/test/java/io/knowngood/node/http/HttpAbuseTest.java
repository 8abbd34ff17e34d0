package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a hostile VM can send, over raw sockets (so nothing normalises the request on the way):
 * every request is refused or cut, and none changes what the node holds.
 */
class HttpAbuseTest {

    static final TestBundles BUNDLES = new TestBundles();
    static TestNode node;
    static Path dataDir;
    static String before;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        node = TestNode.start(dir, BUNDLES.writePublicKey(dir), s -> {
            s.headerTimeout = "1s";
            s.idleTimeout = "2s";
            s.maxConnectionsPerClient = 8;
        });
        dataDir = dir;
        assertThat(node.publish("web", BUNDLES.bundle("web", 1, "color=blue\n")).statusCode()).isEqualTo(201);
        before = snapshot();
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @AfterEach
    void nothingChanged() throws Exception {
        assertThat(snapshot()).isEqualTo(before);
    }

    /** Every file under the data dir with its size, plus the served version: a change anywhere shows. */
    static String snapshot() throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.filter(Files::isRegularFile).sorted().forEach(p -> {
                try {
                    sb.append(dataDir.relativize(p)).append(' ').append(Files.size(p)).append('\n');
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
        }
        sb.append(node.node.store().current("web").orElseThrow());
        return sb.toString();
    }

    static String exchange(String rawRequest) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", node.vmPort()), 2000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(rawRequest.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return readAll(s.getInputStream());
        }
    }

    static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        try {
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
        } catch (SocketException reset) {
            // the server may reset after answering; what was read is what counts
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    static String statusLine(String response) {
        int eol = response.indexOf("\r\n");
        return eol < 0 ? response : response.substring(0, eol);
    }

    @Test
    void slowloris_isCutWithinTheHeaderTimeout() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", node.vmPort()), 2000);
            s.setSoTimeout(200);
            OutputStream out = s.getOutputStream();
            out.write("GET /v1/bundles HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.ISO_8859_1));
            long t0 = System.nanoTime();
            boolean cut = false;
            // One header byte every 100 ms: never completes the head. The node must close within ~1 s (+ slack).
            while ((System.nanoTime() - t0) < 8_000_000_000L) {
                try {
                    out.write('X');
                    out.flush();
                    if (s.getInputStream().read() < 0) {
                        cut = true;
                        break;
                    }
                } catch (SocketTimeoutException stillOpen) {
                    continue;
                } catch (IOException closed) {
                    cut = true;
                    break;
                }
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("slowloris connection cut after " + ms + " ms (header timeout 1000 ms)");
            assertThat(cut).isTrue();
            assertThat(ms).isLessThan(4_000);
        }
    }

    @Test
    void idleKeepAliveConnection_isClosedAfterTheIdleTimeout() throws Exception {
        try (Socket s = new Socket("127.0.0.1", node.vmPort())) {
            s.setSoTimeout(15_000);
            s.getOutputStream().write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            long t0 = System.nanoTime();
            String all = readAll(s.getInputStream()); // returns when the node closes the idle connection
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("idle keep-alive connection closed after " + ms + " ms (idle timeout 2000 ms)");
            assertThat(statusLine(all)).isEqualTo("HTTP/1.1 200 OK");
            assertThat(ms).isBetween(1_000L, 10_000L);
        }
    }

    @Test
    void hugeHeader_isRefusedWith431() throws Exception {
        String big = "a".repeat(64 * 1024);
        String r = exchange("GET /v1/bundles HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\nConnection: close\r\n\r\n");
        assertThat(statusLine(r)).isEqualTo("HTTP/1.1 431 Request Header Fields Too Large");
        assertThat(r).contains("\"error\":\"header_too_large\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "get", "Get"})
    void otherMethods_andOtherCases_are405(String method) throws Exception {
        String body = method.equals("POST") || method.equals("PUT") ? "Content-Length: 5\r\n\r\nhello" : "\r\n";
        String r = exchange(method + " /v1/bundles/web HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + body);
        assertThat(statusLine(r)).startsWith("HTTP/1.1 405");
        assertThat(r).contains("Allow: GET, HEAD").contains("\"error\":\"method_not_allowed\"");
    }

    @Test
    void getWithBody_isRefused() throws Exception {
        String r = exchange("GET /v1/bundles/web HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(statusLine(r)).startsWith("HTTP/1.1 413");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/v1/bundles/web/files/../../../etc/passwd",
        "/v1/bundles/web/files/%2e%2e/%2e%2e/etc/passwd",
        "/v1/bundles/web/files/%2E%2E%2Fetc%2Fpasswd",
        "/v1/bundles/web/files/.%2e/x",
        "/v1/bundles/web/files//etc/passwd",
        "/v1/bundles/web/files/%2Fetc%2Fpasswd",
        "/v1/bundles/web/files/app%00.ini",
        "/v1/bundles/web/files/app%5C..%5Cx",
        "/v1/bundles/web/files/%c0%ae%c0%ae/x",
        "/v1/bundles/../bundles/web",
        "/v1/./bundles/web",
        "/v1/bundles/web%2F..%2F..%2Fx",
    })
    void traversalAndEncodedTricks_areRefusedWith400(String path) throws Exception {
        String r = exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(statusLine(r)).isEqualTo("HTTP/1.1 400 Bad Request");
    }

    @Test
    void absoluteFormAndAsteriskTargets_areRefused() throws Exception {
        assertThat(statusLine(exchange("GET http://127.0.0.1/v1/bundles/web HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")))
                .startsWith("HTTP/1.1 400");
        assertThat(statusLine(exchange("GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))).startsWith("HTTP/1.1 400");
    }

    @Test
    void rawNulInRequestLine_isRefused() throws Exception {
        String r = exchange("GET /v1/bundles/web\0/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(r.isEmpty() || statusLine(r).startsWith("HTTP/1.1 400")).isTrue();
    }

    @Test
    void moreThan100HeaderFields_is431InJson_100AreServed() throws Exception {
        String ninetyEight = IntStream.range(0, 98).mapToObj(i -> "X-H" + i + ": 1\r\n").collect(Collectors.joining());
        // with Host and Connection: 100 fields, then 101
        servedAtTheLimit_refusedInJsonAbove("/v1/bundles/web", ninetyEight, "/v1/bundles/web", ninetyEight + "X-H0: 2\r\n",
                "431 Request Header Fields Too Large", "header_too_large", "request head has 101 header fields; at most 100");
    }

    @Test
    void moreThan16QueryParameters_is400InJson_16AreServed() throws Exception {
        String sixteen = "/v1/bundles/web?" + IntStream.range(0, 16).mapToObj(i -> "p" + i + "=1").collect(Collectors.joining("&"));
        servedAtTheLimit_refusedInJsonAbove(sixteen, "", sixteen + "&p0=2", "",
                "400 Bad Request", "bad_query", "the query has 17 parameters; at most 16");
    }

    private static void servedAtTheLimit_refusedInJsonAbove(String okTarget, String okHeaders, String overTarget, String overHeaders,
                                                           String status, String error, String detail) throws IOException {
        String ok = exchange("GET " + okTarget + " HTTP/1.1\r\nHost: x\r\n" + okHeaders + "Connection: close\r\n\r\n");
        String over = exchange("GET " + overTarget + " HTTP/1.1\r\nHost: x\r\n" + overHeaders + "Connection: close\r\n\r\n");

        assertThat(statusLine(ok)).isEqualTo("HTTP/1.1 200 OK");
        assertThat(statusLine(over)).isEqualTo("HTTP/1.1 " + status);
        assertThat(over).contains("\"error\":\"" + error + "\"").contains(detail);
    }

    @Test
    void longTarget_is414() throws Exception {
        String r = exchange("GET /v1/bundles/" + "a".repeat(3000) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(statusLine(r)).startsWith("HTTP/1.1 414");
    }

    @Test
    void connectionsPerClient_areCapped() throws Exception {
        List<Socket> open = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                Socket s = new Socket("127.0.0.1", node.vmPort());
                open.add(s);
                // one keep-alive exchange each, so the node has certainly accepted (and counted) it
                s.setSoTimeout(5000);
                s.getOutputStream().write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                byte[] head = new byte[12];
                int got = 0;
                while (got < head.length) {
                    got += s.getInputStream().read(head, got, head.length - got);
                }
                assertThat(new String(head, StandardCharsets.ISO_8859_1)).isEqualTo("HTTP/1.1 200");
            }
            // the 9th connection from the same IP is closed at once
            try (Socket extra = new Socket("127.0.0.1", node.vmPort())) {
                extra.setSoTimeout(3000);
                extra.getOutputStream().write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                int first;
                try {
                    first = extra.getInputStream().read();
                } catch (SocketException reset) {
                    first = -1;
                }
                assertThat(first).isEqualTo(-1);
            }
        } finally {
            for (Socket s : open) {
                s.close();
            }
        }
        // once they are closed, the client is welcome again
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(statusLine(exchange("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))).startsWith("HTTP/1.1 200"));
    }
}
