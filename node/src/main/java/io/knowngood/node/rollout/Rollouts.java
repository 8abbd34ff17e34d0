package io.knowngood.node.rollout;

import io.knowngood.api.RolloutList;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.rollout.ControlCheck;
import io.knowngood.crypto.rollout.ControlCodec;
import io.knowngood.crypto.rollout.RolloutControl;
import io.knowngood.node.rollout.RolloutRecord.NameVersion;
import io.knowngood.node.rollout.VersionState.Phase;
import io.knowngood.node.store.BundleStore;
import io.knowngood.node.store.StoreObserver;
import io.knowngood.replication.LocalRecords;
import io.knowngood.replication.MeshRecords;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Health-gated rollout on this host: the state of every version that has a rollout policy (or an
 * operator control), this host's VM reports, and what this host serves for each name.
 *
 * <p>Each member keeps one record per version in the mesh records (its view of the state, its wave,
 * its VMs' distinct ok/failed counts, the controls it knows). The state every member computes is the
 * furthest of all views, moved on by the same rules everywhere: reverted once the failed reports of
 * all hosts add up to {@code revert_failed} or a signed abort is known; on to the next wave once the
 * hosts of the waves reached hold {@code promote_ok} ok reports and the wave is {@code
 * promote_after_s} old (not while a signed pause is in effect); good after the last wave or a signed
 * promote. A host acts on its own VMs' reports at once, alone or not.
 *
 * <p>All state changes happen under one lock; what is served is read lock-free from immutable
 * {@link Choice}s recomputed when anything they depend on changes.
 */
public final class Rollouts implements StoreObserver {

    private static final Logger LOG = LoggerFactory.getLogger(Rollouts.class);

    /** Told about reports, refusals and state changes (metrics). */
    public interface Observer {
        default void reportCounted(String result) {}

        default void reportRefused(String reason) {}

        default void controlRejected(String source, String reason) {}

        default void stateChanged(String name, long version, String to) {}
    }

    private final String nodeId;
    private final Map<String, String> hostLabels;
    private final BundleStore store;
    private final TrustedKeys trust;
    private final Clock clock;
    private final RolloutFile file;
    private final ReportRate rate;
    private final List<Observer> observers = new CopyOnWriteArrayList<>();
    private final List<Consumer<String>> servingListeners = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private volatile MeshRecords records;

    // guarded by lock
    private final VmReports reports = new VmReports();
    private final Map<NameVersion, RolloutRecord> own = new HashMap<>();
    private final Map<NameVersion, Map<String, RolloutRecord>> peers = new HashMap<>();
    private final Map<NameVersion, RolloutPolicy> policies = new HashMap<>();
    /** Held versions whose manifest has no policy (so their kept copy is read once). */
    private final Set<NameVersion> withoutPolicy = new HashSet<>();
    private final Map<NameVersion, Controls> controls = new HashMap<>();
    private final Set<String> rejectedWires = new HashSet<>();
    private boolean dirty;
    private long ticks;
    static final int FORGET_EVERY_TICKS = 60;
    static final int RESYNC_EVERY_TICKS = 15;

    /** A choice for the VMs of one set of pools whose shared choice is not for them, and what it was derived from. */
    private record Scoped(long generation, String latestDigest, Choice choice) {}

    static final int MAX_SCOPED_PER_NAME = 256;
    /** name -> VM pools -> its choice (rare: only when versions of one name are for different pools). */
    private final Map<String, Map<Set<String>, Scoped>> scoped = new ConcurrentHashMap<>();
    /** Moves on whenever a version's state or what is held may have changed: scoped choices are then made again. */
    private final AtomicLong generation = new AtomicLong();

    private final Set<String> tracked = ConcurrentHashMap.newKeySet();
    private final Map<String, Choice> choices = new ConcurrentHashMap<>();
    private final Set<String> pendingKeys = ConcurrentHashMap.newKeySet();
    /** Where peers' record changes are taken in (never on the replication thread that reported them). */
    private final java.util.concurrent.Executor drains;
    /** name -> lowest version pruning must keep (read by the store under its own lock: never take ours there). */
    private final Map<String, Long> keepFrom = new ConcurrentHashMap<>();

    public Rollouts(String nodeId, Map<String, String> hostLabels, BundleStore store, TrustedKeys trust, Path dataDir, Clock clock,
                    java.util.concurrent.Executor drains) {
        this.drains = drains;
        this.nodeId = nodeId;
        this.hostLabels = Map.copyOf(hostLabels);
        this.store = store;
        this.trust = trust;
        this.clock = clock;
        this.file = new RolloutFile(dataDir);
        this.rate = new ReportRate(clock, ReportRate.DEFAULT_BURST, ReportRate.DEFAULT_REFILL_MS);
        this.records = new LocalRecords(nodeId);
        load();
        store.retain(this::keepFrom);
        store.addObserver(this);
    }

    public void addObserver(Observer o) {
        observers.add(o);
    }

    /** {@code listener} hears the name whose served version (or state header) may have changed. */
    public void onServingChange(Consumer<String> listener) {
        servingListeners.add(listener);
    }

    /** Starts sharing records through the mesh (until then they are this node's alone). */
    public void attach(MeshRecords meshRecords) {
        synchronized (lock) {
            this.records = meshRecords;
            meshRecords.addListener((key, member) -> {
                if (!member.equals(nodeId) && RolloutRecord.parseKey(key) != null && pendingKeys.add(key)) {
                    drains.execute(this::drain);
                }
            });
            own.forEach((nv, r) -> meshRecords.putOwn(RolloutRecord.key(nv.name(), nv.version()), r.encode()));
            pendingKeys.addAll(meshRecords.snapshot().keySet());
        }
        drain();
    }

    // ---- reads (lock-free) ----

    /**
     * What this host serves for {@code name}, or empty when the store serves nothing for it (unknown,
     * withheld below its floor: the caller answers as before).
     */
    public Optional<Choice> choose(String name) {
        Optional<VerifiedBundle> cur = store.servable(name);
        if (cur.isEmpty()) {
            return Optional.empty();
        }
        VerifiedBundle c = cur.get();
        Choice ch = choices.get(name);
        if (ch != null && ch.latest() == c.version() && ch.latestDigest().equals(c.manifestDigest())) {
            return Optional.of(ch);
        }
        if (c.retired() || (!tracked.contains(name) && c.manifest().rollout().isEmpty())) {
            return Optional.of(Choice.plain(c));
        }
        synchronized (lock) {
            // The store makes a version current before its observers run, and stored() may be waiting
            // for this lock: a policy-bearing version must never be served as plain in that window.
            learn(c);
            return Optional.of(recompute(name));
        }
    }

    /**
     * What a VM in {@code vmPools} gets for {@code name}: empty, like an unknown name, when the store
     * serves nothing for it or the newest version held is not for that VM's pools; otherwise the
     * version the rollout would choose among the versions visible to that VM only.
     */
    public Optional<Choice> choose(String name, Set<String> vmPools) {
        Optional<Choice> everyone = choose(name);
        if (everyone.isEmpty() || !visible(name, vmPools)) {
            return Optional.empty();
        }
        Choice ch = everyone.get();
        // pick() takes the first version (newest first) that passes its rules; if that one is visible to
        // this VM, it is also the first among the visible ones: the shared choice stands
        if (ch.bundle() == null || ch.bundle().manifest().visibleTo(vmPools)) {
            return everyone;
        }
        long gen = generation.get();
        Map<Set<String>, Scoped> forName = scoped.computeIfAbsent(name, k -> new ConcurrentHashMap<>());
        Scoped s = forName.get(vmPools);
        if (s != null && s.generation() == gen && s.latestDigest().equals(ch.latestDigest())) {
            return Optional.of(s.choice());
        }
        Choice mine;
        synchronized (lock) {
            mine = pick(name, ch, b -> b.manifest().visibleTo(vmPools));
        }
        if (forName.size() >= MAX_SCOPED_PER_NAME) {
            forName.clear();
        }
        forName.put(Set.copyOf(vmPools), new Scoped(gen, ch.latestDigest(), mine));
        return Optional.of(mine);
    }

    /**
     * True when {@code name} exists for a VM in {@code vmPools}: the newest version held (served or
     * withheld) is for every VM or for one of those pools. Nothing held: false.
     */
    public boolean visible(String name, Set<String> vmPools) {
        return store.current(name).map(b -> b.manifest().visibleTo(vmPools)).orElse(false);
    }

    /** True if {@code version} of {@code name} is reverted (a VM holding it gets the fallback at once). */
    public boolean reverted(String name, long version) {
        synchronized (lock) {
            VersionState st = merged(new NameVersion(name, version));
            return st != null && st.reverted();
        }
    }

    /** Names whose served version's manifest {@code expires} has passed (still served: expiry is never a hard failure). */
    public List<String> expired() {
        List<String> out = new ArrayList<>();
        for (VerifiedBundle cur : store.servableAll()) {
            choose(cur.name()).map(Choice::bundle).filter(this::expired).ifPresent(b -> out.add(b.name()));
        }
        return out;
    }

    /** True once {@code b}'s manifest {@code expires} has passed. */
    public boolean expired(VerifiedBundle b) {
        return b.manifest().expires().map(e -> !clock.instant().isBefore(e)).orElse(false);
    }

    // ---- events ----

    /** A VM at {@code address}, in no pool, reported on {@code name@version}. */
    public ReportOutcome report(String address, String name, long version, boolean ok, String detail) {
        return report(address, Set.of(), name, version, ok, detail);
    }

    /**
     * A VM at {@code address}, in the pools {@code vmPools}, reported on {@code name@version}. A name or
     * version that is not for those pools is refused as if it were not held (after the same rate check).
     */
    public ReportOutcome report(String address, Set<String> vmPools, String name, long version, boolean ok, String detail) {
        long wait = rate.take(address);
        if (wait > 0) {
            observers.forEach(o -> o.reportRefused("rate"));
            return new ReportOutcome.TooMany(wait);
        }
        NameVersion nv = new NameVersion(name, version);
        String notHeld = name + "@" + version + " is not held here";
        if (!store.keptVersions(name).contains(version) && store.current(name).map(b -> b.version() != version).orElse(true)) {
            if (store.current(name).isPresent() && !visible(name, vmPools)) {
                observers.forEach(o -> o.reportRefused("pools"));
                return new ReportOutcome.Hidden(notHeld);
            }
            observers.forEach(o -> o.reportRefused("unknown_version"));
            return new ReportOutcome.NotHeld(notHeld);
        }
        if (!visible(name, vmPools) || !store.kept(name, version).map(b -> b.manifest().visibleTo(vmPools)).orElse(false)) {
            observers.forEach(o -> o.reportRefused("pools"));
            return new ReportOutcome.Hidden(notHeld);
        }
        synchronized (lock) {
            if (!ok) {
                LOG.info("VM {} reported {}@{} failed: {}", address, name, version, detail == null || detail.isEmpty() ? "(no detail)" : detail);
            }
            VmReports.Outcome out = reports.record(nv, address, new VmReports.Report(ok, clock.millis(), detail == null ? "" : detail));
            if (out == VmReports.Outcome.FULL) {
                observers.forEach(o -> o.reportRefused("full"));
                return new ReportOutcome.TooMany(60);
            }
            tracked.add(name);
            dirty = true;
            observers.forEach(o -> o.reportCounted(ok ? "ok" : "failed"));
            VersionState st = evaluate(nv);
            return new ReportOutcome.Counted(st == null ? Choice.GOOD : st.phase().wire());
        }
    }

    /** version -> rollout state ({@code rolling}, {@code good}, {@code reverted}) of each version of {@code name} with a rollout. */
    public Map<Long, String> states(String name) {
        Map<Long, String> out = new TreeMap<>();
        views(Optional.of(name)).forEach(r -> out.put(r.version(), r.state()));
        return out;
    }

    /** An operator control as received on the admin endpoint (the signed wire document) for {@code name@version}. */
    public ControlOutcome control(byte[] wire, String name, long version) {
        ControlCheck check = ControlCodec.verify(wire, trust);
        if (check instanceof ControlCheck.Invalid bad) {
            observers.forEach(o -> o.controlRejected("admin", "invalid"));
            return new ControlOutcome.Invalid(bad.reason());
        }
        ControlCheck.Valid valid = (ControlCheck.Valid) check;
        if (!valid.control().name().equals(name) || valid.control().version() != version) {
            observers.forEach(o -> o.controlRejected("admin", "wrong_version"));
            return new ControlOutcome.Invalid("the control is for " + valid.control().name() + "@" + valid.control().version()
                    + ", sent for " + name + "@" + version);
        }
        if (!store.keptVersions(name).contains(version)) {
            return new ControlOutcome.NotHeld(name + "@" + version + " is not held here");
        }
        synchronized (lock) {
            NameVersion nv = new NameVersion(name, version);
            VersionState st = merged(nv);
            RolloutControl.Action action = valid.control().action();
            if (st != null && st.reverted() && action != RolloutControl.Action.ABORT) {
                // reverted is final: taking the control would change nothing, and the operator would read
                // "promoted ... now reverted" as a half success. An abort of it again is simply applied.
                observers.forEach(o -> o.controlRejected("admin", "reverted"));
                return new ControlOutcome.Reverted(action.wire(), name + "@" + version + " is reverted (" + st.reason() + "), and reverted is final: a "
                        + action.wire() + " cannot change it; publish a new version, or roll back to a good one (kgctl rollback)");
            }
            controls.put(nv, controls.getOrDefault(nv, Controls.NONE).with(valid));
            tracked.add(name);
            LOG.info("{} {}: control {} issued {} by key {}", name, version, valid.control().action().wire(),
                    valid.control().issued(), valid.keyId());
            evaluate(nv);
            return new ControlOutcome.Applied(name, version, valid.control().action().wire());
        }
    }

    /** Periodic: moves rollouts on by time, takes in peers' records, and saves what changed. */
    public void tick() {
        drain();
        synchronized (lock) {
            if (++ticks % FORGET_EVERY_TICKS == 0) {
                forgetUnkept();
            }
            if (ticks % RESYNC_EVERY_TICKS == 0) {
                // a safety net under the listener: every record known is taken in again now and then
                records.snapshot().keySet().stream().filter(k -> RolloutRecord.parseKey(k) != null).forEach(pendingKeys::add);
            }
            for (NameVersion nv : new ArrayList<>(policies.keySet())) {
                VersionState st = merged(nv);
                if (st == null || st.phase() == Phase.ROLLING) {
                    evaluate(nv);
                }
            }
            saveIfDirty();
        }
    }

    @Override
    public void stored(VerifiedBundle bundle, String source, boolean becameCurrent) {
        generation.incrementAndGet();
        synchronized (lock) {
            NameVersion nv = new NameVersion(bundle.name(), bundle.version());
            bundle.manifest().rollout().ifPresent(p -> {
                policies.put(nv, p);
                tracked.add(bundle.name());
            });
            if (tracked.contains(bundle.name())) {
                evaluate(nv);
                recompute(bundle.name());
            }
        }
    }

    /** Takes in {@code b}'s policy if it has one not known yet (under the lock), as {@link #stored} will. */
    private void learn(VerifiedBundle b) {
        NameVersion nv = new NameVersion(b.name(), b.version());
        if (b.manifest().rollout().isPresent() && !policies.containsKey(nv)) {
            policies.put(nv, b.manifest().rollout().get());
            tracked.add(b.name());
            evaluate(nv);
        }
    }

    /** Takes in peers' records changed since the last drain. */
    void drain() {
        if (pendingKeys.isEmpty()) {
            return;
        }
        // Take the keys before the snapshot: a change that arrives after it adds its key again and
        // schedules another drain (taken after, a change between the two was read stale and lost).
        List<String> keys = new ArrayList<>(pendingKeys);
        pendingKeys.removeAll(keys);
        Map<String, Map<String, byte[]>> snap = records.snapshot();
        synchronized (lock) {
            for (String key : keys) {
                NameVersion nv = RolloutRecord.parseKey(key);
                if (nv == null) {
                    continue;
                }
                Map<String, RolloutRecord> byMember = new HashMap<>();
                for (Map.Entry<String, byte[]> e : snap.getOrDefault(key, Map.of()).entrySet()) {
                    if (e.getKey().equals(nodeId)) {
                        continue;
                    }
                    RolloutRecord.Decoded d = RolloutRecord.decode(e.getValue());
                    if (d instanceof RolloutRecord.Decoded.Bad bad) {
                        rejectOnce("record:" + e.getKey() + ":" + key, e.getKey(), key + ": " + bad.reason());
                        continue;
                    }
                    RolloutRecord r = ((RolloutRecord.Decoded.Ok) d).record();
                    byMember.put(e.getKey(), r);
                    adoptControls(nv, e.getKey(), r);
                }
                peers.put(nv, byMember);
                tracked.add(nv.name());
                evaluate(nv);
                recompute(nv.name());
            }
        }
    }

    /**
     * Forgets versions older than every version of their name kept on disk (pruned, or the name retired
     * and gone): their records here and in the mesh, their reports and policy. Bounds what a long-lived
     * node remembers.
     */
    private void forgetUnkept() {
        Set<NameVersion> all = new HashSet<>(own.keySet());
        all.addAll(policies.keySet());
        all.addAll(withoutPolicy);
        Map<String, Long> lowest = new HashMap<>();
        for (NameVersion nv : all) {
            long low = lowest.computeIfAbsent(nv.name(), n -> store.keptVersions(n).stream().mapToLong(Long::longValue).min().orElse(Long.MAX_VALUE));
            if (nv.version() < low) {
                own.remove(nv);
                policies.remove(nv);
                withoutPolicy.remove(nv);
                controls.remove(nv);
                peers.remove(nv);
                reports.forget(nv);
                records.removeOwn(RolloutRecord.key(nv.name(), nv.version()));
                dirty = true;
            }
        }
    }

    // ---- the rules (under lock) ----

    private VersionState merged(NameVersion nv) {
        RolloutRecord mine = own.get(nv);
        VersionState st = mine == null ? null : mine.state();
        for (RolloutRecord r : peers.getOrDefault(nv, Map.of()).values()) {
            st = VersionState.furthest(st, r.state());
        }
        return st;
    }

    /** Applies the rules to {@code nv} and publishes this host's record if it changed; returns the state. */
    private VersionState evaluate(NameVersion nv) {
        RolloutPolicy policy = policyOf(nv);
        Controls ctl = controls.getOrDefault(nv, Controls.NONE);
        VersionState before = merged(nv);
        long now = clock.millis();
        VersionState st = before;
        if (policy == null && ctl == Controls.NONE && !own.containsKey(nv)) {
            // not held here with a policy, no control received: nothing of ours to say (peers' views are kept)
            return st;
        }
        if (st == null) {
            st = policy == null ? VersionState.good(now, "no rollout policy") : VersionState.rolling(0, now, "held");
        }
        VmReports.Counts mine = myCounts(nv);
        for (int step = 0; step <= RolloutPolicy.MAX_WAVES + 1 && !st.reverted(); step++) {
            VersionState next = next(nv, st, policy, ctl, now);
            if (next == st) {
                break;
            }
            st = next;
        }
        RolloutRecord previous = own.get(nv);
        int hostWave = policy != null ? Waves.firstWave(policy, nodeId, hostLabels, nv.name(), nv.version())
                : previous != null ? previous.hostWave() : 0; // 0 only for a version without a policy (good or reverted)
        int waves = Math.max(policy != null ? policy.waveCount() : previous != null ? previous.waves() : 1,
                Math.max(st.wave(), hostWave) + 1);
        Choice ch = choices.get(nv.name());
        long serving = ch == null ? store.current(nv.name()).map(VerifiedBundle::version).orElse(0L) : ch.servedVersion();
        RolloutRecord updated = new RolloutRecord(st, hostWave, waves, mine.ok(), mine.failed(), serving, ctl.wires());
        RolloutRecord old = previous;
        if (!updated.equals(old)) {
            generation.incrementAndGet();
            own.put(nv, updated);
            dirty = true;
            records.putOwn(RolloutRecord.key(nv.name(), nv.version()), updated.encode());
            if (old == null || old.state().phase() != st.phase() || old.state().wave() != st.wave()) {
                String to = st.phase() == Phase.ROLLING ? "rolling wave " + st.wave() : st.phase().wire();
                LOG.info("{}: {} ({})", nv, to, st.reason());
                VersionState fin = st;
                observers.forEach(o -> o.stateChanged(nv.name(), nv.version(), fin.phase().wire()));
                if (st.phase() != Phase.ROLLING) {
                    saveIfDirty(); // reverted and good are final: durable before anyone acts on them
                }
                recompute(nv.name());
            }
        }
        return st;
    }

    /** One step of the rules from {@code st}, or {@code st} itself when nothing moves. */
    private VersionState next(NameVersion nv, VersionState st, RolloutPolicy policy, Controls ctl, long now) {
        int reached = st.phase() == Phase.GOOD ? (policy == null ? 0 : policy.waveCount() - 1) : st.wave();
        if (ctl.abort() != null) {
            return VersionState.reverted(reached, now, "aborted by key " + shortKey(ctl.abort().keyId()));
        }
        int failed = totalFailed(nv);
        if (policy != null && failed >= policy.revertFailed()) {
            return VersionState.reverted(reached, now, failed + " VMs reported failed (revert_failed " + policy.revertFailed() + ")");
        }
        if (st.phase() == Phase.GOOD) {
            return st;
        }
        if (ctl.promote() != null) {
            return VersionState.good(now, "promoted by key " + shortKey(ctl.promote().keyId()));
        }
        if (policy == null || ctl.paused()) {
            return st;
        }
        int ok = okInWaves(nv, st.wave());
        if (ok < policy.promoteOk() || now - st.sinceMs() < policy.promoteAfterSeconds() * 1000) {
            return st;
        }
        String why = ok + " ok reports in waves 0.." + st.wave() + " (promote_ok " + policy.promoteOk() + ")";
        return st.wave() + 1 >= policy.waveCount() ? VersionState.good(now, why) : VersionState.rolling(st.wave() + 1, now, why);
    }

    private int totalFailed(NameVersion nv) {
        int sum = myCounts(nv).failed();
        for (RolloutRecord r : peers.getOrDefault(nv, Map.of()).values()) {
            sum += r.failed();
        }
        return sum;
    }

    private int okInWaves(NameVersion nv, int wave) {
        RolloutPolicy policy = policyOf(nv);
        int sum = policy != null && Waves.firstWave(policy, nodeId, hostLabels, nv.name(), nv.version()) <= wave ? myCounts(nv).ok() : 0;
        for (RolloutRecord r : peers.getOrDefault(nv, Map.of()).values()) {
            if (r.hostWave() <= wave) {
                sum += r.ok();
            }
        }
        return sum;
    }

    private VmReports.Counts myCounts(NameVersion nv) {
        VmReports.Counts c = reports.counts(nv);
        RolloutRecord mine = own.get(nv);
        if (c.ok() + c.failed() == 0 && mine != null) {
            return new VmReports.Counts(mine.ok(), mine.failed()); // reports of a finished version are not kept across restarts
        }
        return c;
    }

    /**
     * The policy signed into {@code nv}'s manifest, or null (none, or the version is not held here). An
     * older version's (after a restart only the current ones are in memory) is read from its kept copy
     * once: a host must never guess its wave.
     */
    private RolloutPolicy policyOf(NameVersion nv) {
        RolloutPolicy p = policies.get(nv);
        if (p != null || withoutPolicy.contains(nv)) {
            return p;
        }
        Optional<VerifiedBundle> cur = store.current(nv.name());
        Optional<VerifiedBundle> b = cur.isPresent() && cur.get().version() == nv.version() ? cur
                : store.keptVersions(nv.name()).contains(nv.version()) ? store.kept(nv.name(), nv.version()) : Optional.empty();
        if (b.isEmpty()) {
            return null; // not held (yet): asked again once it is
        }
        p = b.get().manifest().rollout().orElse(null);
        if (p != null) {
            policies.put(nv, p);
        } else if (withoutPolicy.size() < 10_000) {
            withoutPolicy.add(nv);
        }
        return p;
    }

    /** This host's wave for {@code nv}; unknown (no policy, no record of ours): none reached, never served as rolling. */
    private int hostWave(NameVersion nv) {
        RolloutPolicy p = policyOf(nv);
        if (p != null) {
            return Waves.firstWave(p, nodeId, hostLabels, nv.name(), nv.version());
        }
        RolloutRecord mine = own.get(nv);
        return mine == null ? Integer.MAX_VALUE : mine.hostWave();
    }

    private void adoptControls(NameVersion nv, String member, RolloutRecord r) {
        for (String b64 : r.controls()) {
            byte[] wire = java.util.Base64.getDecoder().decode(b64);
            ControlCheck check = ControlCodec.verify(wire, trust);
            if (check instanceof ControlCheck.Valid v && v.control().name().equals(nv.name()) && v.control().version() == nv.version()) {
                controls.put(nv, controls.getOrDefault(nv, Controls.NONE).with(v));
            } else {
                String reason = check instanceof ControlCheck.Invalid bad ? bad.reason() : "control is for another version";
                rejectOnce("control:" + member + ":" + io.knowngood.crypto.bundle.Sha256.hex(wire), member, nv + ": " + reason);
            }
        }
    }

    private void rejectOnce(String id, String member, String why) {
        if (rejectedWires.size() < 10_000 && rejectedWires.add(id)) {
            LOG.warn("ignoring a rollout record from member {}: {}", member, why);
            observers.forEach(o -> o.controlRejected("peer", id.startsWith("control:") ? "invalid_control" : "invalid_record"));
        }
    }

    // ---- serving (under lock) ----

    private Choice recompute(String name) {
        generation.incrementAndGet();
        Optional<VerifiedBundle> cur = store.servable(name);
        if (cur.isEmpty()) {
            choices.remove(name);
            return null;
        }
        VerifiedBundle c = cur.get();
        Choice chosen = c.retired() ? Choice.plain(c) : pick(name, c);
        keepFrom.put(name, lowestToKeep(name, chosen));
        Choice before = choices.put(name, chosen);
        if (before == null || before.servedVersion() != chosen.servedVersion() || !before.state().equals(chosen.state())) {
            tellServing(name, chosen.servedVersion());
            if (before != null || !chosen.state().equals(Choice.GOOD) || chosen.servedVersion() != c.version()) {
                LOG.info("{}: serving {} ({}; latest {})", name, chosen.bundle() == null ? "nothing" : chosen.servedVersion(),
                        chosen.state(), c.version());
            }
            servingListeners.forEach(l -> l.accept(name));
        }
        return chosen;
    }

    /**
     * This host's records of {@code name} say which version it serves for the name; when that changes
     * they are written again. The record a state change writes carries the choice made before it (a
     * version reverted while served kept saying it was served here, in every member's rollout status).
     */
    private void tellServing(String name, long serving) {
        // the keys first: a put may run listeners that change the records before it returns
        List<NameVersion> stale = own.entrySet().stream()
                .filter(e -> e.getKey().name().equals(name) && e.getValue().serving() != serving).map(Map.Entry::getKey).toList();
        for (NameVersion nv : stale) {
            RolloutRecord r = own.get(nv);
            if (r == null || r.serving() == serving) {
                continue;
            }
            RolloutRecord updated = r.withServing(serving);
            own.put(nv, updated);
            dirty = true;
            records.putOwn(RolloutRecord.key(name, nv.version()), updated.encode());
        }
    }

    /** The highest version good or reaching this host; else the highest not reverted; never a reverted one. */
    private Choice pick(String name, VerifiedBundle cur) {
        return pick(name, cur.version(), cur.manifestDigest(), b -> true);
    }

    /** {@link #pick(String, VerifiedBundle)} again, among the versions {@code candidate} accepts only. */
    private Choice pick(String name, Choice everyone, Predicate<VerifiedBundle> candidate) {
        return pick(name, everyone.latest(), everyone.latestDigest(), candidate);
    }

    private Choice pick(String name, long curVersion, String curDigest, Predicate<VerifiedBundle> candidate) {
        List<Long> versions = new ArrayList<>(store.keptVersions(name));
        versions.removeIf(v -> v > curVersion);
        if (!versions.contains(curVersion)) {
            versions.add(0, curVersion);
        }
        for (int pass = 0; pass < 2; pass++) {
            for (long v : versions) {
                NameVersion nv = new NameVersion(name, v);
                VersionState st = stateForServing(nv);
                if (st.reverted() || (pass == 0 && !st.reaches(hostWave(nv)))) {
                    continue;
                }
                Optional<VerifiedBundle> b = store.kept(name, v);
                if (b.isPresent() && candidate.test(b.get())) {
                    String header = v != curVersion ? Choice.FALLBACK : st.phase() == Phase.GOOD ? Choice.GOOD : Choice.ROLLING;
                    return new Choice(b.get(), header, curVersion, curDigest);
                }
            }
        }
        return new Choice(null, Choice.FALLBACK, curVersion, curDigest);
    }

    /**
     * What pruning keeps when {@code incoming} is stored (called by the store under its own lock, so it
     * never takes ours): from the version served here or the highest good one, whichever is lower; for a
     * name no rollout concerned yet, a version with a policy keeps the current (good) one beside it.
     */
    private long keepFrom(String name, VerifiedBundle incoming) {
        Long k = keepFrom.get(name);
        if (k != null) {
            return k;
        }
        return incoming.manifest().rollout().isPresent() ? store.current(name).map(VerifiedBundle::version).orElse(0L) : 0L;
    }

    /** Pruning keeps every version from the one served here and the highest good one, whichever is lower. */
    private long lowestToKeep(String name, Choice chosen) {
        long keep = chosen.servedVersion();
        for (long v : store.keptVersions(name)) {
            if (v <= chosen.latest() && stateForServing(new NameVersion(name, v)).phase() == Phase.GOOD) {
                return keep == 0 ? v : Math.min(keep, v);
            }
        }
        return keep;
    }

    private VersionState stateForServing(NameVersion nv) {
        VersionState st = merged(nv);
        if (st != null) {
            return st;
        }
        return policyOf(nv) != null ? VersionState.rolling(0, clock.millis(), "held") : VersionState.good(0, "no rollout policy");
    }

    // ---- views ----

    /** For admin {@code GET /v1/rollouts}: every version with a policy, a control or a record, newest first per name. */
    public List<RolloutList.Rollout> views(Optional<String> name) {
        synchronized (lock) {
            Set<NameVersion> all = new HashSet<>(own.keySet());
            all.addAll(peers.keySet());
            List<RolloutList.Rollout> out = new ArrayList<>();
            for (NameVersion nv : all) {
                VersionState st = merged(nv);
                if (st == null || (name.isPresent() && !name.get().equals(nv.name()))) {
                    continue;
                }
                RolloutPolicy p = policyOf(nv);
                RolloutRecord mine = own.get(nv);
                List<RolloutList.Host> hosts = new ArrayList<>();
                int ok = 0;
                int failed = 0;
                if (mine != null) {
                    VmReports.Counts c = myCounts(nv);
                    hosts.add(new RolloutList.Host(nodeId, hostWave(nv), c.ok(), c.failed(), mine.serving()));
                }
                peers.getOrDefault(nv, Map.of()).forEach((m, r) -> hosts.add(new RolloutList.Host(m, r.hostWave(), r.ok(), r.failed(), r.serving())));
                hosts.sort(Comparator.comparing(RolloutList.Host::host));
                for (RolloutList.Host h : hosts) {
                    ok += h.ok();
                    failed += h.failed();
                }
                int waves = p != null ? p.waveCount() : mine != null ? mine.waves() : 1;
                Choice ch = choices.get(nv.name());
                Boolean expired = store.kept(nv.name(), nv.version())
                        .map(b -> b.manifest().expires().map(e -> e.isBefore(clock.instant())).orElse(false)).orElse(null);
                int wave = st.phase() == Phase.GOOD ? waves - 1 : Math.min(st.wave(), waves - 1); // good: every wave reached
                out.add(new RolloutList.Rollout(nv.name(), nv.version(), st.phase().wire(), wave, waves,
                        Instant.ofEpochMilli(st.sinceMs()), st.reason(), controls.getOrDefault(nv, Controls.NONE).paused(),
                        p == null ? 0 : p.promoteOk(), p == null ? 0 : p.promoteAfterSeconds(), p == null ? 0 : p.revertFailed(),
                        ok, failed, hosts, ch == null ? null : ch.servedVersion(), expired));
            }
            out.sort(Comparator.comparing(RolloutList.Rollout::name)
                    .thenComparing(RolloutList.Rollout::version, Comparator.reverseOrder()));
            return out;
        }
    }

    // ---- persistence ----

    private void load() {
        RolloutFile.Read r = file.read();
        if (r instanceof RolloutFile.Read.Unusable u) {
            LOG.error("rollout memory not loaded, starting without it: {}", u.reason());
            return;
        }
        RolloutFile.Contents c = ((RolloutFile.Read.Ok) r).contents();
        own.putAll(c.own());
        c.reports().forEach((nv, vms) -> vms.forEach((addr, rep) -> reports.record(nv, addr, rep)));
        own.keySet().forEach(nv -> tracked.add(nv.name()));
        c.own().forEach((nv, rec) -> rec.controls().forEach(b64 -> {
            ControlCheck check = ControlCodec.verify(java.util.Base64.getDecoder().decode(b64), trust);
            if (check instanceof ControlCheck.Valid v) {
                controls.put(nv, controls.getOrDefault(nv, Controls.NONE).with(v));
            }
        }));
        for (VerifiedBundle b : store.currentAll()) {
            b.manifest().rollout().ifPresent(p -> {
                policies.put(new NameVersion(b.name(), b.version()), p);
                tracked.add(b.name());
            });
        }
        for (String name : tracked) {
            recompute(name);
        }
    }

    private void saveIfDirty() {
        if (!dirty) {
            return;
        }
        Map<NameVersion, Map<String, VmReports.Report>> rolling = new HashMap<>();
        reports.all().forEach((nv, vms) -> {
            RolloutRecord mine = own.get(nv);
            if (mine == null || mine.state().phase() == Phase.ROLLING) {
                rolling.put(nv, vms);
            }
        });
        try {
            file.write(own, rolling);
            dirty = false;
        } catch (IOException e) {
            LOG.error("cannot save rollout memory to {}: {} (kept in memory, retried)", file.path(), e.getMessage());
        }
    }

    private static String shortKey(String keyId) {
        return keyId.length() > 16 ? keyId.substring(0, 16) : keyId;
    }

    /** What a report came to. */
    public sealed interface ReportOutcome {
        record Counted(String state) implements ReportOutcome {}

        record NotHeld(String detail) implements ReportOutcome {}

        /** The name or version is not for that VM's pools: answered exactly as {@link NotHeld}, counted apart. */
        record Hidden(String detail) implements ReportOutcome {}

        record TooMany(long retryAfterSeconds) implements ReportOutcome {}
    }

    /** What a control came to. */
    public sealed interface ControlOutcome {
        /** {@code action}: the control's wire name (pause, resume, abort, promote). */
        record Applied(String name, long version, String action) implements ControlOutcome {}

        record Invalid(String reason) implements ControlOutcome {}

        record NotHeld(String detail) implements ControlOutcome {}

        /** A pause, resume or promote for a version already reverted (final); nothing was changed. */
        record Reverted(String action, String detail) implements ControlOutcome {}
    }
}
