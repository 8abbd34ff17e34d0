package io.knowngood.node.store;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The node's last-known-good store on local disk. Every accepted bundle is written atomically as
 * {@code <data-dir>/bundles/<name>/<version>.tar} (the exact signed archive), the newest {@code
 * keep} versions per name are kept, and the highest version ever accepted per name is kept durably
 * in a separate floor file ({@link FloorFile}). On load every served copy is verified again; a
 * damaged copy is moved to {@code <data-dir>/quarantine/}, reported, and the next older valid
 * version is served until a fresh copy arrives. A periodic {@link #scrub()} re-verifies every copy
 * and repairs the served one from memory.
 *
 * <p>Reads are lock-free over an immutable view; writes are serialised. This is the node's
 * implementation of the replication contract's {@code LocalBundles} (see {@code
 * io.knowngood.node.cluster}).
 *
 * <p>It keeps what is held in memory and the floors, and leaves each concern to one package-private
 * collaborator: {@link BundleFiles} (layout and durable writes), {@link ServePolicy} (what may be
 * served), {@link Admission} (what may be held), {@link CopyCheck} (load and scrub) and
 * {@link ProblemLog} (what went wrong).
 */
public final class BundleStore {

    private static final Logger LOG = LoggerFactory.getLogger(BundleStore.class);
    /** Sources starting with this are peers (the mesh); only they may win a same-version tie. */
    public static final String PEER = "peer:";

    private final int keep;
    private final List<StoreObserver> observers = new CopyOnWriteArrayList<>();
    private final ProblemLog problems;
    private final BundleFiles files;
    private final FloorFile floorFile;
    private final ServePolicy policy;
    private final Admission admission = new Admission();
    private final CopyCheck copies;

    private final Map<String, VerifiedBundle> current = new ConcurrentHashMap<>();
    /** name -> one older verified copy in memory: the version a rollout serves instead of the current one. */
    private final Map<String, VerifiedBundle> older = new ConcurrentHashMap<>();
    private volatile Retention retention = (name, incoming) -> 0;
    private final Map<String, FloorFile.Entry> floors = new ConcurrentHashMap<>();
    private final Object writeLock = new Object();

    private BundleStore(Path dataDir, Path floorPath, BundleVerifier verifier, int keep, Clock clock, Duration fallbackDelay) {
        this.keep = keep;
        this.problems = new ProblemLog(clock, observers);
        this.files = new BundleFiles(dataDir, clock, problems);
        this.floorFile = new FloorFile(floorPath);
        this.policy = new ServePolicy(clock, fallbackDelay);
        this.copies = new CopyCheck(files, verifier, policy, problems);
    }

    /**
     * Opens (creating if needed) the store and loads the newest valid copy of every name.
     * Observers given here also hear about problems found while loading.
     */
    public static BundleStore open(Path dataDir, Path floorPath, BundleVerifier verifier, int keep, Clock clock,
                                   List<StoreObserver> observers) throws IOException {
        return open(dataDir, floorPath, verifier, keep, clock, Duration.ZERO, observers);
    }

    /**
     * As above; {@code fallbackDelay} is how long, after a damaged newest copy is found (or after
     * start), the name stays unserved while peers get the chance to supply that version again before
     * the previous version is served. Zero (no peers to wait for): fall back at once.
     */
    public static BundleStore open(Path dataDir, Path floorPath, BundleVerifier verifier, int keep, Clock clock,
                                   Duration fallbackDelay, List<StoreObserver> observers) throws IOException {
        BundleStore store = new BundleStore(dataDir, floorPath, verifier, keep, clock, fallbackDelay);
        store.observers.addAll(observers);
        store.load();
        return store;
    }

    /**
     * Caps the archive bytes held in memory (every served version is kept in memory, once): a bundle
     * that would take the total past {@code bytes} is refused as {@link StoreOutcome.OverBudget}
     * instead of running the node out of heap. Copies already on disk are always loaded.
     */
    public void limitHeldBytes(long bytes) {
        admission.limit(bytes);
    }

    /** The held-bytes budget in effect (0: no limit). */
    public long heldBudget() {
        return admission.budget();
    }

    /** Archive bytes of every version kept in memory (current ones, and older ones a rollout serves). */
    public long heldBytes() {
        long sum = 0;
        for (VerifiedBundle b : current.values()) {
            sum += b.archiveSize();
        }
        for (VerifiedBundle b : older.values()) {
            sum += b.archiveSize();
        }
        return sum;
    }

    /** Which older versions pruning must keep beyond the newest {@code keep} (see {@link #retain}). */
    @FunctionalInterface
    public interface Retention {
        /**
         * Every version of {@code name} at or above the returned one is kept when {@code incoming} is stored
         * (asked before it becomes current); 0: none beyond the newest {@code keep}.
         */
        long keepFrom(String name, VerifiedBundle incoming);
    }

    /** Sets what pruning keeps beyond the newest {@code keep} versions (the rollouts' known-good copies). */
    public void retain(Retention retention) {
        this.retention = retention;
    }

    /** Version numbers of {@code name} kept on disk, newest first. */
    public List<Long> keptVersions(String name) {
        return files.versions(name);
    }

    /**
     * Version {@code version} of {@code name} as kept here: the current copy, or the copy on disk verified
     * again (one older copy per name stays in memory, the one a rollout serves instead of the current).
     * A damaged copy is quarantined and reported: empty.
     */
    public Optional<VerifiedBundle> kept(String name, long version) {
        VerifiedBundle cur = current.get(name);
        if (cur != null && cur.version() == version) {
            return Optional.of(cur);
        }
        VerifiedBundle old = older.get(name);
        if (old != null && old.version() == version) {
            return Optional.of(old);
        }
        if (cur == null || version > cur.version()) {
            return Optional.empty();
        }
        Optional<VerifiedBundle> copy;
        synchronized (writeLock) {
            copy = copies.verifiedCopy(name, version);
        }
        copy.ifPresent(b -> older.put(name, b));
        return copy;
    }

    public void addObserver(StoreObserver observer) {
        observers.add(observer);
    }

    // ---- reads (lock-free) ----

    /** The version served for {@code name}, if any (may be a retired tombstone). */
    public Optional<VerifiedBundle> current(String name) {
        return Optional.ofNullable(current.get(name));
    }

    /** Every served version, sorted by name (retired ones included). */
    public List<VerifiedBundle> currentAll() {
        List<VerifiedBundle> all = new ArrayList<>(current.values());
        all.sort(Comparator.comparing(VerifiedBundle::name));
        return all;
    }

    /**
     * The version served to VMs: the current one, unless it is below the floor while the floor's own
     * copy was never found damaged here (the data dir was restored from an older backup, or lost its
     * newest files): then nothing is served for that name until a peer supplies the floor version.
     * A copy found damaged is the one case where the previous version is served (last-known-good
     * fallback), once peers have had {@code fallbackDelay} to supply it again.
     */
    public Optional<VerifiedBundle> servable(String name) {
        VerifiedBundle cur = current.get(name);
        return cur == null || withheld(cur) ? Optional.empty() : Optional.of(cur);
    }

    /** True if {@code name} is held but withheld from VMs (below its floor, see {@link #servable}). */
    public boolean withheld(String name) {
        VerifiedBundle cur = current.get(name);
        return cur != null && withheld(cur);
    }

    /** Every servable version, sorted by name (retired ones included). */
    public List<VerifiedBundle> servableAll() {
        List<VerifiedBundle> all = currentAll();
        all.removeIf(this::withheld);
        return all;
    }

    /**
     * A copy below its floor is withheld only while it is still the current one: {@link #admit} makes a
     * new version current before it raises the floor, so a floor seen above a copy that is no longer
     * current belongs to a store in progress (the copy was current a moment ago), not to a lost copy.
     */
    private boolean withheld(VerifiedBundle cur) {
        return policy.withheld(cur, floors.get(cur.name())) && current.get(cur.name()) == cur;
    }

    /** The highest version of {@code name} ever accepted here, surviving restarts and data-dir restores. */
    public OptionalLong floor(String name) {
        FloorFile.Entry e = floors.get(name);
        return e == null ? OptionalLong.empty() : OptionalLong.of(e.version());
    }

    /** Versions of {@code name} kept on disk, newest first. */
    public List<HistoryEntry> history(String name) throws IOException {
        VerifiedBundle cur = current.get(name);
        return files.history(name, cur == null ? 0 : cur.version());
    }

    public StoreHealth health() {
        List<StoreHealth.BehindFloor> behind = new ArrayList<>();
        for (Map.Entry<String, FloorFile.Entry> f : new TreeMap<>(floors).entrySet()) {
            VerifiedBundle cur = current.get(f.getKey());
            long held = cur == null ? 0 : cur.version();
            if (held < f.getValue().version()) {
                String name = f.getKey();
                long floor = f.getValue().version();
                String cause = policy.unloadableAt(name, floor) ? io.knowngood.api.BehindFloor.NOT_LOADABLE
                        : policy.foundDamaged(name, floor) ? io.knowngood.api.BehindFloor.DAMAGED : io.knowngood.api.BehindFloor.MISSING;
                behind.add(new StoreHealth.BehindFloor(name, held, floor, cur != null && !withheld(cur), cause));
            }
        }
        int servable = (int) current.values().stream().filter(b -> !b.retired() && !withheld(b)).count();
        return new StoreHealth(servable, problems.count(), problems.recent(), behind);
    }

    // ---- writes ----

    /**
     * Stores an already verified bundle if it is above the durable floor. The floor's own version
     * is admitted again only with the recorded digest (a lost copy coming back from a peer), or,
     * from a peer ({@code source} starting with {@link #PEER}), with a lower manifest digest: a
     * same-version tie, whose deterministic winner then replaces the held copy on disk and the
     * floor's digest, is logged once and reported to observers ({@link StoreObserver#tieReplaced}).
     * Observers are told after the write is durable.
     */
    public StoreOutcome admit(VerifiedBundle bundle, String source) throws IOException {
        return admit(bundle, source, () -> { });
    }

    /**
     * As {@link #admit(VerifiedBundle, String)}, running {@code admitted} once, and only if, the bundle
     * was admitted and its bytes are in the file system: for a new version before they are durable, so
     * the caller can send the bundle to its peers while the disk syncs (a full disk has failed the write
     * by then, and {@code admitted} is never run); for a copy replaced in place (a tie), once durable.
     * The version is served, and the result returned, only once durable; if the sync then fails this
     * throws as before, {@code admitted} having run. A failure of {@code admitted} itself is logged and
     * does not stop the write. It runs under the store's write lock: it must hand work off, not wait.
     */
    public StoreOutcome admit(VerifiedBundle bundle, String source, Runnable admitted) throws IOException {
        Runnable once = () -> {
            try {
                admitted.run();
            } catch (RuntimeException e) {
                LOG.warn("admitted {} from {}, but what was to follow failed: {}", bundle, source, e.toString());
            }
        };
        StoreOutcome outcome;
        VerifiedBundle tieLoser;
        long t0 = System.nanoTime();
        long durable;
        synchronized (writeLock) {
            String name = bundle.name();
            VerifiedBundle cur = current.get(name);
            FloorFile.Entry floor = floors.get(name);
            Optional<StoreOutcome> refusal = admission.refusal(bundle, cur, floor, heldBytes(), source.startsWith(PEER));
            if (refusal.isPresent()) {
                return refused(bundle, source, refusal.get());
            }
            long keepFrom = retention.keepFrom(name, bundle);
            // Admission let a same-version bundle through: it won a tie (lower manifest digest).
            tieLoser = cur != null && cur.version() == bundle.version() ? cur : null;
            boolean raiseFloor = floor == null || bundle.version() > floor.version()
                    || (bundle.version() == floor.version() && !floor.digest().equals(bundle.manifestDigest()));
            FloorFile.Entry raised = new FloorFile.Entry(bundle.version(), bundle.manifestDigest());
            boolean floorAfter = false;
            if (tieLoser != null || Files.exists(files.fileFor(name, bundle.version()))) {
                try {
                    files.replace(name, bundle.version(), bundle.archive());
                } catch (IOException e) {
                    problems.record("write_failed", "cannot write " + name + "@" + bundle.version() + ": " + e.getMessage());
                    throw e;
                }
                once.run();
                floorAfter = raiseFloor;
            } else {
                // the usual case, a new version: its copy and record, then the floor, with one wait for the disk per step
                Optional<AtomicFile.Content> newFloor = Optional.empty();
                if (raiseFloor) {
                    Map<String, FloorFile.Entry> next = new HashMap<>(floors);
                    next.put(name, raised);
                    newFloor = Optional.of(floorFile.content(next));
                }
                try {
                    files.writeNew(name, bundle.version(), bundle.archive(), newFloor, once);
                } catch (IOException e) {
                    problems.record("write_failed", "cannot write " + name + "@" + bundle.version()
                            + (raiseFloor ? " and the floor file " + floorFile.path() : "") + ": " + e.getMessage());
                    throw e;
                }
            }
            files.verified(name, bundle.version(), bundle.manifestDigest());
            // current first, then the floor: a reader never sees the new floor with the old copy (withheld, a 503)
            current.put(name, bundle);
            if (raiseFloor) {
                floors.put(name, raised);
            }
            if (floorAfter) {
                writeFloor();
            }
            durable = System.nanoTime();
            files.prune(name, keep, bundle.version(), keepFrom);
            outcome = new StoreOutcome.Stored(bundle, true);
        }
        if (tieLoser != null) {
            LOG.info("tie at {} version {}: replaced manifest {} with {} from {} (the lower digest wins)",
                    bundle.name(), bundle.version(), tieLoser.manifestDigest(), bundle.manifestDigest(), source);
        } else {
            // a copy from a peer at debug: the mesh's ingest logs each one on a line of its own, with this write's time in it
            LOG.atLevel(source.startsWith(PEER) ? Level.DEBUG : Level.INFO)
                    .log("stored {} from {} (durable in {} ms)", bundle, source, ms(durable - t0));
        }
        long told = System.nanoTime();
        for (StoreObserver o : observers) {
            o.stored(bundle, source, true);
            if (tieLoser != null) {
                o.tieReplaced(bundle, tieLoser.manifestDigest(), source);
            }
        }
        LOG.debug("told observers of {} in {} ms", bundle, ms(System.nanoTime() - told));
        return outcome;
    }

    /** Milliseconds to one decimal, as {@code %.1f} prints them, without a {@code Formatter} on the store's path. */
    private static double ms(long nanos) {
        return Math.round(nanos / 1e5) / 10.0;
    }

    private StoreOutcome refused(VerifiedBundle bundle, String source, StoreOutcome why) {
        if (why instanceof StoreOutcome.Refused r) {
            LOG.info("refused {} from {}: {}", bundle, source, r.rollback().detail());
            for (StoreObserver o : observers) {
                o.refused(bundle, source, r.rollback());
            }
        } else if (why instanceof StoreOutcome.OverBudget over) {
            problems.record("over_budget", "not holding " + bundle.name() + "@" + bundle.version() + " from " + source + ": " + over.detail());
        }
        return why;
    }

    /**
     * Re-reads and re-verifies every copy on disk. A damaged copy of the served version is rewritten
     * from the verified bytes in memory; any other damaged copy is quarantined. Returns the number of
     * damaged copies found.
     */
    public int scrub() {
        return copies.scrub((name, v, problem) -> {
            synchronized (writeLock) {
                VerifiedBundle cur = current.get(name);
                problems.record("damaged_copy", "damaged copy of " + name + "@" + v + " on disk: " + problem.code());
                if (cur != null && cur.version() == v) {
                    try {
                        files.write(name, v, cur.archive());
                        LOG.warn("repaired {}@{} on disk from the verified copy in memory", name, v);
                    } catch (IOException e) {
                        problems.record("write_failed", "cannot repair " + name + "@" + v + ": " + e.getMessage());
                    }
                } else {
                    copies.quarantine(name, v);
                }
            }
        });
    }

    // ---- loading ----

    private void load() throws IOException {
        files.createDirectories();
        copies.recallDamage();
        FloorFile.Read floorRead = floorFile.read();
        floorRead.problem().ifPresent(p -> problems.record("floor_damaged", p));
        floors.putAll(floorRead.entries());
        for (String name : files.names()) {
            copies.newestValid(name).ifPresent(b -> current.put(name, b));
        }
        boolean raised = false;
        for (VerifiedBundle b : current.values()) {
            FloorFile.Entry f = floors.get(b.name());
            if (f == null || b.version() > f.version()) {
                floors.put(b.name(), new FloorFile.Entry(b.version(), b.manifestDigest()));
                raised = true;
            }
        }
        if (raised || floorRead.problem().isPresent()) {
            writeFloor();
        }
        LOG.info("store loaded: {} bundles from {}, floor {}", current.size(), files.bundlesDir(), floorFile.path());
        StoreHealth h = health();
        for (StoreHealth.BehindFloor b : h.behindFloor()) {
            if (b.cause().equals(io.knowngood.api.BehindFloor.NOT_LOADABLE)) {
                LOG.warn("{}: version {} is on disk but cannot be loaded with this configuration (signed only by a publisher key"
                        + " no longer trusted, or over the limits); {}; rollback protection still takes only versions above {}", b.name(),
                        b.floor(), b.held() > 0 ? "serving version " + b.held() + ", the newest it can load" : "no copy it can load", b.floor());
            } else if (b.serving()) {
                LOG.warn("{}: version {} was found damaged; serving version {} until a peer supplies it again", b.name(), b.floor(), b.held());
            } else if (b.cause().equals(io.knowngood.api.BehindFloor.DAMAGED)) {
                LOG.warn("{}: version {} was found damaged; waiting up to {} for a peer to supply it before serving version {}",
                        b.name(), b.floor(), policy.fallbackDelay(), b.held());
            } else {
                LOG.warn("{}: holding version {} but version {} was accepted before (data dir restored from an older copy?);"
                        + " not serving it until a peer supplies version {}", b.name(), b.held(), b.floor(), b.floor());
            }
        }
    }

    private void writeFloor() throws IOException {
        try {
            floorFile.write(new HashMap<>(floors));
        } catch (IOException e) {
            problems.record("write_failed", "cannot write floor file " + floorFile.path() + ": " + e.getMessage());
            throw e;
        }
    }
}
