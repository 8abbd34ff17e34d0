package io.knowngood.node.http;

import io.knowngood.api.AuditList;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.Published;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.node.cluster.ClusterLink;
import io.knowngood.node.cluster.PublishResult;
import io.knowngood.node.cluster.TrustedKeysRecord;
import io.knowngood.node.config.HttpLimits;
import io.knowngood.node.metrics.NodeMetrics;
import io.knowngood.node.pools.PoolMap;
import io.knowngood.node.rollout.Rollouts;
import io.knowngood.node.store.BundleStore;
import io.knowngood.node.store.StoreOutcome;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xnio.IoUtils;
import org.xnio.XnioExecutor;

/**
 * The admin endpoint, on its own bind, every request authenticated with {@code Authorization:
 * Bearer <token>} (compared in constant time). Publish runs on a worker thread: read the body
 * (bounded in size and time), verify, check the durable rollback floor, store atomically, then
 * hand the bundle to the mesh and report how many members hold it. Only the status page ({@code GET /},
 * {@link StatusPage}) is served without a token: it holds no data.
 */
public final class AdminEndpoint implements HttpHandler {

    private static final Logger LOG = LoggerFactory.getLogger(AdminEndpoint.class);
    /** What {@code GET /v1/bundles/{name}/...} offers on this endpoint. */
    private static final Set<String> BUNDLE_VIEWS = Set.of("history", "manifest.json", "signatures.json");

    private final BundleStore store;
    private final BundleVerifier verifier;
    private final ClusterLink cluster;
    private final NodeMetrics metrics;
    private final HttpLimits limits;
    private final AdminAccess access;
    private final AuditLog audit;
    private final Clock clock;
    private final RequestGuard guard;
    private final AdminViews views;
    private final RolloutRoutes rolloutRoutes;
    private final StatusPage statusPage = StatusPage.load();
    private final ExplainView explain;

    public AdminEndpoint(BundleStore store, Rollouts rollouts, BundleVerifier verifier, ClusterLink cluster, NodeMetrics metrics,
                         HttpLimits limits, AdminAccess access, AuditLog audit, Clock clock) {
        this(store, rollouts, verifier, cluster, metrics, limits, access, audit, clock, PoolMap.none());
    }

    /** {@code pools}: shown on {@code GET /v1/health} (the admin endpoint itself is never filtered by pools). */
    public AdminEndpoint(BundleStore store, Rollouts rollouts, BundleVerifier verifier, ClusterLink cluster, NodeMetrics metrics,
                         HttpLimits limits, AdminAccess access, AuditLog audit, Clock clock, PoolMap pools) {
        this(store, rollouts, verifier, cluster, metrics, limits, access, audit, clock, pools,
                new ExplainView(new ExplainView.Setup(cluster.status().selfId(), List.of(), Optional.empty(), Optional.empty(), Optional.empty()),
                        store, rollouts, cluster, pools, audit, new io.knowngood.node.cluster.PeerClocks(clock), clock));
    }

    /** {@code explain}: {@code GET /v1/explain/{name}} (read scope). */
    public AdminEndpoint(BundleStore store, Rollouts rollouts, BundleVerifier verifier, ClusterLink cluster, NodeMetrics metrics,
                         HttpLimits limits, AdminAccess access, AuditLog audit, Clock clock, PoolMap pools, ExplainView explain) {
        this.explain = explain;
        this.store = store;
        this.verifier = verifier;
        this.cluster = cluster;
        this.metrics = metrics;
        this.limits = limits;
        this.access = access;
        this.audit = audit;
        this.clock = clock;
        this.guard = new RequestGuard(limits, Set.of(Methods.GET, Methods.HEAD, Methods.PUT), true);
        this.views = new AdminViews(store, cluster, clock, rollouts::expired, rollouts::states, pools,
                TrustedKeysRecord.of(verifier.trust().ids()).keyIds());
        this.rolloutRoutes = new RolloutRoutes(cluster.status().selfId(), rollouts, store);
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
            if (StatusPage.matches(exchange)) { // the page holds no data: it asks for the token itself
                route[0] = "status_page";
                statusPage.send(exchange);
                return;
            }
            Optional<AdminToken.Grant> grant = access.authenticate(bearer(exchange));
            boolean put = exchange.getRequestMethod().equals(Methods.PUT);
            if (put) {
                startAudit(exchange, grant.map(AdminToken.Grant::name).orElse("-"));
            }
            if (grant.isEmpty()) {
                exchange.setPersistent(false);
                exchange.getResponseHeaders().put(Headers.WWW_AUTHENTICATE, "Bearer");
                if (put) {
                    metrics.publish("unauthorized");
                }
                JsonResponses.error(exchange, 401, ErrorCode.UNAUTHORIZED, "missing or wrong bearer token");
                return;
            }
            if (put && !grant.get().may(AdminToken.Scope.PUBLISH)) {
                exchange.setPersistent(false);
                metrics.publish("forbidden");
                JsonResponses.error(exchange, 403, ErrorCode.FORBIDDEN, "token " + grant.get().name()
                        + " has the scope read; publishing and rollout controls need a token with the scope publish");
                return;
            }
            RawPath.Parsed path = RawPath.parse(exchange.getRequestPath());
            if (path.isRefused()) {
                JsonResponses.error(exchange, 400, ErrorCode.BAD_PATH, path.refusal().get());
                return;
            }
            route[0] = routeName(path.segments(), exchange);
            // Everything after authentication may block (disk, mesh): leave the I/O thread.
            exchange.dispatch(this);
            return;
        }
        List<String> seg = RawPath.parse(exchange.getRequestPath()).segments();
        boolean put = exchange.getRequestMethod().equals(Methods.PUT);
        if (rolloutRoutes.handle(exchange, seg, put)) {
            return;
        }
        if (seg.size() == 3 && seg.get(0).equals("v1") && seg.get(1).equals("bundles") && put) {
            publish(exchange, seg.get(2));
        } else if (put) {
            exchange.setPersistent(false);
            exchange.getResponseHeaders().put(Headers.ALLOW, "GET, HEAD");
            JsonResponses.error(exchange, 405, ErrorCode.METHOD_NOT_ALLOWED, "PUT is only for /v1/bundles/{name} and /v1/rollouts/{name}/{version}/controls");
        } else if (seg.equals(List.of("metrics"))) {
            byte[] body = metrics.scrape();
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, metrics.contentType());
            exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.length);
            exchange.getResponseSender().send(ByteBuffer.wrap(body));
        } else if (seg.equals(List.of("v1", "audit"))) {
            auditView(exchange);
        } else if (seg.size() == 3 && seg.get(0).equals("v1") && seg.get(1).equals("explain")) {
            explain.handle(exchange, seg.get(2));
        } else if (seg.equals(List.of("v1", "cluster"))) {
            JsonResponses.send(exchange, 200, views.cluster());
        } else if (seg.equals(List.of("v1", "health"))) {
            JsonResponses.send(exchange, 200, views.health());
        } else if (seg.equals(List.of("v1", "bundles"))) {
            JsonResponses.send(exchange, 200, views.bundles());
        } else if (seg.size() == 4 && seg.get(0).equals("v1") && seg.get(1).equals("bundles") && BUNDLE_VIEWS.contains(seg.get(3))) {
            if (!BundleName.isValid(seg.get(2))) {
                JsonResponses.error(exchange, 400, ErrorCode.BAD_NAME, "bundle names match " + BundleName.RULE);
            } else if (seg.get(3).equals("history")) {
                views.history(exchange, seg.get(2));
            } else {
                views.signedJson(exchange, seg.get(2), seg.get(3).equals("manifest.json"));
            }
        } else {
            JsonResponses.error(exchange, 404, ErrorCode.NOT_FOUND, "no such resource");
        }
    }

    private static String routeName(List<String> seg, HttpServerExchange exchange) {
        if (seg.size() >= 2 && seg.get(0).equals("v1") && seg.get(1).equals("rollouts")) {
            return exchange.getRequestMethod().equals(Methods.PUT) ? "control" : "rollouts";
        }
        if (seg.size() == 5 && seg.get(0).equals("v1") && seg.get(1).equals("bundles") && seg.get(3).equals("versions")) {
            return "version";
        }
        if (exchange.getRequestMethod().equals(Methods.PUT)) {
            return "publish";
        }
        if (seg.equals(List.of("metrics"))) {
            return "metrics";
        }
        if (seg.equals(List.of("v1", "audit"))) {
            return "audit";
        }
        if (seg.size() == 3 && seg.get(0).equals("v1") && seg.get(1).equals("explain")) {
            return "explain";
        }
        if (seg.size() >= 2 && seg.get(0).equals("v1")) {
            if (seg.size() == 4 && seg.get(1).equals("bundles") && BUNDLE_VIEWS.contains(seg.get(3))) {
                return seg.get(3).equals("history") ? "history" : seg.get(3).equals("manifest.json") ? "manifest" : "signatures";
            }
            if (seg.size() == 2) {
                return seg.get(1).equals("bundles") || seg.get(1).equals("cluster") || seg.get(1).equals("health") ? seg.get(1) : "other";
            }
        }
        return "other";
    }

    // ---- publish ----

    private void publish(HttpServerExchange exchange, String name) {
        long started = System.nanoTime();
        if (!BundleName.isValid(name)) {
            exchange.setPersistent(false);
            metrics.publish("invalid");
            JsonResponses.error(exchange, 400, ErrorCode.BAD_NAME, "bundle names match " + BundleName.RULE);
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
        long received = System.nanoTime();
        VerifyResult verified = verifier.verifyHandedOverAs(name, body);
        long checked = System.nanoTime();
        // The rollback check is the store's, against its durable floor (it also lets the floor's own
        // version back in when its digest matches: a lost copy restored).
        if (verified instanceof VerifyResult.Rejected rejected) {
            refuse(exchange, name, rejected.reason());
            return;
        }
        VerifiedBundle bundle = ((VerifyResult.Verified) verified).bundle();
        StoreOutcome outcome;
        // The members get the bundle as soon as the store has admitted it and written its bytes, while
        // this node's copy becomes durable: they verify and store it on their own, and this node serves
        // it (and answers) only once its own copy is durable.
        ClusterLink.Sending sending = cluster.sending(bundle);
        AtomicBoolean sent = new AtomicBoolean();
        long[] sentAt = {0};
        try {
            outcome = store.admit(bundle, "publish", () -> {
                sentAt[0] = System.nanoTime();
                sent.set(sending.send());
            });
        } catch (IOException e) {
            metrics.publish("error");
            JsonResponses.error(exchange, 503, ErrorCode.STORE_UNAVAILABLE, "could not store the bundle durably: " + e.getMessage()
                    + (sent.get() ? "; it had already been sent to the mesh, whose members verify and store it on their own"
                            + " (GET /v1/cluster shows who holds what)" : ""));
            return;
        }
        if (outcome instanceof StoreOutcome.Refused refused) {
            refuse(exchange, name, refused.rollback());
            return;
        }
        if (outcome instanceof StoreOutcome.OverBudget over) {
            metrics.publish("over_budget");
            JsonResponses.error(exchange, 507, ErrorCode.OVER_BUDGET, over.detail());
            return;
        }
        if (outcome instanceof StoreOutcome.AlreadyHeld held) {
            metrics.publish("rollback");
            metrics.rejected("already_held", "publish");
            JsonResponses.error(exchange, 409, ErrorCode.ALREADY_HELD, name + "@" + held.version() + " is already held (same content); not newer");
            return;
        }
        long durable = System.nanoTime();
        PublishResult r = sending.await();
        metrics.publish("created");
        // where a publish's time goes, from the handler's start: body read, verified, sent to the mesh, durable here, confirmed
        LOG.info("published {}; {} of {} members hold it (body {} ms, verified {}, sent {}, durable {}, confirmed {})", bundle,
                r.membersHolding(), r.membersInView(), msSince(started, received), msSince(started, checked),
                sentAt[0] == 0 ? "-" : msSince(started, sentAt[0]), msSince(started, durable), msSince(started, System.nanoTime()));
        exchange.getResponseHeaders().put(Headers.LOCATION, "/v1/bundles/" + bundle.name());
        JsonResponses.send(exchange, 201, new Published(bundle.name(), bundle.version(), bundle.manifestDigest(),
                r.membersHolding(), r.membersInView(), r.complete()));
    }

    /** Milliseconds to one decimal, as {@code %.1f} prints them, without a {@code Formatter} on the publish path. */
    private static double msSince(long from, long to) {
        return Math.round((to - from) / 1e5) / 10.0;
    }

    private void refuse(HttpServerExchange exchange, String name, Rejection reason) {
        metrics.rejected(reason.code(), "publish");
        LOG.info("publish of {} refused: {}", name, reason.code());
        if (reason instanceof Rejection.Rollback rb) {
            metrics.publish("rollback");
            JsonResponses.send(exchange, 409, ErrorBody.rollback(reason.detail(), rb.current(), rb.offered()));
        } else if (reason instanceof Rejection.TooLarge || reason instanceof Rejection.TooManyFiles) {
            tooLarge(exchange, reason.detail());
        } else {
            metrics.publish("invalid");
            JsonResponses.error(exchange, 422, JsonResponses.codeOf(reason), reason.detail());
        }
    }

    private void tooLarge(HttpServerExchange exchange, String detail) {
        exchange.setPersistent(false);
        metrics.publish("too_large");
        JsonResponses.error(exchange, 413, ErrorCode.TOO_LARGE, detail);
    }

    /** Reads the whole body, or returns null as soon as it exceeds {@code max} bytes. */
    static byte[] readAtMost(InputStream in, long max) throws IOException {
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

    /** The bearer token of the Authorization header, or null. */
    private static String bearer(HttpServerExchange exchange) {
        String h = exchange.getRequestHeaders().getFirst(Headers.AUTHORIZATION);
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        return h.substring(7).trim();
    }

    /** Every PUT is audited, whoever sent it: what it names comes from the path (bounded), the rest from the routes. */
    private void startAudit(HttpServerExchange exchange, String token) {
        List<String> seg = RawPath.parse(exchange.getRequestPath()).segments();
        boolean control = seg.size() >= 2 && seg.get(1).equals("rollouts");
        String name = seg.size() >= 3 ? seg.get(2) : "";
        if (name.length() > 128) { // the longest valid name; a longer one is recorded cut, as sent
            name = name.substring(0, 128) + "...";
        }
        Long version = null;
        if (control && seg.size() >= 4) {
            try {
                version = Long.parseLong(seg.get(3));
            } catch (NumberFormatException notANumber) {
                version = null;
            }
        }
        AuditTrail.attach(exchange, audit, clock, token, control ? "control" : "publish", name, version);
    }

    private void auditView(HttpServerExchange exchange) {
        SingleParameter limitParameter = SingleParameter.of(exchange, "limit");
        if (limitParameter.refuseRepeated(exchange)) {
            return;
        }
        String raw = limitParameter.value().orElse(null);
        int limit = AuditList.DEFAULT_LIMIT;
        if (raw != null) {
            try {
                limit = Integer.parseInt(raw);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > AuditList.MAX_LIMIT) {
                JsonResponses.error(exchange, 400, ErrorCode.BAD_QUERY, "limit must be 1.." + AuditList.MAX_LIMIT + ", got " + raw);
                return;
            }
        }
        SingleParameter nameParameter = SingleParameter.of(exchange, "name");
        if (nameParameter.refuseRepeated(exchange)) {
            return;
        }
        String name = nameParameter.value().orElse(null);
        if (name != null && !BundleName.isValid(name)) {
            JsonResponses.error(exchange, 400, ErrorCode.BAD_QUERY, "name must be a bundle name (" + BundleName.RULE + "), got " + name);
            return;
        }
        JsonResponses.send(exchange, 200, new AuditList(audit.newest(limit, name)));
    }
}
