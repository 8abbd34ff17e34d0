package io.knowngood.replication;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.fork.ForkChannel;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Application-level anti-entropy, the mechanism that guarantees convergence. On every view change
 * and periodically (with jitter) each member multicasts a digest of its store (name -> version and
 * manifest digest). A member that sees a higher version elsewhere pulls that archive from the
 * member that has it; the archive is verified like anything else that arrives ({@link Ingest}).
 * After a store, a member multicasts a one-entry "have", which is how {@link Mesh#publish} counts
 * holders. A have for a version this member does not hold is given {@link #HAVE_GRACE} for the
 * replicated put to arrive, then that version is pulled from the members that announced it, one at
 * a time (see docs/replication.md: a put held up by Infinispan's topology wait otherwise waited for
 * the next round). Pending announced versions are capped per member and in total: a member can
 * multicast haves faster than anyone can pull. Runs on a FORK channel of the cluster channel, so it
 * shares its TLS transport and views.
 */
final class AntiEntropy implements Receiver, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AntiEntropy.class);
  private static final int MAX_REFUSED = 10_000;
  /** How long an announced version may take to arrive by replication before it is pulled. */
  static final Duration HAVE_GRACE = Duration.ofSeconds(1);
  /** How long a pull may go unanswered before the name is asked for again (from another announcer if any). */
  static final Duration PULL_RETRY = Duration.ofMillis(1500);
  /** Pulls per announced version (rotating over its announcers) before it is left to the digest rounds. */
  static final int MAX_PULL_ATTEMPTS = 3;
  /** Members remembered per announced version, to retry from. */
  static final int MAX_ANNOUNCERS = 4;
  /** Announced versions awaited at once, in total and created by one member; beyond, haves are dropped and counted. */
  static final int MAX_AWAITED = 2048;
  static final int MAX_AWAITED_PER_MEMBER = 256;
  /** Counted in {@link MeshStats#rejected()} for each have dropped because of the caps. */
  static final String HAVE_OVER_LIMIT = "have_over_limit";

  private final String nodeId;
  private final JChannel main;
  private final LocalBundles local;
  private final Ingest ingest;
  private final Counters counters;
  private final MeshConfig.Timings timings;
  private final Consumer<View> onView;
  private final Runnable onDigest;
  private final ScheduledExecutorService thread;
  /** Latest digest per member, updated by digests and haves. */
  private final Map<Address, Map<String, VersionStamp>> digests = new ConcurrentHashMap<>();
  /** name -> version pulled and the time (nanos) after which we may ask again. */
  private final Map<String, long[]> inflight = new HashMap<>();
  /** name -> a newer version announced by haves and not held yet (anti-entropy thread only). */
  private final Map<String, Awaited> awaited = new HashMap<>();
  /** member -> awaited versions it created (anti-entropy thread only). */
  private final Map<Address, Integer> awaitedBy = new HashMap<>();
  private volatile int awaitedCount;
  /** member|name|version|digest claimed by a member whose archive then failed verification. */
  private final Set<String> refused = ConcurrentHashMap.newKeySet();
  private volatile ForkChannel fork;
  private ForkChannel pending;
  private volatile boolean closed;
  private volatile boolean roundsEnabled = true;

  AntiEntropy(String nodeId, JChannel main, LocalBundles local, Ingest ingest, Counters counters,
              MeshConfig.Timings timings, Consumer<View> onView, Runnable onDigest) {
    this.nodeId = nodeId;
    this.main = main;
    this.local = local;
    this.ingest = ingest;
    this.counters = counters;
    this.timings = timings;
    this.onView = onView;
    this.onDigest = onDigest;
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "kg-anti-entropy-" + nodeId);
      t.setDaemon(true);
      return t;
    });
  }

  /** Registers the fork stack before the cluster channel connects, so early messages from peers find it. */
  void prepare() throws Exception {
    ForkChannel f = new ForkChannel(main, JGroupsStack.FORK_STACK, "anti-entropy");
    f.setReceiver(this);
    pending = f;
  }

  /**
   * Connects the fork channel and (with {@code rounds}) starts the digest rounds, on this class's
   * thread, once: called when the cluster channel has connected, whether or not the cache has started.
   */
  void startWhenConnected(boolean rounds) {
    submit(() -> {
      if (fork != null) {
        return;
      }
      try {
        if (rounds) {
          start();
        } else {
          startWithoutRounds();
        }
        log.info("{}: anti-entropy running (view {})", nodeId, main.view());
      } catch (Exception e) {
        log.error("{}: anti-entropy could not start: {}", nodeId, e.toString(), e);
      }
    });
  }

  void start() throws Exception {
    connect();
    thread.execute(this::round);
    scheduleNextRound();
  }

  private void connect() throws Exception {
    ForkChannel f = pending != null ? pending : new ForkChannel(main, JGroupsStack.FORK_STACK, "anti-entropy");
    f.setReceiver(this);
    f.connect("anti-entropy");
    fork = f;
  }

  /** Only acknowledgements (for publish counts), no digest rounds and no pulls: tests of what Infinispan does alone. */
  void startWithoutRounds() throws Exception {
    roundsEnabled = false;
    connect();
  }

  /** Rounds between two re-examinations of every local cache copy (see {@link #round()}). */
  static final int RESCAN_EVERY = 4;
  /** Members in the current view; a node alone sends no digest. */
  private volatile int viewSize = 1;
  /** Rounds since the last rescan (the round thread only). */
  private int roundsSinceRescan;

  /** Digests of the members in view (not this node), as last received. */
  Map<Address, Map<String, VersionStamp>> digests() {
    return Map.copyOf(digests);
  }

  /** This node now holds {@code stamp}: tell the others, and stop awaiting it or anything older. */
  void broadcastHave(String name, VersionStamp stamp) {
    send(null, new AeMessage.Have(name, stamp));
    submit(() -> {
      Awaited a = awaited.get(name);
      if (a != null && a.version <= stamp.version()) {
        forget(a);
      }
    });
  }

  /** Announced versions awaited now (test seam and bound check). */
  int awaitedVersions() {
    return awaitedCount;
  }

  /** A version announced by haves: {@code announcers} may be asked for it, in turn. */
  private static final class Awaited {
    final String name;
    final VersionStamp stamp;
    final long version;
    final Address creator;
    final List<Address> announcers = new ArrayList<>(2);
    int attempts;

    Awaited(String name, VersionStamp stamp, Address creator) {
      this.name = name;
      this.stamp = stamp;
      this.version = stamp.version();
      this.creator = creator;
      announcers.add(creator);
    }

    void announcedBy(Address member) {
      if (!announcers.contains(member) && announcers.size() < MAX_ANNOUNCERS) {
        announcers.add(member);
      }
    }
  }

  private void scheduleNextRound() {
    if (closed) {
      return;
    }
    long jitter = timings.antiEntropyJitter().toMillis();
    long delay = timings.antiEntropyInterval().toMillis() + (jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter + 1) : 0);
    try {
      thread.schedule(() -> {
        round();
        scheduleNextRound();
      }, delay, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // closed
    }
  }

  private void round() {
    if (closed || fork == null || !roundsEnabled) {
      return;
    }
    counters.rounds.increment();
    if (viewSize > 1) {
      send(null, new AeMessage.Digest(new HashMap<>(local.digest())));
    }
    // and re-examine this node's cache copies: a change whose event was missed is caught here. Every
    // RESCAN_EVERY rounds, not every round: it visits every name (measured: idle CPU 4.2 % with 10,000
    // names when it ran every 2-2.5 s), and view changes and state transfer trigger their own scan.
    if (++roundsSinceRescan >= RESCAN_EVERY) {
      roundsSinceRescan = 0;
      ingest.fullScan("rescan");
    }
  }

  @Override
  public void viewAccepted(View view) {
    viewSize = view.size();
    digests.keySet().retainAll(view.getMembers());
    submit(() -> awaited.values().forEach(a -> a.announcers.retainAll(view.getMembers())));
    onView.accept(view);
    if (view.size() > 1) {
      // everyone sends at once on a view change: spread the digests a little
      long delay = ThreadLocalRandom.current().nextLong(50, 300);
      try {
        thread.schedule(this::round, delay, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        // closed
      }
    }
  }

  @Override
  public void receive(Message msg) {
    Address from = msg.getSrc();
    if (from == null || from.equals(main.getAddress())) {
      return;
    }
    AeMessage m;
    try {
      m = AeMessage.decode(msg.getArray(), msg.getOffset(), msg.getLength());
    } catch (IOException | RuntimeException e) {
      counters.rejected("malformed_message");
      log.warn("{}: malformed anti-entropy message from {}: {}", nodeId, nameOf(from), e.toString());
      return;
    }
    submit(() -> handle(from, m));
  }

  private void handle(Address from, AeMessage m) {
    if (m instanceof AeMessage.Digest d) {
      digests.put(from, Map.copyOf(d.entries()));
      onDigest.run();
      if (roundsEnabled) {
        pullWhatIsNewer(from, d.entries());
      }
    } else if (m instanceof AeMessage.Have h) {
      digests.merge(from, Map.of(h.name(), h.stamp()), (old, add) -> {
        Map<String, VersionStamp> merged = new HashMap<>(old);
        merged.putAll(add);
        return Map.copyOf(merged);
      });
      onDigest.run();
      if (roundsEnabled) {
        await(from, h.name(), h.stamp());
      }
    } else if (m instanceof AeMessage.Pull p) {
      for (String name : p.names()) {
        Optional<VerifiedBundle> b = local.highest(name);
        b.ifPresent(bundle -> send(from, new AeMessage.Bundle(name, bundle.sharedArchive())));
      }
    } else if (m instanceof AeMessage.Bundle b) {
      VersionStamp claimed = digests.getOrDefault(from, Map.of()).get(b.name());
      String member = nameOf(from);
      ingest.archiveReceived(b.name(), b.archive(), member, accepted -> submit(() -> {
        inflight.remove(b.name());
        if (!accepted && claimed != null) {
          if (refused.size() > MAX_REFUSED) {
            refused.clear();
          }
          refused.add(refusedKey(from, b.name(), claimed));
        }
      }));
    }
  }

  /**
   * {@code from} holds {@code stamp}. The replicated put is usually on its way; if the version is not
   * held after {@link #HAVE_GRACE}, it is pulled. Never trusted: what a pull brings is verified.
   */
  private void await(Address from, String name, VersionStamp stamp) {
    VersionStamp held = local.highest(name).map(Ingest::stampOf).orElse(null);
    if (held != null && stamp.version() <= held.version()) {
      return;
    }
    if (refused.contains(refusedKey(from, name, stamp))) {
      return;
    }
    Awaited current = awaited.get(name);
    if (current != null && current.version >= stamp.version()) {
      current.announcedBy(from);
      return;
    }
    if (awaited.size() - (current == null ? 0 : 1) >= MAX_AWAITED
        || awaitedBy.getOrDefault(from, 0) >= MAX_AWAITED_PER_MEMBER) {
      counters.rejected(HAVE_OVER_LIMIT);
      log.debug("{}: too many awaited versions, dropped have {} v{} from {}", nodeId, name, stamp.version(), nameOf(from));
      return;
    }
    Awaited a = new Awaited(name, stamp, from);
    if (current != null) {
      // whoever announced the older version may hold the newer one by now: a pull answers the highest
      current.announcers.forEach(a::announcedBy);
      forget(current);
    }
    awaited.put(name, a);
    awaitedBy.merge(from, 1, Integer::sum);
    awaitedCount = awaited.size();
    schedule(() -> pullAwaited(a), HAVE_GRACE);
  }

  private void pullAwaited(Awaited a) {
    if (awaited.get(a.name) != a) {
      return;
    }
    VersionStamp held = local.highest(a.name).map(Ingest::stampOf).orElse(null);
    if (held != null && held.version() >= a.version) {
      forget(a);
      return;
    }
    // a member whose archive for this stamp failed verification is not asked again
    a.announcers.removeIf(m -> refused.contains(refusedKey(m, a.name, a.stamp)));
    if (a.attempts >= MAX_PULL_ATTEMPTS || a.announcers.isEmpty()) {
      log.debug("{}: {} v{} announced but not received after {} pulls; left to the digest rounds", nodeId, a.name,
          a.version, a.attempts);
      forget(a);
      return;
    }
    Address to = a.announcers.get(a.attempts % a.announcers.size());
    a.attempts++;
    long now = System.nanoTime();
    long[] ticket = inflight.get(a.name);
    if (ticket == null || ticket[0] < a.version || now - ticket[1] >= 0) {
      inflight.put(a.name, new long[] {a.version, now + PULL_RETRY.toNanos()});
      counters.pulls.increment();
      log.debug("{}: {} v{} announced by {} has not arrived: pulling it", nodeId, a.name, a.version, nameOf(to));
      send(to, new AeMessage.Pull(List.of(a.name)));
    }
    schedule(() -> pullAwaited(a), PULL_RETRY);
  }

  private void forget(Awaited a) {
    if (awaited.remove(a.name, a)) {
      awaitedBy.computeIfPresent(a.creator, (k, n) -> n > 1 ? n - 1 : null);
      awaitedCount = awaited.size();
    }
  }

  private void schedule(Runnable r, Duration delay) {
    if (closed) {
      return;
    }
    try {
      thread.schedule(() -> {
        try {
          r.run();
        } catch (RuntimeException e) {
          log.warn("{}: anti-entropy task failed", nodeId, e);
        }
      }, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // closed
    }
  }

  private void pullWhatIsNewer(Address from, Map<String, VersionStamp> theirs) {
    Map<String, VersionStamp> mine = local.digest();
    long now = System.nanoTime();
    // short and independent of publishTimeout: an unanswered pull is asked again at the next round
    long retryAfter = PULL_RETRY.toNanos();
    List<String> want = new ArrayList<>();
    for (Map.Entry<String, VersionStamp> e : theirs.entrySet()) {
      VersionStamp held = mine.get(e.getKey());
      if (held != null && e.getValue().version() <= held.version()) {
        continue;
      }
      if (refused.contains(refusedKey(from, e.getKey(), e.getValue()))) {
        continue;
      }
      long[] ticket = inflight.get(e.getKey());
      if (ticket != null && ticket[0] >= e.getValue().version() && now - ticket[1] < 0) {
        continue;
      }
      inflight.put(e.getKey(), new long[] {e.getValue().version(), now + retryAfter});
      want.add(e.getKey());
    }
    if (!want.isEmpty()) {
      counters.pulls.increment();
      log.debug("{}: pulling {} names from {}", nodeId, want.size(), nameOf(from));
      send(from, new AeMessage.Pull(want));
    }
  }

  private static String refusedKey(Address from, String name, VersionStamp s) {
    return from + "|" + name + "|" + s.version() + "|" + s.manifestDigest();
  }

  private void submit(Runnable r) {
    if (closed) {
      return;
    }
    try {
      thread.execute(() -> {
        try {
          r.run();
        } catch (RuntimeException e) {
          log.warn("{}: anti-entropy task failed", nodeId, e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // closed
    }
  }

  private void send(Address to, AeMessage m) {
    ForkChannel f = fork;
    if (f == null || closed) {
      return;
    }
    try {
      f.send(new BytesMessage(to, AeMessage.encode(m)));
    } catch (Exception e) {
      log.debug("{}: anti-entropy send to {} failed: {}", nodeId, to == null ? "all" : nameOf(to), e.toString());
    }
  }

  static String nameOf(Address a) {
    String n = NameCache.get(a);
    return n != null ? n : String.valueOf(a);
  }

  @Override
  public void close() {
    closed = true;
    thread.shutdownNow();
    ForkChannel f = fork;
    if (f != null) {
      f.close();
    }
  }
}
