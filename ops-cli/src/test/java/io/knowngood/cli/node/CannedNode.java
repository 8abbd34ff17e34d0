package io.knowngood.cli.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.knowngood.api.ApiJson;
import io.knowngood.api.ClusterView;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.MeshBundleList;
import io.knowngood.api.VmReport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Canned answers over real loopback HTTP, for the few conditions a real node cannot be brought into
 * cheaply. Each factory is named for what it fakes; the bodies are the api's records, so the
 * contract is the node's own, and there is no node logic here: a request for a path without an
 * answer gets 404 {@code not_found}, as a node answers an unknown route.
 */
public final class CannedNode implements AutoCloseable {

    private record Answer(int status, String contentType, byte[] body, Map<String, String> headers) {
        Answer(int status, String contentType, byte[] body) {
            this(status, contentType, body, Map.of());
        }
    }

    private final HttpServer server;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final List<Request> received = new CopyOnWriteArrayList<>();
    private volatile Answer otherwise = json(404, ErrorBody.of(ErrorCode.NOT_FOUND, "no such resource"));

    private CannedNode() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::answer);
        server.start();
    }

    /** A node whose store cannot write: every request answers 503 {@code store_unavailable}. */
    public static CannedNode storeUnavailable() throws IOException {
        CannedNode n = new CannedNode();
        n.otherwise = json(503, ErrorBody.of(ErrorCode.STORE_UNAVAILABLE, "could not store the bundle durably: disk full"));
        return n;
    }

    /** An admin endpoint whose {@code GET /v1/cluster} shows {@code view} (a partitioned three-member mesh, say). */
    public static CannedNode clusterView(ClusterView view) throws IOException {
        CannedNode n = new CannedNode();
        n.answers.put("/v1/cluster", json(200, view));
        return n;
    }

    /** A host serving {@code archive} (tampered, or older than what a VM holds) as the archive of {@code name}. */
    public static CannedNode servingArchive(String name, byte[] archive) throws IOException {
        CannedNode n = new CannedNode();
        n.answers.put("/v1/bundles/" + name, new Answer(200, "application/x-tar", archive.clone()));
        return n;
    }

    /**
     * A host serving {@code archive} as {@code name} with the response {@code headers} a node adds
     * ({@code X-Knowngood-State: fallback}, {@code X-Knowngood-Expired: true}), whether or not they are true.
     */
    public static CannedNode servingArchive(String name, byte[] archive, Map<String, String> headers) throws IOException {
        CannedNode n = new CannedNode();
        n.answers.put("/v1/bundles/" + name, new Answer(200, "application/x-tar", archive.clone(), Map.copyOf(headers)));
        return n;
    }

    /** Counts VM reports: {@code POST /v1/reports} answers 202 as a node does. The bodies are kept: {@link #received}. */
    public CannedNode acceptingReports() {
        answers.put("/v1/reports", json(202, new VmReport.Accepted("canned", 1, "ok", "good")));
        return this;
    }

    /** Refuses VM reports as a node flooded by this VM does: 429 {@code too_many_reports} with Retry-After. */
    public CannedNode refusingReports() {
        answers.put("/v1/reports", new Answer(429, "application/json",
                ApiJson.encode(ErrorBody.of(ErrorCode.TOO_MANY_REPORTS, "too many reports; retry after 60 s")), Map.of("Retry-After", "60")));
        return this;
    }

    /** The request bodies received on {@code path}, in order (empty bodies left out). */
    public List<byte[]> received(String path) {
        return received.stream().filter(r -> r.path().equals(path) && r.body().length > 0).map(Request::body).toList();
    }

    /**
     * The admin endpoint of a node from before {@code GET /v1/bundles/{name}/manifest.json} existed:
     * it lists {@code held}, and answers the manifest route 404 {@code not_found} like any unknown route.
     */
    public static CannedNode adminWithoutManifests(MeshBundleList held) throws IOException {
        CannedNode n = new CannedNode();
        n.answers.put("/v1/bundles", json(200, held));
        return n;
    }

    /** A node that answers nothing yet (404 {@code not_found} everywhere): give it answers with {@link #json} and {@link #bytes}. */
    public static CannedNode answering() throws IOException {
        return new CannedNode();
    }

    /** Answers {@code path} (any method) with {@code status} and {@code record} as the api's JSON. */
    public CannedNode json(String path, int status, Object record) {
        answers.put(path, json(status, record));
        return this;
    }

    /** Answers {@code path} (any method) with these exact bytes. */
    public CannedNode bytes(String path, int status, String contentType, byte[] body) {
        answers.put(path, new Answer(status, contentType, body.clone()));
        return this;
    }

    /** One request as it arrived. */
    public record Request(String method, String path, String contentType, String authorization, byte[] body) {}

    /** Every request so far, in order. */
    public List<Request> received() {
        return List.copyOf(received);
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Requests answered so far. */
    public int requests() {
        return requests.get();
    }

    private static Answer json(int status, Object record) {
        return new Answer(status, "application/json", ApiJson.encode(record));
    }

    private void answer(HttpExchange x) throws IOException {
        try (x) {
            requests.incrementAndGet();
            byte[] body = x.getRequestBody().readAllBytes();
            received.add(new Request(x.getRequestMethod(), x.getRequestURI().getRawPath(),
                    x.getRequestHeaders().getFirst("Content-Type"), x.getRequestHeaders().getFirst("Authorization"), body));
            Answer a = answers.getOrDefault(x.getRequestURI().getRawPath(), otherwise);
            x.getResponseHeaders().set("Content-Type", a.contentType());
            a.headers().forEach((k, v) -> x.getResponseHeaders().set(k, v));
            x.sendResponseHeaders(a.status(), a.body().length);
            x.getResponseBody().write(a.body());
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
