package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.RollbackFloor;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.infinispan.AdvancedCache;
import org.infinispan.Cache;
import org.infinispan.context.Flag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one door into the node's store. Everything that arrives from the mesh (replicated puts,
 * state transfer, Infinispan merges, anti-entropy pulls) is verified here (signature, hashes, name,
 * rollback floor) before {@link LocalBundles#offer}; what fails is dropped and counted. It also
 * keeps this node's copy in the cache honest: a copy that does not verify, or is older than what
 * the store holds, is overwritten locally (never replicated) with the store's highest version.
 * Runs on one thread, so verification, store and memo never race.
 */
final class Ingest implements ArchiveSink, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Ingest.class);

  private final String nodeId;
  private final BundleVerifier verifier;
  private final LocalBundles local;
  private final Counters counters;
  private final HeldListener onHeld;
  private final ExecutorService thread;
  /** Last copy examined per name (ingest thread only): skip re-verifying the same bytes. */
  private final Map<String, Seen> memo = new HashMap<>();
  /** When the task running now was handed to the ingest thread (ingest thread only; for the log). */
  private long taskQueuedAt;
  private volatile AdvancedCache<String, byte[]> reads;
  private volatile AdvancedCache<String, byte[]> localWrites;
  /** Replicated inside this site, never backed up to other sites: a bundle pulled from another site. */
  private volatile AdvancedCache<String, byte[]> siteWrites;

  /** A cache copy already examined; {@code stamp} is null when it did not verify. */
  private static final class Seen {
    final byte[] bytes;
    final VersionStamp stamp;

    Seen(byte[] bytes, VersionStamp stamp) {
      this.bytes = bytes;
      this.stamp = stamp;
    }

    boolean same(byte[] other) {
      return bytes == other || Arrays.equals(bytes, other);
    }
  }

  private record Examined(VersionStamp entry, VersionStamp held) {}

  Ingest(String nodeId, BundleVerifier verifier, LocalBundles local, Counters counters,
         HeldListener onHeld) {
    this.nodeId = nodeId;
    this.verifier = verifier;
    this.local = local;
    this.counters = counters;
    this.onHeld = onHeld;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "kg-ingest-" + nodeId);
      t.setDaemon(true);
      return t;
    });
  }

  void attach(Cache<String, byte[]> cache) {
    AdvancedCache<String, byte[]> a = cache.getAdvancedCache();
    reads = a.withFlags(Flag.CACHE_MODE_LOCAL, Flag.SKIP_OWNERSHIP_CHECK);
    siteWrites = a.withFlags(Flag.SKIP_XSITE_BACKUP, Flag.IGNORE_RETURN_VALUES);
    // a repair of this node's copy stays on this node: not replicated, and not backed up to other sites
    localWrites = a.withFlags(Flag.CACHE_MODE_LOCAL, Flag.SKIP_LISTENER_NOTIFICATION, Flag.IGNORE_RETURN_VALUES,
        Flag.SKIP_XSITE_BACKUP);
  }

  /** The cache of an attempt that is being abandoned (a hand-over): nothing reads or writes it any more. */
  void detach() {
    reads = null;
    siteWrites = null;
    localWrites = null;
  }

  /**
   * The cache copy of {@code name} changed (replication or a merge) to {@code value}. The value the
   * event carries is examined even if a later write already replaced it, then the current copy.
   */
  void cacheEntryChanged(String name, Object value, String source) {
    run(() -> {
      VersionStamp held = local.digest().get(name);
      byte[] written = unwrap(value);
      Seen seen = memo.get(name);
      if (written != null && (seen == null || !seen.same(written))) {
        Examined e = examine(name, written, source, held, "cache");
        held = e.held();
        memo.put(name, new Seen(written, e.entry()));
      }
      VersionStamp after = reconcile(name, source, held);
      if (after != null) {
        onHeld.held(name, after); // acknowledges a publish even when it was already held
      }
    });
  }

  /** Examines every copy in the local cache and every name in the store. */
  @Override
  public void fullScan(String source) {
    run(() -> {
      Map<String, VersionStamp> digest = new HashMap<>(local.digest());
      TreeSet<String> names = new TreeSet<>(digest.keySet());
      AdvancedCache<String, byte[]> r = reads;
      if (r != null) {
        names.addAll(new ArrayList<>(r.keySet()));
      }
      for (String name : names) {
        VersionStamp after = reconcile(name, source, digest.get(name));
        if (after != null) {
          digest.put(name, after);
        }
      }
    });
  }

  /** An archive pulled from {@code member} by anti-entropy; {@code accepted} gets whether it verified. */
  @Override
  public void archiveReceived(String name, byte[] archive, String member, Consumer<Boolean> accepted) {
    archiveReceived(name, archive, "anti-entropy", member, accepted);
  }

  /** As {@link #archiveReceived(String, byte[], String, Consumer)}, arrived by {@code source} (another site's pull answer). */
  void archiveReceived(String name, byte[] archive, String source, String from, Consumer<Boolean> accepted) {
    run(() -> {
      VersionStamp held = local.digest().get(name);
      Seen seen = memo.get(name);
      if (seen != null && (seen.stamp == null || !seen.stamp.beats(held)) && seen.same(archive)) {
        // these exact bytes came by the cache put too and were examined then: verified once is enough
        accepted.accept(seen.stamp != null);
        return;
      }
      Examined e = examine(name, archive, source, held, from);
      if (SITE.equals(source) && e.entry() != null && e.entry().equals(e.held()) && !e.held().equals(held)) {
        shareInSite(name, e.held());
      } else {
        reconcile(name, source, e.held());
      }
      accepted.accept(e.entry() != null);
    });
  }

  /** The source of a bundle pulled from another site ({@link SiteSync}). */
  static final String SITE = "site";

  /**
   * A bundle this node (its site master) pulled from another site and now holds goes into the cache,
   * replicated inside the site but not backed up again: the site's other nodes get it by replication in
   * milliseconds (through this same door) rather than by anti-entropy's pull a second later.
   */
  private void shareInSite(String name, VersionStamp held) {
    AdvancedCache<String, byte[]> w = siteWrites;
    Optional<VerifiedBundle> stored = local.highest(name);
    if (w == null || stored.isEmpty() || !held.equals(stampOf(stored.get()))) {
      reconcile(name, SITE, held);
      return;
    }
    byte[] bytes = stored.get().sharedArchive();
    memo.put(name, new Seen(bytes, held));
    try {
      w.putAsync(name, bytes).whenComplete((previous, failed) -> {
        if (failed != null) {
          log.debug("{}: sharing {} v{} in the site failed, anti-entropy delivers it: {}", nodeId, name, held.version(),
              failed.toString());
        }
      });
    } catch (RuntimeException failed) {
      log.debug("{}: sharing {} v{} in the site failed, anti-entropy delivers it: {}", nodeId, name, held.version(),
          failed.toString());
    }
  }

  /** This node published {@code stamp}: remember that its cache copy is already verified. */
  void published(String name, byte[] archive, VersionStamp stamp) {
    run(() -> memo.put(name, new Seen(archive, stamp)));
  }

  /**
   * This node published {@code stamp} and pushes it to the members instead of replicating a put: its
   * own cache copy is written here, on this node only (as a member writes its copy once it has stored
   * a pushed archive), and remembered as verified.
   */
  void publishedLocally(String name, byte[] archive, VersionStamp stamp) {
    run(() -> {
      memo.put(name, new Seen(archive, stamp));
      AdvancedCache<String, byte[]> w = localWrites;
      if (w != null) {
        w.put(name, archive);
      }
    });
  }

  private void run(Runnable task) {
    if (thread.isShutdown()) {
      return;
    }
    try {
      long queued = System.nanoTime();
      thread.execute(() -> {
        try {
          taskQueuedAt = queued;
          task.run();
        } catch (RuntimeException e) {
          log.warn("{}: ingest task failed", nodeId, e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException closing) {
      // closing: nothing more to ingest
    }
  }

  /** Examines the local copy of {@code name}, offers it if it is new, repairs it if it is bad; returns what is held after. */
  private VersionStamp reconcile(String name, String source, VersionStamp held) {
    AdvancedCache<String, byte[]> r = reads;
    if (r == null) {
      return held;
    }
    byte[] copy = unwrap(r.get(name));
    VersionStamp copyStamp = null;
    if (copy != null) {
      Seen seen = memo.get(name);
      if (seen == null || !seen.same(copy)) {
        Examined e = examine(name, copy, source, held, "cache");
        held = e.held();
        seen = new Seen(copy, e.entry());
        memo.put(name, seen);
      }
      copyStamp = seen.stamp;
    }
    if (held != null && (copyStamp == null || held.beats(copyStamp))) {
      repairLocalCopy(name);
    } else if (copy != null && held != null && held.equals(copyStamp)) {
      shareWithStore(name, copy, held);
    }
    return held;
  }

  /**
   * The cache copy is the held version but a different array than the store's (a write that came
   * back from the key's primary owner, or one that was verified before the store admitted it): point
   * the local entry at the store's array, so the bundle sits in memory once. Conditional on the
   * entry still holding these bytes, so a newer write that just arrived is never replaced.
   */
  private void shareWithStore(String name, byte[] copy, VersionStamp held) {
    AdvancedCache<String, byte[]> w = localWrites;
    Optional<VerifiedBundle> stored = local.highest(name);
    if (w == null || stored.isEmpty() || !held.equals(stampOf(stored.get()))) {
      return;
    }
    byte[] shared = stored.get().sharedArchive();
    if (shared != copy && Arrays.equals(shared, copy) && w.replace(name, copy, shared)) {
      memo.put(name, new Seen(shared, held));
    }
  }

  private Examined examine(String name, byte[] archive, String source, VersionStamp held, String from) {
    long t0 = System.nanoTime();
    VerifyResult result = verifier.verifyHandedOverAs(name, archive);
    long verified = System.nanoTime();
    if (result instanceof VerifyResult.Rejected rejected) {
      counters.rejected(rejected.reason().code());
      log.warn("{}: dropped {} arrived by {} from {}: {} ({})", nodeId, name, source, from, rejected.reason().code(),
          rejected.reason().detail());
      return new Examined(null, held);
    }
    VerifiedBundle bundle = ((VerifyResult.Verified) result).bundle();
    VersionStamp stamp = stampOf(bundle);
    VerifyResult floor = RollbackFloor.check(bundle, held == null ? OptionalLong.empty() : OptionalLong.of(held.version()));
    // Offer when held == null || stamp.beats(held): a higher version, or the same version with a
    // lower manifest digest (a tie's deterministic winner, which the store admits from peers).
    if (floor instanceof VerifyResult.Rejected && !stamp.beats(held)) {
      if (bundle.version() < held.version()) {
        counters.rejected("stale");
        log.debug("{}: {} v{} by {} is older than held v{}", nodeId, name, bundle.version(), source, held.version());
      }
      return new Examined(stamp, held);
    }
    Admission admission = local.offer(bundle, source);
    if (admission instanceof Admission.Stored) {
      counters.stored(source);
      log.info("{}: stored {} v{} ({}) arrived by {} (queued {} ms, verify {} ms, store {} ms)", nodeId, name,
          bundle.version(), shortDigest(stamp), source, ms(t0 - taskQueuedAt), ms(verified - t0), ms(System.nanoTime() - verified));
      onHeld.held(name, stamp);
      return new Examined(stamp, stamp);
    }
    counters.ignored.increment();
    log.info("{}: store ignored {} v{}: {}", nodeId, name, bundle.version(), ((Admission.Ignored) admission).reason());
    return new Examined(stamp, held);
  }

  private void repairLocalCopy(String name) {
    Optional<VerifiedBundle> highest = local.highest(name);
    AdvancedCache<String, byte[]> w = localWrites;
    if (highest.isEmpty() || w == null) {
      return;
    }
    byte[] bytes = highest.get().sharedArchive();
    w.put(name, bytes);
    memo.put(name, new Seen(bytes, stampOf(highest.get())));
    counters.repaired.increment();
    log.debug("{}: local copy of {} set to held v{}", nodeId, name, highest.get().version());
  }

  static VersionStamp stampOf(VerifiedBundle b) {
    return new VersionStamp(b.version(), b.manifestDigest());
  }

  static byte[] unwrap(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof byte[] bytes) {
      return bytes;
    }
    if (value instanceof org.infinispan.commons.marshall.WrappedBytes wrapped) {
      byte[] b = wrapped.getBytes();
      int off = wrapped.backArrayOffset();
      return off == 0 && wrapped.getLength() == b.length ? b : Arrays.copyOfRange(b, off, off + wrapped.getLength());
    }
    throw new IllegalStateException("unexpected cache value type " + value.getClass().getName());
  }

  /** Milliseconds to one decimal, as {@code %.1f} prints them, without a {@code Formatter} on the ingest thread. */
  private static double ms(long nanos) {
    return Math.round(nanos / 1e5) / 10.0;
  }

  private static String shortDigest(VersionStamp s) {
    return s.manifestDigest().substring(0, Math.min(12, s.manifestDigest().length()));
  }

  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
