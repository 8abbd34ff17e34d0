package io.knowngood.node.http;

import io.knowngood.api.ApiJson;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.HeaderNames;
import io.knowngood.api.LastContact;
import io.knowngood.api.VmBundleList;
import io.knowngood.api.VmHealth;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.FileEntry;
import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.node.cluster.ClusterStatus;
import io.knowngood.node.config.HttpLimits;
import io.knowngood.node.metrics.NodeMetrics;
import io.knowngood.node.pools.PoolMap;
import io.knowngood.node.rollout.Choice;
import io.knowngood.node.rollout.Rollouts;
import io.knowngood.node.store.BundleStore;
import io.knowngood.node.store.StoreHealth;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderMap;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import io.knowngood.node.store.StoreObserver;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The VM endpoint (GET and HEAD only), exactly as SPEC.md lists it: bundle list, archive (with ETag,
 * If-None-Match and long-poll), manifest, signatures, single files, health. Everything is served
 * from the verified copies the store holds in memory; every bundle response carries the freshness
 * headers. Read {@link #handleRequest} top to bottom for the whole request path.
 *
 * <p>Pools: each request is answered for the pools its TCP source address falls in (never for
 * anything it sends). A name whose newest version held is not for those pools answers on every route
 * exactly as a name this node does not hold; otherwise the version served is chosen among the
 * versions that are for them.
 */
public final class VmEndpoint implements HttpHandler {

    static final HttpString IN_TOUCH = new HttpString(HeaderNames.IN_TOUCH);
    static final HttpString LAST_CONTACT = new HttpString(HeaderNames.LAST_CONTACT);
    static final HttpString VERSION = new HttpString(HeaderNames.VERSION);
    static final HttpString STATE = new HttpString(HeaderNames.STATE);
    static final HttpString LATEST = new HttpString(HeaderNames.LATEST);
    static final HttpString EXPIRED = new HttpString(HeaderNames.EXPIRED);

    private final BundleStore store;
    private final Rollouts rollouts;
    private final ReportsRoute reports;
    private final RequestGuard postGuard;
    private final Supplier<ClusterStatus> cluster;
    private final NodeMetrics metrics;
    private final HttpLimits limits;
    private final Clock clock;
    private final String nodeId;
    private final RequestGuard guard;
    private final LongPolls longPolls = new LongPolls();
    private final PoolMap pools;
    /** Header values fixed for one version of a bundle, keyed by name (no bundle kept alive: see {@link Served}). */
    private final Map<String, Served> served = new ConcurrentHashMap<>();
    /** Direct-memory copies of the hottest bodies, so a write does not copy them from the heap first. */
    private final DirectCopies copies = new DirectCopies(DirectCopies.BUDGET);
    private volatile Freshness freshness;
    /** The encoded list per set of VM pools (most nodes: one entry, the empty set). */
    private final Map<Set<String>, ListBody> listBodies = new ConcurrentHashMap<>();

    public VmEndpoint(String nodeId, BundleStore store, Rollouts rollouts, Supplier<ClusterStatus> cluster, NodeMetrics metrics,
                      HttpLimits limits, Clock clock) {
        this(nodeId, store, rollouts, cluster, metrics, limits, clock, PoolMap.none());
    }

    public VmEndpoint(String nodeId, BundleStore store, Rollouts rollouts, Supplier<ClusterStatus> cluster, NodeMetrics metrics,
                      HttpLimits limits, Clock clock, PoolMap pools) {
        this.nodeId = nodeId;
        this.pools = pools;
        this.store = store;
        this.rollouts = rollouts;
        this.reports = new ReportsRoute(rollouts, pools, () -> metrics.poolRefusal("reports"));
        this.postGuard = new RequestGuard(limits, Set.of(Methods.POST), true);
        this.cluster = cluster;
        this.metrics = metrics;
        this.limits = limits;
        this.clock = clock;
        this.guard = new RequestGuard(limits, Set.of(Methods.GET, Methods.HEAD), false);
        store.addObserver(longPolls);
        store.addObserver(new StoreObserver() {
            @Override
            public void stored(VerifiedBundle bundle, String source, boolean becameCurrent) {
                if (becameCurrent && bundle.retired()) {
                    Served gone = served.remove(bundle.name()); // withdrawn: its copies give their bytes back
                    if (gone != null) {
                        gone.retire();
                    }
                }
            }
        });
        rollouts.onServingChange(longPolls::recheck);
    }

    /** Bytes of direct memory the endpoint's body copies take (metrics). */
    public long directCopyBytes() {
        return copies.held();
    }

    /** Long-poll requests currently parked (for metrics). */
    public int waiting() {
        return longPolls.waiting();
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        long started = System.nanoTime();
        RouteLabel route = new RouteLabel(metrics);
        exchange.addExchangeCompleteListener(route);
        addFreshness(exchange.getResponseHeaders());
        if (exchange.getRequestMethod().equals(Methods.POST) && exchange.getRequestPath().equals("/v1/reports")) {
            route.name = "reports";
            if (!postGuard.refuse(exchange)) {
                reports.handle(exchange);
            }
            return;
        }
        if (guard.refuse(exchange)) {
            return;
        }
        // the TCP source address only: no header a VM sends has any say in its pools
        Set<String> vmPools = pools.poolsOf(exchange.getSourceAddress().getAddress());
        RawPath.Parsed path = RawPath.parse(exchange.getRequestPath());
        if (path.isRefused()) {
            JsonResponses.error(exchange, 400, ErrorCode.BAD_PATH, path.refusal().get());
            return;
        }
        List<String> seg = path.segments();
        if (seg.size() == 2 && seg.get(0).equals("v1") && seg.get(1).equals("health")) {
            route.name = "health";
            health(exchange, vmPools);
            return;
        }
        if (seg.size() < 2 || !seg.get(0).equals("v1") || !seg.get(1).equals("bundles")) {
            JsonResponses.error(exchange, 404, ErrorCode.NOT_FOUND, "no such resource");
            return;
        }
        if (seg.size() == 2) {
            route.name = "list";
            list(exchange, vmPools);
            metrics.fetchLatency("list", System.nanoTime() - started);
            return;
        }
        String name = seg.get(2);
        // a name the store holds passed this check when it was stored: no regex on the hot path
        if (store.current(name).isEmpty() && !BundleName.isValid(name)) {
            JsonResponses.error(exchange, 400, ErrorCode.BAD_NAME, "bundle names match " + BundleName.RULE);
            return;
        }
        if (seg.size() == 3) {
            route.name = "archive";
            archive(exchange, name, started, vmPools);
            return;
        }
        Optional<Choice> held = servable(exchange, name, vmPools, subRoute(seg));
        if (held.isEmpty()) {
            return;
        }
        Choice ch = held.get();
        VerifiedBundle b = ch.bundle();
        if (seg.size() == 4 && seg.get(3).equals("manifest.json")) {
            route.name = "manifest";
            Served s = served(b);
            byte[] manifest = b.manifestBytes();
            bytes(exchange, ch, s, ByteBuffer.wrap(manifest), null, APPLICATION_JSON, s.quotedEtag(), Integer.toString(manifest.length));
        } else if (seg.size() == 4 && seg.get(3).equals("signatures.json")) {
            route.name = "signatures";
            byte[] sigs = b.signaturesBytes();
            Served s = served(b);
            bytes(exchange, ch, s, ByteBuffer.wrap(sigs), null, APPLICATION_JSON, s.signaturesEtag(sigs), Integer.toString(sigs.length));
        } else if (seg.size() >= 5 && seg.get(3).equals("files")) {
            route.name = "file";
            String filePath = seg.size() == 5 ? seg.get(4) : String.join("/", seg.subList(4, seg.size()));
            Served s = served(b);
            ServedFile file = s.file(b, filePath);
            Optional<ByteBuffer> content = file == null ? Optional.empty() : b.fileBytes(filePath);
            if (content.isEmpty()) {
                JsonResponses.error(exchange, 404, ErrorCode.NO_SUCH_FILE, name + "@" + b.version() + " has no file " + filePath);
                return;
            }
            ByteBuffer bytes = content.get();
            bytes(exchange, ch, s, bytes, file.copy(), OCTET_STREAM, file.quotedEtag(), file.length(bytes.remaining()));
        } else {
            JsonResponses.error(exchange, 404, ErrorCode.NOT_FOUND, "no such resource");
            return;
        }
        metrics.fetchLatency(route.name, System.nanoTime() - started);
    }

    // ---- routes ----

    private void list(HttpServerExchange exchange, Set<String> vmPools) {
        List<VerifiedBundle> all = store.servableAll();
        List<String> names = new ArrayList<>(all.size());
        long[] versions = new long[all.size()];
        for (VerifiedBundle cur : all) {
            if (!cur.manifest().visibleTo(vmPools)) {
                continue; // the newest version held is not for this VM's pools: the name does not exist for it
            }
            VerifiedBundle b = rollouts.choose(cur.name(), vmPools).map(Choice::bundle).orElse(null);
            if (b != null && !b.retired()) {
                versions[names.size()] = b.version();
                names.add(b.name());
            }
        }
        // A boot storm asks for the same list thousands of times: encode it once per change.
        ListBody cached = listBodies.get(vmPools);
        if (cached == null || !cached.sameAs(names, versions)) {
            List<VmBundleList.Entry> out = new ArrayList<>(names.size());
            for (int i = 0; i < names.size(); i++) {
                out.add(new VmBundleList.Entry(names.get(i), versions[i]));
            }
            cached = new ListBody(names, Arrays.copyOf(versions, names.size()), ApiJson.encode(new VmBundleList(out)));
            if (listBodies.size() >= MAX_CACHED_LISTS) {
                listBodies.clear();
            }
            listBodies.put(Set.copyOf(vmPools), cached);
        }
        JsonResponses.sendEncoded(exchange, 200, cached.json());
    }

    private void archive(HttpServerExchange exchange, String name, long started, Set<String> vmPools) {
        Query q = Query.parse(exchange.getQueryString(), limits.longPollMaxWait());
        if (q.problem().isPresent()) {
            JsonResponses.error(exchange, 400, ErrorCode.BAD_QUERY, q.problem().get());
            return;
        }
        // A long-poll is for a name this VM can see. One for a name not held here, or hidden from this VM's
        // pools, is answered 404 at once, the same answer for both (so a VM cannot tell them apart), and
        // no connection is parked on a name a VM made up. A name held below its floor with no copy left
        // (withheld) still waits: a peer is expected to supply it.
        boolean unknown = store.current(name).isEmpty() && !store.withheld(name);
        boolean hidden = store.current(name).isPresent() && !rollouts.visible(name, vmPools);
        if (unknown || hidden) {
            if (hidden) {
                metrics.poolRefusal(q.after().isPresent() || q.waitFor().isPresent() ? "long_poll" : "archive");
            }
            noSuchBundle(exchange, name);
            return;
        }
        Optional<VerifiedBundle> held = rollouts.choose(name, vmPools).map(Choice::bundle);
        OptionalLong after = q.after();
        if (after.isEmpty() && q.waitFor().isPresent() && held.isPresent() && etagMatches(exchange, served(held.get()).quotedEtag())) {
            after = OptionalLong.of(held.get().version());
        }
        if (after.isPresent()) {
            long v = held.map(VerifiedBundle::version).orElse(0L);
            if (v > after.getAsLong() || (held.isPresent() && v < after.getAsLong() && rollouts.reverted(name, after.getAsLong()))) {
                // newer, or the fallback for a VM that holds a version reverted since
                sendArchive(exchange, name, false, vmPools);
            } else if (q.waitFor().isEmpty() || q.waitFor().get().isZero()) {
                notModified(exchange, rollouts.choose(name, vmPools));
            } else {
                long afterV = after.getAsLong();
                Duration wait = q.waitFor().get();
                exchange.dispatch(SameThreadExecutor.INSTANCE, () -> longPolls.park(exchange, name, afterV, held, wait,
                        () -> rollouts.choose(name, vmPools).map(Choice::bundle), rollouts::reverted,
                        new LongPolls.Answer() {
                            @Override
                            public void ready(HttpServerExchange ex) {
                                addFreshness(ex.getResponseHeaders());
                                sendArchive(ex, name, true, vmPools);
                            }

                            @Override
                            public void timedOut(HttpServerExchange ex) {
                                addFreshness(ex.getResponseHeaders());
                                notModified(ex, rollouts.choose(name, vmPools));
                            }
                        }));
                return;
            }
        } else {
            sendArchive(exchange, name, false, vmPools);
        }
        metrics.fetchLatency("archive", System.nanoTime() - started);
    }

    private void sendArchive(HttpServerExchange exchange, String name, boolean ignoreConditional, Set<String> vmPools) {
        Optional<Choice> held = servable(exchange, name, vmPools, "archive");
        if (held.isEmpty()) {
            return;
        }
        VerifiedBundle b = held.get().bundle();
        Served s = served(b);
        if (!ignoreConditional && etagMatches(exchange, s.quotedEtag())) {
            notModified(exchange, held);
            return;
        }
        HeaderMap h = exchange.getResponseHeaders();
        h.put(Headers.CONTENT_TYPE, APPLICATION_TAR);
        h.put(Headers.CONTENT_DISPOSITION, s.disposition());
        ByteBuffer archive = s.archiveCopy().body(b.archive());
        sendBody(exchange, held.get(), s, archive, s.quotedEtag(), s.archiveLength(archive.remaining()));
    }

    /** {@code copy}: the body's direct copy, asked only when the body is sent (a 304 does not make a body hot); null for none. */
    private void bytes(HttpServerExchange exchange, Choice ch, Served s, ByteBuffer content, DirectCopies.Slot copy, String type,
                       String quotedEtag, String length) {
        if (etagMatches(exchange, quotedEtag)) {
            notModified(exchange, ch, s, quotedEtag);
            return;
        }
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, type);
        sendBody(exchange, ch, s, copy == null ? content : copy.body(content), quotedEtag, length);
    }

    /** Every header value here is a string made once per served version (no formatting per request). */
    private void sendBody(HttpServerExchange exchange, Choice ch, Served s, ByteBuffer content, String quotedEtag, String length) {
        HeaderMap h = exchange.getResponseHeaders();
        h.put(Headers.ETAG, quotedEtag);
        h.put(VERSION, s.version());
        addRolloutHeaders(h, ch, s);
        h.put(Headers.CACHE_CONTROL, NO_CACHE);
        h.put(Headers.CONTENT_LENGTH, length);
        exchange.setStatusCode(200);
        exchange.getResponseSender().send(content);
    }

    /** The archive's 304 (a conditional GET, a long-poll with nothing newer): the held version's headers, when one is held. */
    private void notModified(HttpServerExchange exchange, Optional<Choice> held) {
        Optional<Choice> version = held.filter(ch -> ch.bundle() != null);
        if (version.isPresent()) {
            Served s = served(version.get().bundle());
            notModified(exchange, version.get(), s, s.quotedEtag());
        } else {
            exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, NO_CACHE);
            exchange.setStatusCode(304);
            exchange.endExchange();
        }
    }

    /**
     * The 304 for a held version, on every route: the validator and the version headers, and the same
     * Cache-Control as the 200 it stands for (RFC 9110, 15.4.5: a 304 carries the ETag and Cache-Control a
     * 200 to the same request would have).
     */
    private void notModified(HttpServerExchange exchange, Choice ch, Served s, String quotedEtag) {
        HeaderMap h = exchange.getResponseHeaders();
        h.put(Headers.ETAG, quotedEtag);
        h.put(VERSION, s.version());
        addRolloutHeaders(h, ch, s);
        h.put(Headers.CACHE_CONTROL, NO_CACHE);
        exchange.setStatusCode(304);
        exchange.endExchange();
    }

    /**
     * What this host serves for {@code name} to a VM in {@code vmPools} (its rollout decides the version,
     * among those for the VM's pools), or an error already sent (404 unknown, 404 retired, 404 every
     * version reverted, 503 withheld). A name hidden from those pools gets the unknown name's answer,
     * whatever else is true of it.
     */
    private Optional<Choice> servable(HttpServerExchange exchange, String name, Set<String> vmPools, String route) {
        VmAnswer answer = VmAnswer.of(store, rollouts, name, vmPools);
        if (answer instanceof VmAnswer.Served served) {
            return Optional.of(served.choice());
        }
        if (answer instanceof VmAnswer.Hidden) {
            metrics.poolRefusal(route);
            noSuchBundle(exchange, name);
        } else if (answer instanceof VmAnswer.AllReverted reverted) {
            exchange.getResponseHeaders().put(LATEST, reverted.latest());
            JsonResponses.error(exchange, 404, ErrorCode.ALL_REVERTED, "every version of " + name + " held here was reverted");
        } else if (answer instanceof VmAnswer.Withheld withheld) {
            JsonResponses.error(exchange, 503, ErrorCode.BEHIND_FLOOR, "the copy held of " + name + " is older than version "
                    + withheld.floor() + " accepted before; waiting for a peer to supply it");
        } else if (answer instanceof VmAnswer.Retired retired) {
            exchange.getResponseHeaders().put(VERSION, retired.version());
            JsonResponses.error(exchange, 404, ErrorCode.RETIRED, name + " was withdrawn at version " + retired.version());
        } else {
            noSuchBundle(exchange, name);
        }
        return Optional.empty();
    }

    /** The metrics label of a route under {@code /v1/bundles/{name}/} (never text the VM chose). */
    private static String subRoute(List<String> seg) {
        if (seg.size() >= 5 && seg.get(3).equals("files")) {
            return "file";
        }
        if (seg.size() == 4 && seg.get(3).equals("manifest.json")) {
            return "manifest";
        }
        return seg.size() == 4 && seg.get(3).equals("signatures.json") ? "signatures" : "other";
    }

    /** The one answer for a name not held here, and for a name hidden from the asking VM's pools. */
    private static void noSuchBundle(HttpServerExchange exchange, String name) {
        JsonResponses.error(exchange, 404, ErrorCode.NO_SUCH_BUNDLE, "this node holds no bundle named " + name);
    }

    /** X-Knowngood-State and -Latest always; X-Knowngood-Expired when the served version's expiry has passed. */
    private void addRolloutHeaders(HeaderMap h, Choice ch, Served s) {
        h.put(STATE, ch.state());
        h.put(LATEST, ch.latest() == s.versionNumber() ? s.version() : Long.toString(ch.latest()));
        if (ch.bundle() != null && rollouts.expired(ch.bundle())) {
            h.put(EXPIRED, "true");
        }
    }

    /**
     * Health as a VM in {@code vmPools} may see it: counts and names cover only the names that exist
     * for it (a name held below its floor with no copy at all is left out: its pools are unknown).
     */
    private void health(HttpServerExchange exchange, Set<String> vmPools) {
        StoreHealth s = store.health();
        ClusterStatus c = cluster.get();
        VmHealth.Cluster cl = new VmHealth.Cluster(c.state(), c.members().size(), c.partitioned(), c.members().size() <= 1,
                c.inTouch(), lastContact(c));
        List<StoreHealth.BehindFloor> behind = s.behindFloor().stream()
                .filter(b -> b.held() > 0 && rollouts.visible(b.name(), vmPools)).toList();
        // Not serving: a copy this node holds is withheld (below its floor; the newer copy is missing here).
        boolean serving = behind.stream().allMatch(StoreHealth.BehindFloor::serving);
        int bundles = 0;
        List<String> expired = new ArrayList<>();
        for (VerifiedBundle cur : store.servableAll()) {
            if (!cur.manifest().visibleTo(vmPools)) {
                continue;
            }
            bundles += cur.retired() ? 0 : 1;
            rollouts.choose(cur.name(), vmPools).map(Choice::bundle).filter(rollouts::expired).ifPresent(b -> expired.add(b.name()));
        }
        VmHealth body = new VmHealth(serving, nodeId, bundles, cl,
                new VmHealth.Store(s.errors(), behind.stream().map(b -> new io.knowngood.api.BehindFloor(b.name(), b.held(), b.floor(),
                        b.serving(), b.cause())).toList()), expired);
        JsonResponses.send(exchange, serving ? 200 : 503, body);
    }

    // ---- helpers for this endpoint ----

    private void addFreshness(HeaderMap h) {
        ClusterStatus c = cluster.get();
        long second = Math.floorDiv(clock.millis(), 1000);
        Freshness f = freshness;
        // the status object changes at most every StatusCache ttl; the formatted time once a second
        if (f == null || f.status() != c || f.second() != second) {
            f = new Freshness(c, second, Boolean.toString(c.inTouch()), lastContact(c));
            freshness = f;
        }
        h.put(IN_TOUCH, f.inTouch());
        h.put(LAST_CONTACT, f.lastContact());
    }

    private Served served(VerifiedBundle b) {
        Served s = served.get(b.name());
        if (s == null || !s.isOf(b)) {
            s = new Served(b, copies.group());
            Served before = served.put(b.name(), s);
            if (before != null) {
                before.retire();
            }
        }
        return s;
    }

    static final int MAX_CACHED_LISTS = 256;

    static final String OCTET_STREAM = "application/octet-stream";
    static final String APPLICATION_JSON = "application/json";
    static final String APPLICATION_TAR = "application/x-tar";
    static final String NO_CACHE = "no-cache";

    /**
     * The header values of one served copy of a bundle (the store's very object: a copy signed again or
     * replaced by a tie gets its own), made once: ETags, lengths, and per file (filled as files are asked
     * for; only files the manifest lists); and the direct copies of its hottest bodies, within their
     * budget. The copy itself is referred to weakly: a superseded version's bytes are never kept alive
     * by this.
     */
    private static final class Served {
        private final WeakReference<VerifiedBundle> of;
        private final long versionNumber;
        private final String quotedEtag;
        private final String version;
        private final String disposition;
        private final long archiveBytes;
        private final String archiveLength;
        private final Map<String, ServedFile> files = new ConcurrentHashMap<>();
        private volatile SignaturesEtag signaturesEtag;
        private final DirectCopies.Group copies;
        private final DirectCopies.Slot archiveCopy;

        Served(VerifiedBundle b, DirectCopies.Group copies) {
            this.of = new WeakReference<>(b);
            this.versionNumber = b.version();
            this.copies = copies;
            this.archiveCopy = copies.slot();
            this.quotedEtag = quoted(b.manifestDigest());
            this.version = Long.toString(b.version());
            this.disposition = "attachment; filename=\"" + b.name() + "-" + b.version() + ".tar\"";
            this.archiveBytes = b.archive().remaining();
            this.archiveLength = Long.toString(archiveBytes);
        }

        boolean isOf(VerifiedBundle b) {
            return of.get() == b;
        }

        long versionNumber() {
            return versionNumber;
        }

        DirectCopies.Slot archiveCopy() {
            return archiveCopy;
        }

        /** No longer the copy served for its name: its direct copies give their bytes back. */
        void retire() {
            copies.retire();
        }

        String quotedEtag() {
            return quotedEtag;
        }

        String version() {
            return version;
        }

        String disposition() {
            return disposition;
        }

        String archiveLength(long bytes) {
            return bytes == archiveBytes ? archiveLength : Long.toString(bytes);
        }

        /** The file's ETag and length, or null when the manifest lists no such file. */
        ServedFile file(VerifiedBundle b, String path) {
            ServedFile f = files.get(path);
            if (f == null) {
                Optional<FileEntry> entry = b.manifest().file(path);
                if (entry.isEmpty()) {
                    return null; // not cached: a VM could otherwise fill the map with made-up paths
                }
                f = new ServedFile(quoted(entry.get().sha256()), entry.get().size(), Long.toString(entry.get().size()), copies.slot());
                ServedFile raced = files.putIfAbsent(path, f);
                f = raced == null ? f : raced;
            }
            return f;
        }

        String signaturesEtag(byte[] signatures) {
            SignaturesEtag e = signaturesEtag;
            if (e == null || !Arrays.equals(e.signatures(), signatures)) {
                e = new SignaturesEtag(signatures, quoted(Sha256.hex(signatures)));
                signaturesEtag = e;
            }
            return e.quoted();
        }
    }

    private record ServedFile(String quotedEtag, long size, String sizeText, DirectCopies.Slot copy) {
        String length(long bytes) {
            return bytes == size ? sizeText : Long.toString(bytes);
        }
    }

    /** The ETag of one signatures.json (compared by content: its bytes may change when a bundle is signed again, its manifest does not). */
    private record SignaturesEtag(byte[] signatures, String quoted) {}

    /** The route's metrics label, counted with the final status when the exchange completes (long-polls too). */
    private static final class RouteLabel implements io.undertow.server.ExchangeCompletionListener {
        private final NodeMetrics metrics;
        String name = "other";

        RouteLabel(NodeMetrics metrics) {
            this.metrics = metrics;
        }

        @Override
        public void exchangeEvent(HttpServerExchange exchange, NextListener next) {
            metrics.request("vm", name, exchange.getStatusCode());
            next.proceed();
        }
    }

    private record Freshness(ClusterStatus status, long second, String inTouch, String lastContact) {}

    private record ListBody(List<String> names, long[] versions, byte[] json) {
        boolean sameAs(List<String> otherNames, long[] otherVersions) {
            if (!names.equals(otherNames)) {
                return false;
            }
            for (int i = 0; i < versions.length; i++) {
                if (versions[i] != otherVersions[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    private String lastContact(ClusterStatus c) {
        return c.lastContact().or(() -> c.inTouch() ? Optional.of(clock.instant()) : Optional.empty())
                .map(t -> t.truncatedTo(ChronoUnit.SECONDS).toString()).orElse(LastContact.NEVER);
    }

    /**
     * If-None-Match against {@code quotedEtag}: any comma-separated entity tag, weak or strong, or
     * {@code *}. Scanned in place (no split, no substrings): a boot storm sends this on most requests.
     */
    static boolean etagMatches(HttpServerExchange exchange, String quotedEtag) {
        String inm = exchange.getRequestHeaders().getFirst(Headers.IF_NONE_MATCH);
        return inm != null && etagListMatches(inm, quotedEtag);
    }

    static boolean etagListMatches(String inm, String quotedEtag) {
        int i = 0;
        int n = inm.length();
        while (true) {
            int comma = inm.indexOf(',', i);
            int start = i;
            int end = comma < 0 ? n : comma;
            while (start < end && inm.charAt(start) <= ' ') {
                start++;
            }
            while (end > start && inm.charAt(end - 1) <= ' ') {
                end--;
            }
            if (end - start >= 2 && inm.startsWith("W/", start)) {
                start += 2;
            }
            int len = end - start;
            if ((len == 1 && inm.charAt(start) == '*')
                    || (len == quotedEtag.length() && inm.regionMatches(start, quotedEtag, 0, len))) {
                return true;
            }
            if (comma < 0) {
                return false;
            }
            i = comma + 1;
        }
    }

    private static String quoted(String s) {
        return "\"" + s + "\"";
    }

    /** {@code ?wait=S&after=V}: strictly digits; wait capped; other parameters ignored. */
    record Query(Optional<Duration> waitFor, OptionalLong after, Optional<String> problem) {

        static Query parse(String query, Duration cap) {
            Optional<Duration> wait = Optional.empty();
            OptionalLong after = OptionalLong.empty();
            if (query == null || query.isEmpty()) {
                return new Query(wait, after, Optional.empty());
            }
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                String k = eq < 0 ? pair : pair.substring(0, eq);
                String v = eq < 0 ? "" : pair.substring(eq + 1);
                if (!k.equals("wait") && !k.equals("after")) {
                    continue;
                }
                if (k.equals("wait") ? wait.isPresent() : after.isPresent()) {
                    // which one counts would be a guess (caches and proxies disagree on it): refuse instead
                    return new Query(wait, after, Optional.of(k + " given more than once"));
                }
                if (!digits(v)) {
                    return new Query(wait, after, Optional.of(k + " must be a non-negative integer"));
                }
                long n = Long.parseLong(v);
                if (k.equals("wait")) {
                    Duration d = Duration.ofSeconds(Math.min(n, 1_000_000));
                    wait = Optional.of(d.compareTo(cap) > 0 ? cap : d);
                } else {
                    after = OptionalLong.of(n);
                }
            }
            return new Query(wait, after, Optional.empty());
        }

        /** 1 to 18 ASCII digits (so it fits a long): a loop, not {@code String.matches}, which compiles a regex per request. */
        private static boolean digits(String v) {
            if (v.isEmpty() || v.length() > 18) {
                return false;
            }
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c < '0' || c > '9') {
                    return false;
                }
            }
            return true;
        }
    }
}
