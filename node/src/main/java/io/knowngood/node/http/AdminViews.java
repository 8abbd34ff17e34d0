package io.knowngood.node.http;

import io.knowngood.api.AdminHealth;
import io.knowngood.api.BehindFloor;
import io.knowngood.api.BundleHistory;
import io.knowngood.api.ClusterView;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.HeaderNames;
import io.knowngood.api.LastContact;
import io.knowngood.api.MeshBundleList;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.node.cluster.ClusterLink;
import io.knowngood.node.cluster.ClusterStatus;
import io.knowngood.node.cluster.TrustedKeysRecord;
import io.knowngood.node.pools.PoolMap;
import io.knowngood.node.store.BundleStore;
import io.knowngood.node.store.HistoryEntry;
import io.knowngood.node.store.StoreHealth;
import io.knowngood.replication.MeshStats;
import io.knowngood.replication.Revocations;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The admin endpoint's read-only views, built as the api's records: cluster, health, the mesh's
 * bundle list, one name's history, and the exact manifest bytes of the version held (which is what
 * {@code kgctl seed} compares a folder with).
 */
final class AdminViews {

    private static final HttpString VERSION = new HttpString(HeaderNames.VERSION);

    private final BundleStore store;
    private final ClusterLink cluster;
    private final Clock clock;
    private final Supplier<List<String>> expired;
    /** name -> version -> rollout state, for the versions with a rollout. */
    private final java.util.function.Function<String, Map<Long, String>> rolloutStates;
    /** The key ids of the publisher keys this node trusts, sorted (as its mesh record holds them). */
    private final List<String> trustedKeys;
    /** The node's pools as admin health shows them: name -> canonical prefixes. */
    private final Map<String, List<String>> pools;

    AdminViews(BundleStore store, ClusterLink cluster, Clock clock, Supplier<List<String>> expired,
               java.util.function.Function<String, Map<Long, String>> rolloutStates, PoolMap pools, List<String> trustedKeys) {
        this.trustedKeys = List.copyOf(trustedKeys);
        Map<String, List<String>> shown = new TreeMap<>();
        pools.pools().forEach((name, prefixes) -> shown.put(name, prefixes.stream().map(Object::toString).toList()));
        this.pools = shown;
        this.expired = expired;
        this.rolloutStates = rolloutStates;
        this.store = store;
        this.cluster = cluster;
        this.clock = clock;
    }

    ClusterView cluster() {
        ClusterStatus c = cluster.status();
        Map<String, Map<String, ClusterLink.Held>> digests = cluster.memberDigests();
        Optional<Revocations.Status> revocationList = cluster.meshStats().flatMap(MeshStats::revocationList);
        Map<String, BigInteger> listNumbers = revocationList.map(Revocations.Status::members).orElse(Map.of());
        Map<String, List<String>> trusted = TrustedKeysRecord.members(cluster.records());
        List<ClusterView.Member> members = new ArrayList<>();
        for (ClusterStatus.Member m : c.members()) {
            Map<String, ClusterView.Held> held = new TreeMap<>();
            digests.getOrDefault(m.id(), Map.of()).forEach((name, h) -> held.put(name, new ClusterView.Held(h.version(), h.manifestDigest())));
            BigInteger listNumber = listNumbers.get(m.id());
            members.add(new ClusterView.Member(m.id(), m.address(), m.self(), held, m.silent(), listNumber == null ? null : listNumber.longValue(),
                    m.self() ? trustedKeys : trusted.get(m.id())));
        }
        List<ClusterView.Site> sites = c.sites().stream()
                .map(s -> new ClusterView.Site(s.name(), s.online(), LastContact.format(s.lastContact()), s.offlineBackups())).toList();
        ClusterView.RevocationList revocations = revocationList.map(r -> new ClusterView.RevocationList(
                r.number() == null ? 0 : r.number().longValue(), r.revoked(), r.thisUpdate() == null ? null : r.thisUpdate().toString(),
                r.problem())).orElse(null);
        return new ClusterView(c.selfId(), c.state(), c.coordinator().orElse(null), c.partitioned(), c.inTouch(),
                LastContact.format(c.lastContact()), members, expired.get(), c.site().orElse(null), sites, revocations, trustedKeys);
    }

    AdminHealth health() {
        StoreHealth s = store.health();
        return new AdminHealth(s.servingAllHeld(), s.bundles(), s.errors(), behindFloor(s), s.recentProblems(), cluster(),
                clock.instant(), pools);
    }

    static List<BehindFloor> behindFloor(StoreHealth s) {
        return s.behindFloor().stream().map(b -> new BehindFloor(b.name(), b.held(), b.floor(), b.serving(), b.cause())).toList();
    }

    MeshBundleList bundles() {
        Map<String, Map<String, ClusterLink.Held>> digests = cluster.memberDigests();
        Set<String> names = new TreeSet<>();
        store.currentAll().forEach(b -> names.add(b.name()));
        digests.values().forEach(m -> names.addAll(m.keySet()));
        List<MeshBundleList.Entry> out = new ArrayList<>();
        for (String name : names) {
            Map<String, Long> members = new TreeMap<>();
            digests.forEach((member, held) -> {
                ClusterLink.Held h = held.get(name);
                if (h != null) {
                    members.put(member, h.version());
                }
            });
            OptionalLong f = store.floor(name);
            Long floor = f.isPresent() ? f.getAsLong() : null;
            Optional<VerifiedBundle> here = store.current(name);
            out.add(here.isPresent()
                    ? MeshBundleList.Entry.held(name, here.get().version(), here.get().manifestDigest(), here.get().retired(),
                            store.withheld(name), here.get().manifest().created(), floor, members)
                    : MeshBundleList.Entry.membersOnly(name, floor, members));
        }
        return new MeshBundleList(out);
    }

    /** {@code name} is valid (the caller checked). */
    void history(HttpServerExchange exchange, String name) {
        List<HistoryEntry> entries;
        try {
            entries = store.history(name);
        } catch (IOException e) {
            JsonResponses.error(exchange, 503, ErrorCode.STORE_UNAVAILABLE, e.getMessage());
            return;
        }
        OptionalLong floor = store.floor(name);
        if (entries.isEmpty() && floor.isEmpty()) {
            noneKept(exchange, name);
            return;
        }
        List<BundleHistory.Version> versions = new ArrayList<>();
        Map<Long, String> rollout = rolloutStates.apply(name);
        for (HistoryEntry h : entries) {
            versions.add(new BundleHistory.Version(h.version(), h.state(), h.digest().orElse(null), h.sizeBytes(), h.storedAt(),
                    rollout.get(h.version())));
        }
        JsonResponses.send(exchange, 200, new BundleHistory(name, floor.isPresent() ? floor.getAsLong() : null, versions));
    }

    /**
     * The exact signed manifest bytes ({@code manifest}) or signatures.json bytes of the version held
     * here, whatever its state (retired or withheld too: the manifest says which version it is and
     * whether it is a tombstone; the signatures say which publisher keys signed it).
     */
    void signedJson(HttpServerExchange exchange, String name, boolean manifest) {
        Optional<VerifiedBundle> held = store.current(name);
        if (held.isEmpty()) {
            JsonResponses.error(exchange, 404, ErrorCode.NO_SUCH_BUNDLE, "this node holds no bundle named " + name);
            return;
        }
        VerifiedBundle b = held.get();
        byte[] body = manifest ? b.manifestBytes() : b.signaturesBytes();
        exchange.setStatusCode(200);
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
        exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
        exchange.getResponseHeaders().put(Headers.ETAG, "\"" + b.manifestDigest() + "\"");
        exchange.getResponseHeaders().put(VERSION, b.version());
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, body.length);
        exchange.getResponseSender().send(ByteBuffer.wrap(body));
    }

    /** 404 for a name of which this node keeps no version (its history, or one kept version asked for). */
    static void noneKept(HttpServerExchange exchange, String name) {
        JsonResponses.error(exchange, 404, ErrorCode.NO_SUCH_BUNDLE, "no versions of " + name + " are kept here");
    }
}
