package io.knowngood.node.http;

import io.knowngood.api.AuditList;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.Explain;
import io.knowngood.api.Explain.Dependency;
import io.knowngood.api.LastContact;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.node.cluster.ClusterLink;
import io.knowngood.node.cluster.ClusterStatus;
import io.knowngood.node.cluster.MeshLink;
import io.knowngood.node.cluster.PeerClocks;
import io.knowngood.node.config.ClusterTlsDir;
import io.knowngood.node.config.IpEndpoint;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.pools.PoolMap;
import io.knowngood.node.rollout.Choice;
import io.knowngood.node.rollout.Rollouts;
import io.knowngood.node.store.BundleStore;
import io.knowngood.node.store.StoreHealth;
import io.knowngood.replication.IdClashes;
import io.knowngood.replication.IpText;
import io.knowngood.replication.MeshConfig;
import io.knowngood.replication.RememberedPeers;
import io.knowngood.replication.TlsRefusals;
import io.undertow.server.HttpServerExchange;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Admin {@code GET /v1/explain/{name}?vm=IP}: what a VM at that source address gets for a name and
 * why (decided by {@link VmAnswer}, the VM endpoint's own decision), then every dependency of that
 * answer with ok, warn, down or n/a. Thresholds are named here and in docs/kgnode.md.
 */
public final class ExplainView {

    /** A last publish older than this is a warning: a central server that publishes daily has been quiet a week. */
    static final Duration PUBLISH_QUIET = Duration.ofDays(7);
    /** Certificates expiring sooner than this are a warning (the start-up check warns at the same point). */
    static final Duration CERT_WARNING = Duration.ofDays(30);
    /** Clock skew above this against a peer is a warning (rollout waves and expiry are decided on wall-clock time). */
    static final Duration SKEW_WARNING = Duration.ofSeconds(2);
    /** Free space on the data dir's file system below this share of it, or below {@link #DISK_LOW_BYTES}, is a warning. */
    static final double DISK_LOW_SHARE = 0.05;
    static final long DISK_LOW_BYTES = 100L * 1024 * 1024;
    /** Below this the disk is down: no new version fits (what is held is served from memory all the same). */
    static final long DISK_FULL_BYTES = 1024 * 1024;

    private static final Pattern IPV4 = Pattern.compile("^\\d{1,3}(\\.\\d{1,3}){3}$");
    private static final Pattern IPV6 = Pattern.compile("^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$");

    /** Where this node's own parts are, as configured (all empty: only what the store and mesh say is checked). */
    public record Setup(String nodeId, List<String> configuredPeers, Optional<Path> dataDir, Optional<Path> clusterTlsDir,
                        Optional<Path> adminTlsDir) {
        public Setup {
            configuredPeers = List.copyOf(configuredPeers);
        }

        public static Setup of(NodeConfig config) {
            return new Setup(config.nodeId(), config.standalone() ? List.of() : config.peers().stream().map(Object::toString).toList(),
                    Optional.of(config.dataDir()), config.clusterTlsDir(), config.adminTlsDir());
        }
    }

    private final BundleStore store;
    private final Rollouts rollouts;
    private final ClusterLink cluster;
    private final PoolMap pools;
    private final AuditLog audit;
    private final PeerClocks clocks;
    private final Clock clock;
    private final Setup setup;

    public ExplainView(Setup setup, BundleStore store, Rollouts rollouts, ClusterLink cluster, PoolMap pools, AuditLog audit,
                       PeerClocks clocks, Clock clock) {
        this.setup = setup;
        this.store = store;
        this.rollouts = rollouts;
        this.cluster = cluster;
        this.pools = pools;
        this.audit = audit;
        this.clocks = clocks;
        this.clock = clock;
    }

    void handle(HttpServerExchange exchange, String name) {
        if (!BundleName.isValid(name)) {
            JsonResponses.error(exchange, 400, ErrorCode.BAD_NAME, "bundle names match " + BundleName.RULE);
            return;
        }
        SingleParameter vmParameter = SingleParameter.of(exchange, "vm");
        if (vmParameter.refuseRepeated(exchange)) {
            return;
        }
        String vm = vmParameter.value().orElse(null);
        Optional<InetAddress> address = Optional.empty();
        if (vm != null) {
            address = ipLiteral(vm);
            if (address.isEmpty()) {
                JsonResponses.error(exchange, 400, ErrorCode.BAD_QUERY, "vm must be an IP address like 192.168.10.7 or fd00:10::7 (no host names), got "
                        + (vm.length() > 64 ? vm.substring(0, 64) + "..." : vm));
                return;
            }
        }
        JsonResponses.send(exchange, 200, explain(name, address));
    }

    /**
     * Each other site: ok while its site master was heard from lately, else down (this site serves on its own
     * meanwhile); a warning while it answers but this node's backup of a cache to it is held offline.
     */
    static void sites(ClusterStatus status, List<Dependency> deps) {
        if (status.site().isEmpty()) {
            deps.add(new Dependency("site", "-", Explain.NOT_APPLICABLE, "no sites: this node's mesh is one site"));
            return;
        }
        for (ClusterStatus.Site s : status.sites()) {
            String last = s.lastContact().map(Object::toString).orElse("never");
            if (!s.online()) {
                deps.add(new Dependency("site", s.name(), Explain.DOWN, "not heard from lately (last " + last + "): site "
                        + status.site().get() + " serves and accepts publishes on its own"));
            } else if (s.offlineBackups().isEmpty()) {
                deps.add(new Dependency("site", s.name(), Explain.OK, "bridged from site " + status.site().get() + ", last heard " + last));
            } else {
                deps.add(new Dependency("site", s.name(), Explain.WARN, "bridged from site " + status.site().get() + ", last heard " + last
                        + ", but this node's backup of " + String.join(" and ", s.offlineBackups()) + " to it is held offline:"
                        + " what is written meanwhile does not go there until it is brought online (within 30 s;"
                        + " bundles are then repaired by cross-site anti-entropy, records sent whole)"));
            }
        }
    }

    /** What a VM at {@code vm} (empty: a VM in no pool) gets for {@code name} now, and every dependency. */
    public Explain explain(String name, Optional<InetAddress> vm) {
        Set<String> vmPools = vm.map(pools::poolsOf).orElse(Set.of());
        ClusterStatus status = cluster.status();
        clocks.observe(status);
        Explain.Vm answer = vmAnswer(name, vmPools, status);
        List<Dependency> deps = new ArrayList<>();
        Map<String, PeerClocks.Skew> samples = clocks.skews();
        peers(status, clocks.lastHeard(), deps);
        idClashes(deps);
        sites(status, deps);
        lastPublish(deps);
        storeHealth(name, deps);
        disk(deps);
        certificate("mesh", setup.clusterTlsDir().map(d -> ClusterTlsDir.check(d, setup.dataDir().map(data -> data.resolve(MeshLink.MESH_CRL_FILE)), setup.nodeId(), clock)),
                "the mesh runs in plaintext (no --cluster-tls-dir)", deps);
        certificate("admin", setup.adminTlsDir().map(d -> ClusterTlsDir.check(d, setup.nodeId(), clock, "--admin-tls-dir")),
                "the admin endpoint runs plain HTTP (no --admin-tls-dir)", deps);
        clockSkew(status, samples, deps);
        deps.add(new Dependency("dns", "-", Explain.OK, "not needed: this node never resolves a name (peers, binds and pools are IP addresses)"));
        return new Explain(setup.nodeId(), name, vm.map(IpText::of).orElse(null), List.copyOf(vmPools), answer, deps,
                clock.instant());
    }

    private Explain.Vm vmAnswer(String name, Set<String> vmPools, ClusterStatus status) {
        VmAnswer a = VmAnswer.of(store, rollouts, name, vmPools);
        boolean inTouch = status.inTouch();
        String lastContact = LastContact.format(status.lastContact().map(t -> t.truncatedTo(ChronoUnit.SECONDS))
                .or(() -> inTouch ? Optional.of(clock.instant().truncatedTo(ChronoUnit.SECONDS)) : Optional.empty()));
        String who = vmPools.isEmpty() ? "a VM in no pool" : "a VM in pools " + String.join(", ", vmPools);
        if (a instanceof VmAnswer.Served served) {
            Choice ch = served.choice();
            VerifiedBundle b = ch.bundle();
            boolean expired = rollouts.expired(b);
            String expires = b.manifest().expires().map(Instant::toString).orElse(null);
            String why = who + " gets version " + b.version() + " (" + ch.state() + ")" + stateReason(ch)
                    + "; a verified copy: signatures and digests were checked when it was stored and when it was read from disk"
                    + (expired ? "; it expired at " + expires + " and is still served (expiry is a warning, never a hard failure)" : "");
            return new Explain.Vm(Explain.Vm.SERVED, true, why, b.version(), b.manifestDigest(), ch.state(), ch.latest(), expires, expired,
                    inTouch, lastContact);
        }
        String outcome;
        String why;
        Long latest = store.current(name).map(VerifiedBundle::version).orElse(null);
        if (a instanceof VmAnswer.Hidden h) {
            List<String> forPools = store.current(name).map(b -> b.manifest().pools()).orElse(List.of());
            outcome = Explain.Vm.HIDDEN_BY_POOLS;
            why = "hidden by pools: the newest version held (" + h.newest() + ") is for pools " + String.join(", ", forPools) + " and "
                    + who + " is not in any of them; the VM is answered 404 no_such_bundle, exactly as for a name not held";
        } else if (a instanceof VmAnswer.AllReverted r) {
            outcome = Explain.Vm.ALL_REVERTED;
            why = "every version of " + name + " this VM could get was reverted by its rollout (latest " + r.latest() + "); the VM gets 404 all_reverted";
        } else if (a instanceof VmAnswer.Withheld w) {
            outcome = Explain.Vm.BEHIND_FLOOR;
            why = "withheld below the rollback floor: the copy held is older than version " + w.floor()
                    + " accepted before; the VM gets 503 behind_floor until a peer supplies it";
        } else if (a instanceof VmAnswer.Retired r) {
            outcome = Explain.Vm.RETIRED;
            why = name + " was withdrawn (retired) at version " + r.version() + "; the VM gets 404 retired";
        } else {
            outcome = Explain.Vm.NO_SUCH_BUNDLE;
            why = "this node holds no bundle named " + name + " (never published here and never received from a peer); the VM gets 404";
        }
        return new Explain.Vm(outcome, false, why, null, null, null, latest, null, false, inTouch, lastContact);
    }

    private static String stateReason(Choice ch) {
        switch (ch.state()) {
            case Choice.ROLLING:
                return ", in a rollout that has reached this host's wave";
            case Choice.FALLBACK:
                return ", the fallback: the newer version " + ch.latest() + " is rolling and has not reached this host's wave, or was reverted";
            default:
                return ch.latest() == ch.bundle().version() ? "" : ", while the newest held is " + ch.latest();
        }
    }

    // ---- dependencies ----

    /** "; mesh TLS handshake failed 12 s ago: ..." for a peer address (IP:PORT) whose host failed one, else "". */
    private static String refusedNote(List<TlsRefusals.Refusal> refusals, String peer, Instant now) {
        String host = ipOf(peer);
        return refusals.stream().filter(r -> r.address().equals(host)).findFirst()
                .map(r -> "; mesh TLS handshake with " + host + " failed " + ago(r.at(), now) + " (" + r.kind().wire() + "): " + r.reason())
                .orElse("");
    }

    private void peers(ClusterStatus status, Map<String, Instant> heard, List<Dependency> deps) {
        Instant now = clock.instant();
        Map<String, String> inView = new LinkedHashMap<>();
        status.members().stream().filter(m -> !m.self()).forEach(m -> {
            inView.put(m.id(), m.address());
            String clockNote = Optional.ofNullable(heard.get(m.id())).map(t -> "; last clock record " + ago(t, now)).orElse("");
            if (m.silent()) {
                deps.add(new Dependency("peer", m.id(), Explain.DOWN, "in view at " + m.address() + " but silent: nothing heard "
                        + "from it within the failure timeout (cut off from this node; it stays in this node's view while the "
                        + "member that would exclude it still hears it)" + clockNote));
            } else {
                deps.add(new Dependency("peer", m.id(), Explain.OK, "in view at " + m.address()
                        + (status.partitioned() ? " (this node's view is partitioned: part of the mesh is cut off)" : "") + clockNote));
            }
        });
        Map<String, String> known = clocks.addresses();
        List<String> named = new ArrayList<>(inView.values());
        List<TlsRefusals.Refusal> refusals = cluster.tlsRefusals();
        known.forEach((id, addr) -> {
            if (!inView.containsKey(id)) {
                named.add(addr);
                Instant t = heard.get(id);
                deps.add(new Dependency("peer", id, Explain.DOWN, "not in view (was at " + addr + "); last clock record from it "
                        + (t == null ? "none since this node started" : ago(t, now) + " at " + t.truncatedTo(ChronoUnit.SECONDS))
                        + refusedNote(refusals, addr, now)));
            }
        });
        Map<String, String> expected = new LinkedHashMap<>(); // address -> where it comes from
        setup.configuredPeers().forEach(p -> expected.putIfAbsent(p, "a --peers address"));
        Map<String, Optional<Instant>> remembered = setup.dataDir().map(d -> remembered(d.resolve(MeshLink.MESH_PEERS_FILE)))
                .orElse(Map.of());
        remembered.forEach((p, seen) -> expected.putIfAbsent(p, "an address remembered from an earlier view"
                + seen.map(t -> " (last in one " + ago(t, now) + ", at " + t + ")").orElse("")));
        Set<String> done = new java.util.HashSet<>(named);
        expected.forEach((addr, from) -> {
            if (done.add(addr) && !addr.equals(selfAddress(status))) {
                // an address only remembered is a discovery hint: a host retired or moved stays there for a while
                boolean hintOnly = !setup.configuredPeers().contains(addr);
                deps.add(new Dependency("peer", addr, hintOnly ? Explain.WARN : Explain.DOWN, "not in view: " + from
                        + (LEFT_THE_MESH.equals(status.state()) ? ", and this node has left the mesh (the id row says why)"
                                : ", not seen in a view since this node started")
                        + (hintOnly ? "; a discovery hint only: a host retired or given another address is forgotten "
                                + MeshConfig.PEERS_REMEMBERED_FOR.toDays() + " days after it was last in a view" : "")
                        + refusedNote(refusals, addr, now)));
            }
        });
        if (deps.stream().noneMatch(d -> d.kind().equals("peer"))) {
            deps.add(new Dependency("peer", "-", Explain.NOT_APPLICABLE, "no peers configured or seen: a mesh of one (" + status.state() + ")"));
        }
        // a host this node does not count as a peer whose handshake failed lately: most often a new host
        // with a certificate from another CA, which names this node in its --peers
        Set<String> peerIps = new java.util.HashSet<>();
        named.forEach(a -> peerIps.add(ipOf(a)));
        expected.keySet().forEach(a -> peerIps.add(ipOf(a)));
        for (TlsRefusals.Refusal r : refusals) {
            if (!peerIps.contains(r.address()) && r.at().isAfter(now.minus(RECENT_REFUSAL))) {
                deps.add(new Dependency("tls", r.address(), Explain.WARN, "mesh TLS handshake with " + r.address() + " failed "
                        + ago(r.at(), now) + " (" + r.kind().wire() + "): " + r.reason()));
            }
        }
    }

    /**
     * A member seen with this node's id at another address: DOWN once this node has left the mesh for one that
     * joined first; WARN for a recent one (the later of the two leaves the mesh, docs/replication.md).
     */
    private void idClashes(List<Dependency> deps) {
        Instant now = clock.instant();
        for (IdClashes.Clash c : cluster.idClashes()) {
            idRow(setup.nodeId(), c, now).ifPresent(deps::add);
        }
    }

    /** The {@code id} row for one clash: none once a clash this node stayed through is older than {@link #RECENT_REFUSAL}. */
    static Optional<Dependency> idRow(String id, IdClashes.Clash c, Instant now) {
        // another site's host is never in this node's view: it "came first" (its mesh was made first), it did not join first
        String where = c.site().isEmpty() ? "the member at " + c.address() : "the host at " + c.address() + " in site " + c.site();
        String first = c.site().isEmpty() ? "joined first" : "came first";
        if (c.left()) {
            return Optional.of(new Dependency("id", id, Explain.DOWN, "this node left the mesh " + ago(c.at(), now) + ": " + where
                    + " has the same node id and " + first + " (two hosts with one id overwrite each other's rollout "
                    + "records). It serves what it holds and takes publishes on its own until it is restarted with an id of its "
                    + "own (--node-id, or node-id in its config)"));
        }
        if (!c.at().isAfter(now.minus(RECENT_REFUSAL))) {
            return Optional.empty();
        }
        if (c.earlier()) {
            return Optional.of(new Dependency("id", id, Explain.WARN, where + " has this node's id too and " + first + " ("
                    + ago(c.at(), now) + "): this node leaves the mesh unless it goes. Give each host its own --node-id"));
        }
        return Optional.of(new Dependency("id", id, Explain.WARN, (c.site().isEmpty()
                ? "a member at " + c.address() + " joined with this node's id "
                : where + " has this node's id, seen ") + ago(c.at(), now)
                + ": as the later one it leaves the mesh. Give that host its own --node-id (node-id in its config)"));
    }

    /** The cluster state of a node that left the mesh for another host with its id (replication's MeshState). */
    static final String LEFT_THE_MESH = "DUPLICATE_ID";

    /** How long a failed handshake with a host that is not a peer, or a member seen with this node's id, stays in explain. */
    static final Duration RECENT_REFUSAL = Duration.ofMinutes(10);

    /** The IP of {@code IP:PORT} or {@code [IPv6]:PORT}, as {@link TlsRefusals} names addresses ({@link IpText}); else the text. */
    private static String ipOf(String address) {
        try {
            return IpText.of(IpEndpoint.parse(address).address());
        } catch (IllegalArgumentException notIpAndPort) {
            return address;
        }
    }

    private static String selfAddress(ClusterStatus status) {
        return status.members().stream().filter(ClusterStatus.Member::self).map(ClusterStatus.Member::address).findFirst().orElse("");
    }

    /** The addresses in the mesh-peers file as discovery reads them (IP:PORT), with when each was last in a view. */
    private static Map<String, Optional<Instant>> remembered(Path file) {
        Map<String, Optional<Instant>> out = new LinkedHashMap<>();
        RememberedPeers.inFile(file).forEach((a, seen) -> out.put(new IpEndpoint(a.getAddress(), a.getPort()).toString(), seen));
        return out;
    }

    private void lastPublish(List<Dependency> deps) {
        Instant now = clock.instant();
        List<AuditList.Entry> entries = audit.newest(AuditList.MAX_LIMIT);
        for (int i = entries.size() - 1; i >= 0; i--) {
            AuditList.Entry e = entries.get(i);
            if (e.action().equals("publish") && e.outcome().equals("created")) {
                Instant at;
                try {
                    at = Instant.parse(e.time());
                } catch (DateTimeParseException bad) {
                    continue;
                }
                boolean quiet = Duration.between(at, now).compareTo(PUBLISH_QUIET) > 0;
                deps.add(new Dependency("publish", e.token(), quiet ? Explain.WARN : Explain.OK, "last publish here " + ago(at, now) + " at " + e.time()
                        + ": " + e.name() + "@" + e.version() + " by token " + e.token() + " from " + e.source()
                        + (quiet ? " (quieter than " + PUBLISH_QUIET.toDays() + " days; VMs keep getting what is held)" : "")));
                return;
            }
        }
        deps.add(new Dependency("publish", "-", Explain.WARN, "no publish recorded in this node's audit log (copies published "
                + "to other nodes arrive through the mesh and are not recorded here); VMs keep getting what is held"));
    }

    private void storeHealth(String name, List<Dependency> deps) {
        StoreHealth s = store.health();
        List<String> problems = new ArrayList<>();
        if (s.errors() > 0) {
            problems.add(s.errors() + " store errors since start" + (s.recentProblems().isEmpty() ? ""
                    : " (latest: " + s.recentProblems().get(s.recentProblems().size() - 1) + ")"));
        }
        s.behindFloor().forEach(b -> problems.add(b.name() + " held at " + b.held() + " below its floor " + b.floor()
                + (b.serving() ? " (served as last-known-good" + (b.cause().equals(io.knowngood.api.BehindFloor.NOT_LOADABLE)
                ? ": version " + b.floor() + " is on disk, but signed only by a publisher key this node no longer trusts, or over its limits)"
                : ")") : " (withheld)")));
        boolean withheldHere = s.behindFloor().stream().anyMatch(b -> b.name().equals(name) && !b.serving());
        String status = problems.isEmpty() ? Explain.OK : withheldHere ? Explain.DOWN : Explain.WARN;
        deps.add(new Dependency("store", "bundles", status, problems.isEmpty()
                ? "names served from verified copies: " + s.bundles() + "; no store errors since start" : String.join("; ", problems)));
    }

    private void disk(List<Dependency> deps) {
        if (setup.dataDir().isEmpty()) {
            deps.add(new Dependency("disk", "-", Explain.NOT_APPLICABLE, "no data dir"));
            return;
        }
        // the versions are written under bundles/ (which may be a file system of its own); else the data dir itself
        Path dir = Files.isDirectory(setup.dataDir().get().resolve("bundles")) ? setup.dataDir().get().resolve("bundles") : setup.dataDir().get();
        try {
            FileStore fs = Files.getFileStore(dir);
            long free = fs.getUsableSpace();
            long total = fs.getTotalSpace();
            boolean low = free < DISK_LOW_BYTES || total > 0 && free < total * DISK_LOW_SHARE;
            String detail = mib(free) + " free of " + mib(total) + " on the store's file system (" + dir + ")";
            boolean full = free < DISK_FULL_BYTES;
            deps.add(new Dependency("disk", dir.toString(), full ? Explain.DOWN : low ? Explain.WARN : Explain.OK, full
                    ? detail + ": full; new versions cannot be stored, what is held is served from memory"
                    : low ? detail + ": low (warned below " + mib(DISK_LOW_BYTES) + " or " + Math.round(DISK_LOW_SHARE * 100) + "%)" : detail));
        } catch (IOException e) {
            deps.add(new Dependency("disk", dir.toString(), Explain.DOWN, "cannot read the data dir's file system: " + e.getMessage()));
        }
    }

    /** One TLS directory, checked as at start ({@code checked} empty without the flag). */
    private void certificate(String which, Optional<ClusterTlsDir.Check> checked, String none, List<Dependency> deps) {
        if (checked.isEmpty()) {
            deps.add(new Dependency("certificate", which, Explain.NOT_APPLICABLE, none));
            return;
        }
        Instant now = clock.instant();
        ClusterTlsDir.Check check = checked.get();
        if (check instanceof ClusterTlsDir.Usable u) {
            boolean soon = Duration.between(now, u.notAfter()).compareTo(CERT_WARNING) < 0;
            deps.add(new Dependency("certificate", which, soon ? Explain.WARN : Explain.OK, u.subject() + " expires " + u.notAfter()
                    + " (in " + Duration.between(now, u.notAfter()).toDays() + " days" + (soon ? ", less than " + CERT_WARNING.toDays() : "") + ")"
                    + u.revocations().map(r -> "; revocation list " + r).orElse("")));
        } else {
            deps.add(new Dependency("certificate", which, Explain.DOWN, ((ClusterTlsDir.Unusable) check).problem()));
        }
    }

    private void clockSkew(ClusterStatus status, Map<String, PeerClocks.Skew> samples, List<Dependency> deps) {
        Instant now = clock.instant();
        List<ClusterStatus.Member> peers = status.members().stream().filter(m -> !m.self()).toList();
        for (ClusterStatus.Member m : peers) {
            PeerClocks.Skew s = samples.get(m.id());
            if (s == null) {
                deps.add(new Dependency("clock", m.id(), Explain.NOT_APPLICABLE, "no round trip of clock records with it yet (one every "
                        + PeerClocks.WRITE_EVERY.toSeconds() + " s each way)"));
                continue;
            }
            Duration skew = s.skew();
            Duration within = s.delay().dividedBy(2);
            // warned only when the skew is above the limit whatever the measuring error
            boolean far = skew.abs().minus(within).compareTo(SKEW_WARNING) > 0;
            deps.add(new Dependency("clock", m.id(), far ? Explain.WARN : Explain.OK, "skew " + millis(skew) + " +/- " + millis(within)
                    + (skew.isNegative() ? " (its clock is ahead)" : skew.isZero() ? "" : " (its clock is behind)")
                    + ": the round trip of clock records with the least delay of its last " + s.samples() + ", last " + ago(s.lastReceived(), now)
                    + (far ? "; above " + SKEW_WARNING.toSeconds() + " s" : "")));
        }
        if (peers.isEmpty()) {
            deps.add(new Dependency("clock", "-", Explain.NOT_APPLICABLE, "no peer in view to compare with"));
        }
    }

    // ---- formatting ----

    private static String ago(Instant then, Instant now) {
        long s = Math.max(0, Duration.between(then, now).toSeconds());
        if (s < 120) {
            return s + " s ago";
        }
        if (s < 7200) {
            return s / 60 + " min ago";
        }
        if (s < 172_800) {
            return s / 3600 + " h ago";
        }
        return s / 86_400 + " days ago";
    }

    private static String millis(Duration d) {
        return d.toMillis() + " ms";
    }

    private static String mib(long bytes) {
        return bytes / (1024 * 1024) + " MiB";
    }

    /** An IP literal (IPv4-mapped IPv6 as IPv4, zone dropped), never looked up in DNS; empty for anything else. */
    static Optional<InetAddress> ipLiteral(String text) {
        String t = text.trim();
        int zone = t.indexOf('%');
        if (zone >= 0) {
            t = t.substring(0, zone);
        }
        if (t.length() > 45 || !(IPV4.matcher(t).matches() || IPV6.matcher(t).matches())) {
            return Optional.empty();
        }
        if (IPV4.matcher(t).matches() && java.util.Arrays.stream(t.split("\\.")).anyMatch(o -> Integer.parseInt(o) > 255)) {
            return Optional.empty(); // not a literal: getByName would ask a resolver
        }
        try {
            return Optional.of(InetAddress.getByName(t)); // a literal: no resolver is asked
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }
}
