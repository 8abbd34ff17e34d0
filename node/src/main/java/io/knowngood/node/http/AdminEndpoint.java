package io.knowngood.node.http;

import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.node.cluster.ClusterLink;
import io.knowngood.node.cluster.ClusterStatus;
import io.knowngood.node.cluster.PublishResult;
import io.knowngood.node.config.HttpLimits;
import io.knowngood.node.metrics.NodeMetrics;
import io.knowngood.node.store.BundleStore;
import io.knowngood.node.store.HistoryEntry;
import io.knowngood.node.store.StoreHealth;
import io.knowngood.node.store.StoreOutcome;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;

/**
 * The admin endpoint, on its own bind, every request authenticated with {@code Authorization:
 * Bearer <token>} (compared in constant time). Publish runs on a worker thread: read the body
 * (bounded in size and time), verify, check the durable rollback floor, store atomically, then
 * hand the bundle to the mesh and report how many members hold it.
 */
public final class AdminEndpoint implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(AdminEndpoint.class);

    private final BundleStore store;
    private final BundleVerifier verifier;
    private final ClusterLink cluster;
    private final NodeMetrics metrics;
    private final HttpLimits limits;
    private final Clock clock;
    private final byte[] tokenHash;
    private final RequestGuard guard;

    public AdminEndpoint(BundleStore store, BundleVerifier verifier, ClusterLink cluster, NodeMetrics metrics,
                         HttpLimits limits, String token, Clock clock) {
        this.store = store;
        this.verifier = verifier;
        this.cluster = cluster;
        this.metrics = metrics;
        this.limits = limits;
        this.clock = clock;
        this.tokenHash = sha256(token.getBytes(StandardCharsets.UTF_8));
        this.guard = new RequestGuard(limits, Set.of(Methods.GET, Methods.HEAD, Methods.PUT), true);
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        if (exchange.isInIoThread()) {
            String[] route = {"other"};
            exchange.addExchangeCompleteListener((ex, next) -> {
                metrics.request("admin", route[0], ex.getStatusCode());
                next.proceed();
            });
            if (guard.refuse(exchange)) {
                return;
            }
            if (!authorized(exchange)) {
                exchange.setPersistent(false);
                exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Bearer");
                if (exchange.getRequestMethod().equals(Methods.PUT)) {
                    metrics.publish("unauthorized");
                }
                JsonResponses.error(exchange, 401, "unauthorized", "missing or wrong bearer token");
                return;
            }
            RawPath.Parsed path = RawPath.parse(exchange.getRequestPath());
            if (path.isRefused()) {
                JsonResponses.error(exchange, 400, "bad_path", path.refusal().get());
                return;
            }
            route[0] = routeName(path.segments(), exchange);
            // Everything after authentication may block (disk, mesh): leave the I/O thread.
            exchange.dispatch(this);
            return;
        }
        List<String> seg = RawPath.parse(exchange.getRequestPath()).segments();
        boolean put = exchange.getRequestMethod().equals(Methods.PUT);
        if (seg.size() == 3 && seg.get(0).equals("v1") && seg.get(1).equals("bundles") && put) {
            publish(exchange, seg.get(2));
        } else if (put) {
            exchange.setPersistent(false);
            exchange.getResponseHeaders().put(Headers.ALLOW, "GET, HEAD");
            JsonResponses.error(exchange, 405, "method_not_allowed", "PUT is only for /v1/bundles/{name}");
        } else if (seg.equals(List.of("metrics"))) {
            byte[] body = metrics.scrape();
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, metrics.contentType());
            exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.length);
            exchange.getResponseSender().send(ByteBuffer.wrap(body));
        } else if (seg.equals(List.of("v1", "cluster"))) {
            JsonResponses.send(exchange, 200, clusterView());
        } else if (seg.equals(List.of("v1", "health"))) {
            JsonResponses.send(exchange, 200, health());
        } else if (seg.equals(List.of("v1", "bundles"))) {
            JsonResponses.send(exchange, 200, bundles());
        } else if (seg.size() == 4 && seg.get(0).equals("v1") && seg.get(1).equals("bundles") && seg.get(3).equals("history")) {
            history(exchange, seg.get(2));
        } else {
            JsonResponses.error(exchange, 404, "not_found", "no such resource");
        }
    }

    private static String routeName(List<String> seg, HttpServerExchange exchange) {
        if (exchange.getRequestMethod().equals(Methods.PUT)) {
            return "publish";
        }
        if (seg.equals(List.of("metrics"))) {
            return "metrics";
        }
        if (seg.size() >= 2 && seg.get(0).equals("v1")) {
            if (seg.size() == 4 && seg.get(3).equals("history")) {
                return "history";
            }
            if (seg.size() == 2) {
                return seg.get(1).equals("bundles") || seg.get(1).equals("cluster") || seg.get(1).equals("health") ? seg.get(1) : "other";
            }
        }
        return "other";
    }

    // ---- publish ----

    private void publish(HttpServerExchange exchange, String name) {
        if (!BundleName.isValid(name)) {
            exchange.setPersistent(false);
            metrics.publish("invalid");
            JsonResponses.error(exchange, 400, "bad_name", "bundle names match ^[a-z0-9][a-z0-9._-]{0,127}$");
            return;
        }
        long max = verifier.limits().maxBundleBytes();
        long declared = exchange.getRequestContentLength();
        if (declared > max) {
            tooLarge(exchange, "body of " + declared + " bytes exceeds the bundle limit of " + max);
            return;
        }
        byte[] body;
        XnioExecutor.Key deadline = exchange.getIoThread().executeAfter(
                () -> IoUtils.safeClose(exchange.getConnection()), limits.bodyTimeout().toMillis(), TimeUnit.MILLISECONDS);
        try {
            exchange.startBlocking();
            body = readAtMost(exchange.getInputStream(), max);
        } catch (IOException e) {
            LOG.info("publish of {}: body not received: {}", name, e.getMessage());
            exchange.setPersistent(false);
            metrics.publish("error");
            return;
        } finally {
            deadline.remove();
        }
        if (body == null) {
            tooLarge(exchange, "body exceeds the bundle limit of " + max + " bytes");
            return;
        }
        VerifyResult verified = verifier.verifyHandedOverAs(name, body);
        // The rollback check is the store's, against its durable floor (it also lets the floor's own
        // version back in when its digest matches: a lost copy restored).
        if (verified instanceof VerifyResult.Rejected rejected) {
            refuse(exchange, name, rejected.reason());
            return;
        }
        VerifiedBundle bundle = ((VerifyResult.Verified) verified).bundle();
        StoreOutcome outcome;
        try {
            outcome = store.admit(bundle, "publish");
        } catch (IOException e) {
            metrics.publish("error");
            JsonResponses.error(exchange, 503, "store_unavailable", "could not store the bundle durably: " + e.getMessage());
            return;
        }
        if (outcome instanceof StoreOutcome.Refused refused) {
            refuse(exchange, name, refused.rollback());
            return;
        }
        if (outcome instanceof StoreOutcome.OverBudget over) {
            metrics.publish("over_budget");
            JsonResponses.error(exchange, 507, "over_budget", over.detail());
            return;
        }
        if (outcome instanceof StoreOutcome.AlreadyHeld held) {
            metrics.publish("rollback");
            metrics.rejected("already_held", "publish");
            JsonResponses.error(exchange, 409, "already_held", name + "@" + held.version() + " is already held (same content); not newer");
            return;
        }
        PublishResult r = cluster.publish(bundle);
        metrics.publish("created");
        LOG.info("published {}; {} of {} members hold it", bundle, r.membersHolding(), r.membersInView());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", bundle.name());
        out.put("version", bundle.version());
        out.put("digest", bundle.manifestDigest());
        out.put("membersHolding", r.membersHolding());
        out.put("membersInView", r.membersInView());
        out.put("complete", r.complete());
        exchange.getResponseHeaders().put(Headers.LOCATION, "/v1/bundles/" + bundle.name());
        JsonResponses.send(exchange, 201, out);
    }

    private void refuse(HttpServerExchange exchange, String name, Rejection reason) {
        metrics.rejected(reason.code(), "publish");
        LOG.info("publish of {} refused: {}", name, reason.code());
        if (reason instanceof Rejection.Rollback rb) {
            metrics.publish("rollback");
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", reason.code());
            body.put("detail", reason.detail());
            body.put("current", rb.current());
            body.put("offered", rb.offered());
            JsonResponses.send(exchange, 409, body);
        } else if (reason.code().equals("too_large") || reason.code().equals("too_many_files")) {
            tooLarge(exchange, reason.detail());
        } else {
            metrics.publish("invalid");
            JsonResponses.error(exchange, 422, reason.code(), reason.detail());
        }
    }

    private void tooLarge(HttpServerExchange exchange, String detail) {
        exchange.setPersistent(false);
        metrics.publish("too_large");
        JsonResponses.error(exchange, 413, "too_large", detail);
    }

    /** Reads the whole body, or returns null as soon as it exceeds {@code max} bytes. */
    private static byte[] readAtMost(InputStream in, long max) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buf)) >= 0) {
            total += n;
            if (total > max) {
                return null;
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    // ---- views ----

    private Map<String, Object> clusterView() {
        ClusterStatus c = cluster.status();
        Map<String, Map<String, ClusterLink.Held>> digests = cluster.memberDigests();
        List<Map<String, Object>> members = new ArrayList<>();
        for (ClusterStatus.Member m : c.members()) {
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("id", m.id());
            mm.put("address", m.address());
            mm.put("self", m.self());
            mm.put("bundles", new TreeMap<>(digests.getOrDefault(m.id(), Map.of())));
            members.add(mm);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("self", c.selfId());
        out.put("state", c.state());
        out.put("coordinator", c.coordinator().orElse(null));
        out.put("partitioned", c.partitioned());
        out.put("inTouch", c.inTouch());
        out.put("lastContact", c.lastContact().map(DateTimeFormatter.ISO_INSTANT::format).orElse("never"));
        out.put("members", members);
        return out;
    }

    private Map<String, Object> health() {
        StoreHealth s = store.health();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("serving", s.servingAllHeld());
        out.put("bundles", s.bundles());
        out.put("storeErrors", s.errors());
        out.put("behindFloor", s.behindFloor());
        out.put("recentProblems", s.recentProblems());
        out.put("cluster", clusterView());
        out.put("time", DateTimeFormatter.ISO_INSTANT.format(clock.instant()));
        return out;
    }

    private Map<String, Object> bundles() {
        Map<String, Map<String, ClusterLink.Held>> digests = cluster.memberDigests();
        Set<String> names = new TreeSet<>();
        store.currentAll().forEach(b -> names.add(b.name()));
        digests.values().forEach(m -> names.addAll(m.keySet()));
        List<Map<String, Object>> out = new ArrayList<>();
        for (String name : names) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", name);
            store.current(name).ifPresent(b -> {
                e.put("version", b.version());
                e.put("digest", b.manifestDigest());
                e.put("retired", b.retired());
                e.put("withheld", store.withheld(name));
                e.put("created", DateTimeFormatter.ISO_INSTANT.format(b.manifest().created()));
            });
            OptionalLong floor = store.floor(name);
            if (floor.isPresent()) {
                e.put("floor", floor.getAsLong());
            }
            Map<String, Long> members = new TreeMap<>();
            digests.forEach((member, held) -> {
                ClusterLink.Held h = held.get(name);
                if (h != null) {
                    members.put(member, h.version());
                }
            });
            e.put("members", members);
            out.add(e);
        }
        return Map.of("bundles", out);
    }

    private void history(HttpServerExchange exchange, String name) {
        if (!BundleName.isValid(name)) {
            JsonResponses.error(exchange, 400, "bad_name", "bundle names match ^[a-z0-9][a-z0-9._-]{0,127}$");
            return;
        }
        List<HistoryEntry> entries;
        try {
            entries = store.history(name);
        } catch (IOException e) {
            JsonResponses.error(exchange, 503, "store_unavailable", e.getMessage());
            return;
        }
        OptionalLong floor = store.floor(name);
        if (entries.isEmpty() && floor.isEmpty()) {
            JsonResponses.error(exchange, 404, "no_such_bundle", "no versions of " + name + " are kept here");
            return;
        }
        List<Map<String, Object>> versions = new ArrayList<>();
        for (HistoryEntry h : entries) {
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("version", h.version());
            v.put("state", h.state());
            h.digest().ifPresent(d -> v.put("digest", d));
            v.put("size", h.sizeBytes());
            v.put("storedAt", DateTimeFormatter.ISO_INSTANT.format(h.storedAt()));
            versions.add(v);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        if (floor.isPresent()) {
            out.put("floor", floor.getAsLong());
        }
        out.put("versions", versions);
        JsonResponses.send(exchange, 200, out);
    }

    private boolean authorized(HttpServerExchange exchange) {
        String h = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = sha256(h.substring(7).trim().getBytes(StandardCharsets.UTF_8));
        return MessageDigest.isEqual(given, tokenHash);
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
