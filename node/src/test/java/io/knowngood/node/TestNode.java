package io.knowngood.node;

import io.knowngood.node.cluster.ClusterFactory;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.config.Settings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * An in-process node on loopback with free ports, for real-HTTP tests: the daemon's own endpoints,
 * store and (standalone) mesh link. Shared through node's test-jar, so kgctl's tests run against it too.
 */
public final class TestNode implements AutoCloseable {

    public final Node node;
    public final String token;
    public final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private TestNode(Node node, String token) {
        this.node = node;
        this.token = token;
    }

    /** Starts a node with data under {@code dir}; {@code tweak} may set more settings. */
    public static TestNode start(Path dir, Path trustKey, java.util.function.Consumer<Settings> tweak) throws Exception {
        Settings s = new Settings();
        s.nodeId = "test-node";
        s.dataDir = dir.resolve("data").toString();
        s.floorFile = dir.resolve("floor").toString();
        s.vmBind = List.of("127.0.0.1:0");
        s.adminBind = "127.0.0.1:0";
        s.trustKey = List.of(trustKey.toString());
        s.scrubInterval = "0";
        s.headerTimeout = "2s";
        s.longPollMaxWait = "30s";
        tweak.accept(s);
        NodeConfig config = NodeConfig.resolve(s);
        Node node = Node.start(config, Clock.systemUTC(), ClusterFactory.standalone());
        return new TestNode(node, Files.readString(config.adminTokenFile()).trim());
    }

    public static TestNode start(Path dir, Path trustKey) throws Exception {
        return start(dir, trustKey, s -> { });
    }

    public URI vm(String path) {
        return URI.create("http://127.0.0.1:" + node.vmAddresses().get(0).getPort() + path);
    }

    public URI admin(String path) {
        return URI.create("http://127.0.0.1:" + node.adminAddress().getPort() + path);
    }

    public int vmPort() {
        return node.vmAddresses().get(0).getPort();
    }

    public HttpResponse<byte[]> get(URI uri, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    public HttpResponse<String> adminGet(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(admin(path)).header("Authorization", "Bearer " + token).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> publish(String name, byte[] archive) throws IOException, InterruptedException {
        return publish(name, archive, token);
    }

    public HttpResponse<String> publish(String name, byte[] archive, String withToken) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(admin("/v1/bundles/" + name))
                        .header("Authorization", "Bearer " + withToken)
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(archive)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** What {@link #report} got back: status, headers as sent (lower-case names), body. */
    public record Raw(int status, java.util.Map<String, String> headers, String body) {}

    /**
     * {@code POST /v1/reports} with {@code body}, sent from the loopback address {@code from} (so each
     * test VM is a distinct source address), over a raw socket: what a VM's curl would send.
     */
    public Raw report(String from, String body) throws IOException {
        return post(from, "/v1/reports", body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public Raw post(String from, String path, byte[] body) throws IOException {
        try (java.net.Socket s = new java.net.Socket()) {
            s.bind(new java.net.InetSocketAddress(from, 0));
            s.connect(new java.net.InetSocketAddress("127.0.0.1", vmPort()), 5_000);
            s.setSoTimeout(10_000);
            String head = "POST " + path + " HTTP/1.1\r\nHost: kg\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().write(body);
            s.getOutputStream().flush();
            String all = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            int end = all.indexOf("\r\n\r\n");
            String[] lines = all.substring(0, end).split("\r\n");
            java.util.Map<String, String> headers = new java.util.HashMap<>();
            for (int i = 1; i < lines.length; i++) {
                int c = lines[i].indexOf(':');
                headers.put(lines[i].substring(0, c).trim().toLowerCase(java.util.Locale.ROOT), lines[i].substring(c + 1).trim());
            }
            return new Raw(Integer.parseInt(lines[0].split(" ")[1]), headers, all.substring(end + 4));
        }
    }

    @Override
    public void close() {
        node.close();
    }
}
