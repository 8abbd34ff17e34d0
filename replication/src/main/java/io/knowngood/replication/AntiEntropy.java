package io.knowngood.replication;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.ViewId;
import org.jgroups.fork.ForkChannel;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Application-level anti-entropy, the mechanism that guarantees convergence: the shell around a
 * {@link Reconciler}, which makes every decision. This class decodes what arrives on the FORK
 * channel (so it shares the cluster's TLS transport and views), puts it on a bounded queue, and
 * one thread feeds the queue to the reconciler, ticks its timers, and carries out what it asks
 * (sends, ingests, rescans). After a store, {@link #held} multicasts a one-entry "have", which is how
 * {@link Mesh#publish} counts holders. It knows {@link Ingest} only as an {@link ArchiveSink}.
 */
final class AntiEntropy implements Receiver, HeldListener, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AntiEntropy.class);
  /** Messages from members waiting for the reconciler; beyond, they are dropped and counted as {@link #QUEUE_FULL}. */
  static final int MAX_QUEUED_MESSAGES = 4096;
  /** Wire bytes of the messages waiting (one message is always let in, whatever its size). */
  static final long MAX_QUEUED_BYTES = 64L << 20;
  static final String QUEUE_FULL = "ae_queue_full";
  static final String MALFORMED = "malformed_message";
  /** The longest the thread sleeps between two looks at the reconciler's timers. */
  private static final long TICK_NANOS = Duration.ofMillis(100).toNanos();
  private static final long LOG_EVERY_NANOS = Duration.ofSeconds(10).toNanos();
  /**
   * The largest archive a publish pushes to the members with its have ({@link #broadcastPublished});
   * a larger one reaches them by the cache put (or a pull) alone. A pushed archive is not put as well
   * (unless sites need the put for their backup): either way it crosses the mesh once per member.
   */
  static final int PUSH_MAX_BYTES = 1 << 20;

  private final String nodeId;
  private final JChannel main;
  private final LocalBundles local;
  private final ArchiveSink sink;
  private final Counters counters;
  private final Consumer<View> onView;
  private final Object viewOrder = new Object();
  private ViewId newestView; // guarded by viewOrder
  private final Runnable onDigest;
  private final LongSupplier nanos;
  private final Reconciler<Address> reconciler;
  private final BlockingQueue<Event> queue = new LinkedBlockingQueue<>();
  private final MessageBudget budget = new MessageBudget(MAX_QUEUED_MESSAGES, MAX_QUEUED_BYTES);
  private final AtomicLong lastDropLogged = new AtomicLong();
  /** Read and written by the drain thread only. */
  private long lastUnsolicitedLogged;
  private final Thread thread;
  private volatile ForkChannel fork;
  private ForkChannel pending;
  private volatile boolean closed;
  /** The mesh records whose copies ride along each round ({@link AeMessage.RecordsHash}); null: none. */
  private volatile RecordsCheck records;

  /** A step for the reconciler; {@code bytes} > 0 for a message from a member (bounded), 0 for local events. */
  private record Event(Consumer<Reconciler<Address>> step, int bytes) {}

  AntiEntropy(String nodeId, JChannel main, LocalBundles local, ArchiveSink sink, Counters counters,
              MeshConfig.Timings timings, Consumer<View> onView, Runnable onDigest) {
    this(nodeId, main, local, sink, counters, timings, onView, onDigest, System::nanoTime, new SplittableRandom());
  }

  AntiEntropy(String nodeId, JChannel main, LocalBundles local, ArchiveSink sink, Counters counters,
              MeshConfig.Timings timings, Consumer<View> onView, Runnable onDigest, LongSupplier nanos,
              RandomGenerator random) {
    this.nodeId = nodeId;
    this.main = main;
    this.local = local;
    this.sink = sink;
    this.counters = counters;
    this.onView = onView;
    this.onDigest = onDigest;
    this.nanos = nanos;
    this.lastUnsolicitedLogged = nanos.getAsLong() - LOG_EVERY_NANOS;
    this.reconciler = new Reconciler<>(new StoreView(), new Shell(), counters, random, timings.antiEntropyInterval(),
        timings.antiEntropyJitter(), timings.haveGrace());
    this.thread = new Thread(this::drain, "kg-anti-entropy-" + nodeId);
    thread.setDaemon(true);
    thread.start();
  }

  /** Registers the fork stack before the cluster channel connects, so early messages from peers find it. */
  void prepare() throws Exception {
    ForkChannel f = new ForkChannel(main, JGroupsStack.FORK_STACK, "anti-entropy");
    f.setReceiver(this);
    pending = f;
  }

  /**
   * Connects the fork channel and starts the reconciler (with {@code rounds} false: acknowledgements
   * only, no rounds and no pulls, for tests of what Infinispan does alone), on this class's thread,
   * once: called when the cluster channel has connected, whether or not the cache has started.
   */
  void startWhenConnected(boolean rounds) {
    enqueue(r -> {
      if (fork != null) {
        return;
      }
      try {
        ForkChannel f = pending != null ? pending : new ForkChannel(main, JGroupsStack.FORK_STACK, "anti-entropy");
        f.setReceiver(this);
        f.connect("anti-entropy");
        fork = f;
        r.start(rounds, nanos.getAsLong());
        log.info("{}: anti-entropy running (view {})", nodeId, main.view());
      } catch (Exception e) {
        log.error("{}: anti-entropy could not start: {}", nodeId, e.toString(), e);
      }
    });
  }

  /**
   * From now on each hash of a round (or answer to one) goes out with the hash of this node's copy of
   * the receiver's records, from {@code check}, and the hashes peers send are handed to it.
   */
  void checkRecordsWith(RecordsCheck check) {
    records = check;
  }

  /** This node now holds {@code stamp}: tell the others at once, and stop awaiting it. */
  @Override
  public void held(String name, VersionStamp stamp) {
    broadcastHave(name, stamp);
  }

  void broadcastHave(String name, VersionStamp stamp) {
    AeMessage have = new AeMessage.Have(name, stamp);
    send(null, have);
    // members that talk to us but are not in our view (views disagree during some faults) get it too
    for (Address peer : reconciler.extraPeers()) {
      send(peer, have);
    }
    enqueue(r -> r.held(name, stamp));
  }

  /** Whether {@link #broadcastPublished} sends {@code archive} itself along with its have. */
  static boolean pushes(byte[] archive) {
    return archive.length <= PUSH_MAX_BYTES;
  }

  /**
   * This node published {@code stamp}: its have, then (up to {@link #PUSH_MAX_BYTES}) the archive
   * itself, to every member at once. The cache put goes through the key's primary owner before it
   * reaches the others, and a have alone waits the have grace ({@link MeshConfig.Timings#haveGrace})
   * before a pull; the pushed archive is one hop. Members verify it like any pulled archive ({@link
   * Reconciler#bundle}).
   */
  void broadcastPublished(String name, VersionStamp stamp, byte[] archive) {
    AeMessage have = new AeMessage.Have(name, stamp);
    AeMessage push = pushes(archive) ? new AeMessage.Bundle(name, archive) : null;
    send(null, have);
    if (push != null) {
      send(null, push);
    }
    for (Address peer : reconciler.extraPeers()) {
      send(peer, have);
      if (push != null) {
        send(peer, push);
      }
    }
    enqueue(r -> r.held(name, stamp));
  }

  /** What {@code member} last announced for {@code name} (its digest, its haves), or null. */
  VersionStamp announced(Address member, String name) {
    return reconciler.announced(member, name);
  }

  /** What each member in view (not this node) last announced. */
  Map<Address, Map<String, VersionStamp>> digests() {
    return reconciler.announced();
  }

  /** Announced versions awaited now (test seam and bound check). */
  int awaitedVersions() {
    return reconciler.awaitedVersions();
  }

  /**
   * JGroups 5.5.2 can pass views up out of order: {@code GMS.installView} sets its view under a lock
   * but sends the event up after releasing it, so a merge view installed just before a newer view was
   * delivered after it (soak, 2026-12-01: the channel then reported the older, smaller view for 60 s;
   * Infinispan rejects such a view with ISPN000711). A view whose id is not newer than the newest seen
   * is dropped here, as GMS itself does. The check and the hand-over happen under one lock: two views
   * delivered at once on two threads otherwise both passed the check and reached the mesh in the
   * other order, leaving it with the older one (soak, 2026-12-04: view 299 set after merge view 300,
   * the node reported PARTITIONED for 60 s while every member held view 300).
   */
  @Override
  public void viewAccepted(View view) {
    ViewId id = view.getViewId();
    Set<Address> others = new HashSet<>(view.getMembers());
    others.remove(main.getAddress());
    synchronized (viewOrder) {
      if (newestView != null && id.compareToIDs(newestView) <= 0) {
        log.info("{}: dropped view {}, older than {} (delivered out of order)", nodeId, id, newestView);
        return;
      }
      newestView = id;
      onView.accept(view); // never waits for view delivery, so holding the lock cannot deadlock
      enqueue(r -> r.view(others, nanos.getAsLong()));
    }
  }

  @Override
  public void receive(Message msg) {
    Address from = msg.getSrc();
    if (from == null || from.equals(main.getAddress())) {
      return;
    }
    AeMessage.Decoded decoded = AeMessage.decode(msg.getArray(), msg.getOffset(), msg.getLength());
    if (decoded instanceof AeMessage.Malformed bad) {
      counters.rejected(MALFORMED);
      log.warn("{}: malformed anti-entropy message from {}: {}", nodeId, nameOf(from), bad.reason());
      return;
    }
    AeMessage m = ((AeMessage.Ok) decoded).message();
    int bytes = Math.max(1, msg.getLength());
    if (!budget.tryTake(bytes)) {
      counters.rejected(QUEUE_FULL);
      long now = nanos.getAsLong();
      long last = lastDropLogged.get();
      if (now - last >= LOG_EVERY_NANOS && lastDropLogged.compareAndSet(last, now)) {
        log.debug("{}: anti-entropy queue full ({} messages), dropping {} from {}", nodeId, budget.messages(),
            m.getClass().getSimpleName(), nameOf(from));
      }
      return;
    }
    queue.add(new Event(r -> handle(r, from, m), bytes));
  }

  private void handle(Reconciler<Address> r, Address from, AeMessage m) {
    long now = nanos.getAsLong();
    if (m instanceof AeMessage.DigestHash h) {
      r.digestHash(from, h.hash(), now);
    } else if (m instanceof AeMessage.DigestRequest) {
      r.digestRequested(from, now);
    } else if (m instanceof AeMessage.Digest d) {
      r.digest(from, d.entries(), now);
    } else if (m instanceof AeMessage.Have h) {
      r.have(from, h.name(), h.stamp(), now);
    } else if (m instanceof AeMessage.RecordsHash h) {
      RecordsCheck check = records;
      if (check != null) {
        check.checkedBy(nameOf(from), h.hash());
      }
    } else if (m instanceof AeMessage.Pull p) {
      r.pull(from, p.names());
    } else if (m instanceof AeMessage.Bundle b) {
      String dropped = r.bundle(from, b.name(), b.archive());
      if (dropped != null && now - lastUnsolicitedLogged >= LOG_EVERY_NANOS) {
        lastUnsolicitedLogged = now;
        log.warn("{}: dropped an archive of {} from {}: {}", nodeId, b.name(), nameOf(from), dropped);
      }
    }
  }

  /** A local event: never dropped (views, stores, pull answers, start: each bounded by its source). */
  private void enqueue(Consumer<Reconciler<Address>> step) {
    if (!closed) {
      queue.add(new Event(step, 0));
    }
  }

  private void drain() {
    while (!closed) {
      try {
        long now = nanos.getAsLong();
        long due = reconciler.nextDueAt();
        long wait = due == Long.MAX_VALUE ? TICK_NANOS : Math.max(0, Math.min(TICK_NANOS, due - now));
        Event e = queue.poll(wait, TimeUnit.NANOSECONDS);
        if (e != null) {
          if (e.bytes() > 0) {
            budget.release(e.bytes());
          }
          e.step().accept(reconciler);
        }
        reconciler.tick(nanos.getAsLong());
      } catch (InterruptedException stop) {
        return;
      } catch (RuntimeException failed) {
        log.warn("{}: anti-entropy step failed", nodeId, failed);
      }
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

  /** The store as the reconciler sees it. */
  private final class StoreView implements Reconciler.Store {
    @Override
    public Map<String, VersionStamp> digest() {
      return local.digest();
    }

    @Override
    public VersionStamp held(String name) {
      return local.highest(name).map(b -> new VersionStamp(b.version(), b.manifestDigest())).orElse(null);
    }
  }

  /** The reconciler's actions, carried out on this class's thread. */
  private final class Shell implements Reconciler.Actions<Address> {
    @Override
    public void unicast(Address to, AeMessage message) {
      if (message instanceof AeMessage.Pull p) {
        log.debug("{}: pulling {} names from {}", nodeId, p.names().size(), nameOf(to));
      }
      send(to, message);
      RecordsCheck check = records;
      if (message instanceof AeMessage.DigestHash && check != null) {
        byte[] copy = check.copyHashOf(nameOf(to));
        if (copy != null) {
          send(to, new AeMessage.RecordsHash(copy));
        }
      }
    }

    @Override
    public void sendArchives(Address to, List<String> names) {
      for (String name : names) {
        Optional<VerifiedBundle> b = local.highest(name);
        b.ifPresent(bundle -> send(to, new AeMessage.Bundle(name, bundle.sharedArchive())));
      }
    }

    @Override
    public void ingest(Address from, String name, byte[] archive, VersionStamp pushed) {
      sink.archiveReceived(name, archive, nameOf(from),
          verified -> enqueue(r -> {
            VersionStamp refused = r.pullAnswered(from, name, verified, pushed, nanos.getAsLong());
            if (refused != null) {
              log.debug("{}: {} is not asked for {} v{} again: its archive {}", nodeId, nameOf(from), name, refused.version(),
                  verified ? "was not that version, or the store kept its own copy" : "failed verification");
            }
          }));
    }

    @Override
    public void rescan() {
      sink.fullScan("rescan");
    }

    @Override
    public void announcedChanged() {
      onDigest.run();
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    ForkChannel f = fork;
    if (f != null) {
      f.close();
    }
  }
}
