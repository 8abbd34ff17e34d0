package io.knowngood.cli.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.RollbackFloor;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for a knowngood node over real loopback HTTP (com.sun.net.httpserver), for kgctl and
 * guest-script tests while no node can run inside ops-cli's build (the enforcer forbids depending
 * on node/). It verifies with the real crypto, keeps a rollback floor, long-polls, and answers with
 * the field names of node/'s AdminEndpoint and VmEndpoint (read from branch node, 2026-11-25).
 */
public final class StubNode implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String token;
    private final BundleVerifier verifier;
    private final HttpServer admin;
    private final HttpServer vm;
    private final ExecutorService threads = Executors.newFixedThreadPool(8);
    private final Map<String, VerifiedBundle> current = new TreeMap<>();
    private final Map<String, Long> floors = new TreeMap<>();
    private final Map<String, List<VerifiedBundle>> history = new TreeMap<>();
    private final AtomicInteger puts = new AtomicInteger();
    private final AtomicInteger waiting = new AtomicInteger();
    private final Map<String, byte[]> raw = new ConcurrentHashMap<>();
    private volatile Map<String, Object> clusterOverride;
    private volatile int failAdminWith;

    public StubNode(String token, List<PublicKey> trusted) throws IOException {
        this.token = token;
        this.verifier = new BundleVerifier(TrustedKeys.of(trusted), Limits.defaults());
        InetAddress lo = InetAddress.getLoopbackAddress();
        admin = HttpServer.create(new InetSocketAddress(lo, 0), 16);
        vm = HttpServer.create(new InetSocketAddress(lo, 0), 16);
        admin.createContext("/", this::admin);
        vm.createContext("/", this::vm);
        admin.setExecutor(threads);
        vm.setExecutor(threads);
        admin.start();
        vm.start();
    }

    public URI adminUrl() {
        return URI.create("http://127.0.0.1:" + admin.getAddress().getPort());
    }

    public URI vmUrl() {
        return URI.create("http://127.0.0.1:" + vm.getAddress().getPort());
    }

    public int puts() {
        return puts.get();
    }

    public int waiting() {
        return waiting.get();
    }

    /** Serves these bytes as the archive of {@code name} on the VM endpoint, unverified (a hostile host). */
    public void serveRaw(String name, byte[] archive) {
        raw.put(name, archive.clone());
    }

    /** Replaces GET /v1/cluster's answer. */
    public void cluster(Map<String, Object> body) {
        clusterOverride = body;
    }

    /** Makes every admin request answer this status (0: normal). */
    public void failAdminWith(int status) {
        failAdminWith = status;
    }

    /** Stores a bundle as if it had been published (or replicated) here. */
    public synchronized String offer(byte[] archive) {
        VerifyResult r = verifier.verify(archive);
        if (r instanceof VerifyResult.Rejected rej) {
            return rej.reason().code();
        }
        VerifiedBundle b = ((VerifyResult.Verified) r).bundle();
        VerifyResult floor = RollbackFloor.check(b, floor(b.name()));
        if (floor instanceof VerifyResult.Rejected rej) {
            return rej.reason().code();
        }
        current.put(b.name(), b);
        floors.put(b.name(), b.version());
        history.computeIfAbsent(b.name(), n -> new ArrayList<>()).add(0, b);
        notifyAll();
        return "stored";
    }

    private synchronized OptionalLong floor(String name) {
        Long f = floors.get(name);
        return f == null ? OptionalLong.empty() : OptionalLong.of(f);
    }

    // ---- admin endpoint ----

    private void admin(HttpExchange x) throws IOException {
        try (x) {
            String auth = x.getRequestHeaders().getFirst("Authorization");
            if (auth == null || !auth.equals("Bearer " + token)) {
                error(x, 401, "unauthorized", "missing or wrong bearer token");
                return;
            }
            if (failAdminWith != 0) {
                error(x, failAdminWith, "store_unavailable", "stub told to fail");
                return;
            }
            String[] seg = x.getRequestURI().getPath().substring(1).split("/");
            String method = x.getRequestMethod();
            if (method.equals("PUT") && seg.length == 3 && seg[0].equals("v1") && seg[1].equals("bundles")) {
                publish(x, seg[2], x.getRequestBody().readAllBytes());
            } else if (method.equals("GET") && path(seg, "v1", "cluster")) {
                json(x, 200, clusterOverride != null ? clusterOverride : defaultCluster());
            } else if (method.equals("GET") && path(seg, "v1", "bundles")) {
                json(x, 200, adminBundles());
            } else if (method.equals("GET") && seg.length == 4 && seg[1].equals("bundles") && seg[3].equals("history")) {
                history(x, seg[2]);
            } else {
                error(x, 404, "not_found", "no such resource");
            }
        }
    }

    private void publish(HttpExchange x, String name, byte[] body) throws IOException {
        puts.incrementAndGet();
        VerifyResult r = verifier.verifyAs(name, body);
        if (r instanceof VerifyResult.Rejected rej) {
            error(x, 422, rej.reason().code(), rej.reason().detail());
            return;
        }
        VerifiedBundle b = ((VerifyResult.Verified) r).bundle();
        synchronized (this) {
            // like node/'s AdminEndpoint: the rollback floor is checked first, so re-publishing the
            // held bundle is a 409 rollback; already_held only when the floor is below it
            VerifyResult floor = RollbackFloor.check(b, floor(name));
            if (floor instanceof VerifyResult.Rejected rej) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("error", rej.reason().code());
                m.put("detail", rej.reason().detail());
                m.put("current", floors.get(name));
                m.put("offered", b.version());
                json(x, 409, m);
                return;
            }
            VerifiedBundle held = current.get(name);
            if (held != null && held.manifestDigest().equals(b.manifestDigest())) {
                error(x, 409, "already_held", name + "@" + held.version() + " is already held (same content); not newer");
                return;
            }
            offer(body);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", b.name());
        out.put("version", b.version());
        out.put("digest", b.manifestDigest());
        out.put("membersHolding", 1);
        out.put("membersInView", 1);
        out.put("complete", true);
        x.getResponseHeaders().set("Location", "/v1/bundles/" + name);
        json(x, 201, out);
    }

    private synchronized Map<String, Object> adminBundles() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (VerifiedBundle b : current.values()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", b.name());
            e.put("version", b.version());
            e.put("digest", b.manifestDigest());
            e.put("retired", b.retired());
            e.put("created", b.manifest().created().toString());
            e.put("floor", floors.get(b.name()));
            e.put("members", Map.of("n1", b.version()));
            out.add(e);
        }
        return Map.of("bundles", out);
    }

    private synchronized void history(HttpExchange x, String name) throws IOException {
        List<VerifiedBundle> kept = history.getOrDefault(name, List.of());
        if (kept.isEmpty()) {
            error(x, 404, "no_such_bundle", "no versions of " + name + " are kept here");
            return;
        }
        List<Map<String, Object>> versions = new ArrayList<>();
        for (VerifiedBundle b : kept) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("version", b.version());
            v.put("state", b == current.get(name) ? "current" : "kept");
            v.put("digest", b.manifestDigest());
            v.put("size", b.archiveSize());
            v.put("storedAt", Instant.parse("2026-11-25T10:00:00Z").toString());
            versions.add(v);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        out.put("floor", floors.get(name));
        out.put("versions", versions);
        json(x, 200, out);
    }

    private synchronized Map<String, Object> defaultCluster() {
        Map<String, Object> bundles = new TreeMap<>();
        current.values().forEach(b -> bundles.put(b.name(), Map.of("version", b.version(), "manifestDigest", b.manifestDigest())));
        Map<String, Object> self = new LinkedHashMap<>();
        self.put("id", "n1");
        self.put("address", "127.0.0.1:7800");
        self.put("self", true);
        self.put("bundles", bundles);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("self", "n1");
        out.put("state", "ALONE");
        out.put("coordinator", "n1");
        out.put("partitioned", false);
        out.put("inTouch", false);
        out.put("lastContact", "never");
        out.put("members", List.of(self));
        return out;
    }

    // ---- VM endpoint ----

    private void vm(HttpExchange x) throws IOException {
        try (x) {
            x.getResponseHeaders().set("X-Knowngood-In-Touch", "false");
            x.getResponseHeaders().set("X-Knowngood-Last-Contact", "never");
            String[] seg = x.getRequestURI().getPath().substring(1).split("/");
            if (path(seg, "v1", "bundles")) {
                List<Map<String, Object>> out = new ArrayList<>();
                synchronized (this) {
                    current.values().stream().filter(b -> !b.retired())
                            .forEach(b -> out.add(Map.of("name", b.name(), "version", b.version())));
                }
                json(x, 200, Map.of("bundles", out));
                return;
            }
            if (seg.length < 3 || !seg[0].equals("v1") || !seg[1].equals("bundles")) {
                error(x, 404, "not_found", "no such resource");
                return;
            }
            String name = seg[2];
            byte[] forced = raw.get(name);
            if (forced != null && seg.length == 3) {
                send(x, 200, "application/x-tar", forced);
                return;
            }
            Map<String, String> q = query(x.getRequestURI().getRawQuery());
            if (seg.length == 3 && q.containsKey("after")) {
                long after = Long.parseLong(q.get("after"));
                long waitMs = TimeUnit.SECONDS.toMillis(Long.parseLong(q.getOrDefault("wait", "0")));
                Optional<VerifiedBundle> b = awaitNewer(name, after, waitMs);
                if (b.isEmpty()) {
                    x.getResponseHeaders().set("Cache-Control", "no-cache");
                    x.sendResponseHeaders(304, -1);
                    return;
                }
            }
            VerifiedBundle b;
            synchronized (this) {
                b = current.get(name);
            }
            if (b == null) {
                error(x, 404, "no_such_bundle", "this node holds no bundle named " + name);
                return;
            }
            if (b.retired()) {
                x.getResponseHeaders().set("X-Knowngood-Version", Long.toString(b.version()));
                error(x, 404, "retired", name + " was withdrawn at version " + b.version());
                return;
            }
            x.getResponseHeaders().set("ETag", "\"" + b.manifestDigest() + "\"");
            x.getResponseHeaders().set("X-Knowngood-Version", Long.toString(b.version()));
            if (seg.length == 3) {
                send(x, 200, "application/x-tar", b.archiveBytes());
            } else if (seg.length == 4 && seg[3].equals("manifest.json")) {
                send(x, 200, "application/json", b.manifestBytes());
            } else if (seg.length >= 5 && seg[3].equals("files")) {
                String p = String.join("/", List.of(seg).subList(4, seg.length));
                Optional<ByteBuffer> f = b.fileBytes(p);
                if (f.isEmpty()) {
                    error(x, 404, "no_such_file", name + " has no file " + p);
                    return;
                }
                byte[] bytes = new byte[f.get().remaining()];
                f.get().get(bytes);
                send(x, 200, "application/octet-stream", bytes);
            } else {
                error(x, 404, "not_found", "no such resource");
            }
        }
    }

    private synchronized Optional<VerifiedBundle> awaitNewer(String name, long after, long waitMs) {
        long deadline = System.currentTimeMillis() + waitMs;
        waiting.incrementAndGet();
        try {
            while (true) {
                VerifiedBundle b = current.get(name);
                if (b != null && b.version() > after) {
                    return Optional.of(b);
                }
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    return Optional.empty();
                }
                wait(left); // released by offer()'s notifyAll
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } finally {
            waiting.decrementAndGet();
        }
    }

    // ---- plumbing ----

    private static boolean path(String[] seg, String... expected) {
        return List.of(seg).equals(List.of(expected));
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> m = new LinkedHashMap<>();
        if (raw != null) {
            for (String kv : raw.split("&")) {
                int i = kv.indexOf('=');
                if (i > 0) {
                    m.put(kv.substring(0, i), kv.substring(i + 1));
                }
            }
        }
        return m;
    }

    private static void error(HttpExchange x, int status, String code, String detail) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", code);
        m.put("detail", detail);
        json(x, status, m);
    }

    private static void json(HttpExchange x, int status, Object body) throws IOException {
        send(x, status, "application/json", (JSON.writeValueAsString(body) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange x, int status, String type, byte[] body) throws IOException {
        x.getResponseHeaders().set("Content-Type", type);
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            x.getResponseBody().write(body);
        }
    }

    /** Stops answering: afterwards the ports refuse connections. */
    public void stop() {
        admin.stop(0);
        vm.stop(0);
    }

    @Override
    public void close() {
        stop();
        threads.shutdownNow();
    }
}
