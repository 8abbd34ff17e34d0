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
 * holders. Runs on a FORK channel of the cluster channel, so it shares its TLS transport and views.
 */
final class AntiEntropy implements Receiver, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AntiEntropy.class);
  private static final int MAX_REFUSED = 10_000;

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

  /** Digests of the members in view (not this node), as last received. */
  Map<Address, Map<String, VersionStamp>> digests() {
    return Map.copyOf(digests);
  }

  void broadcastHave(String name, VersionStamp stamp) {
    send(null, new AeMessage.Have(name, stamp));
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
    send(null, new AeMessage.Digest(new HashMap<>(local.digest())));
    // and re-examine this node's cache copies: a change whose event was missed is caught here (cheap: memoized)
    ingest.fullScan("rescan");
  }

  @Override
  public void viewAccepted(View view) {
    digests.keySet().retainAll(view.getMembers());
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
      onDigest.run(); // no pull here: the replicated put is usually already on its way

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

  private void pullWhatIsNewer(Address from, Map<String, VersionStamp> theirs) {
    Map<String, VersionStamp> mine = local.digest();
    long now = System.nanoTime();
    long retryAfter = Math.max(Duration.ofSeconds(2).toNanos(), timings.publishTimeout().toNanos());
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
