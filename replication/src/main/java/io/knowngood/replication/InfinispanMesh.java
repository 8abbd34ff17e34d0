package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.VerifiedBundle;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.infinispan.Cache;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.context.Flag;
import org.infinispan.manager.DefaultCacheManager;
import org.jgroups.Address;
import org.jgroups.ChannelListener;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.stack.IpAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link Mesh} on embedded Infinispan + JGroups. */
final class InfinispanMesh implements Mesh {
  private static final Logger log = LoggerFactory.getLogger(InfinispanMesh.class);

  private final MeshConfig config;
  private final LocalBundles local;
  private final Clock clock;
  private final Options options;
  private final Counters counters = new Counters();
  private final Ingest ingest;
  private final HighestVerifiedMergePolicy mergePolicy;
  private final Object lock = new Object();

  private volatile boolean started;
  private volatile boolean closed;
  private volatile boolean ready;
  private volatile boolean failed;
  private volatile JChannel channel;
  private volatile DefaultCacheManager manager;
  private volatile Cache<String, byte[]> cache;
  private volatile AntiEntropy antiEntropy;
  private volatile Instant lastContact;
  private Thread starter;

  /**
   * Knobs that are not configuration: the replication mode (asynchronous in production, see
   * docs/replication.md for the measurement), a DISCARD protocol for in-process partitions, and
   * whether anti-entropy runs (tests switch it off to show what Infinispan's merge does alone).
   */
  record Options(CacheMode cacheMode, boolean discard, boolean antiEntropy, boolean infinispanMerge) {
    static Options production() {
      return new Options(CacheMode.REPL_ASYNC, false, true, true);
    }
  }

  InfinispanMesh(MeshConfig config, BundleVerifier verifier, LocalBundles local, Clock clock, Options options) {
    this.config = config;
    this.local = local;
    this.clock = clock;
    this.options = options;
    this.ingest = new Ingest(config.nodeId(), verifier, local, counters, this::held);
    this.mergePolicy = new HighestVerifiedMergePolicy(verifier, counters);
  }

  @Override
  public void start() {
    synchronized (lock) {
      if (started || closed) {
        return;
      }
      started = true;
      if (config.security() instanceof MeshConfig.Plaintext) {
        log.warn("{}: PLAINTEXT cluster transport on {}: no encryption, no authentication, anyone who reaches the port "
            + "can join and publish to the cache. For trying out on one host only; use TLS with mesh CA certificates.",
            config.nodeId(), format(config.bind()));
      }
      starter = new Thread(this::join, "kg-mesh-start-" + config.nodeId());
      starter.setDaemon(true);
      starter.start();
    }
  }

  private void join() {
    try {
      JChannel ch = JGroupsStack.build(config, options.discard());
      DefaultCacheManager m = CacheManagers.create(config, ch, options.cacheMode(), options.infinispanMerge() ? mergePolicy : null);
      synchronized (lock) {
        if (closed) {
          return;
        }
        channel = ch;
        manager = m;
      }
      AntiEntropy ae = new AntiEntropy(config.nodeId(), ch, local, ingest, counters, config.timings(), this::viewChanged,
          this::wakePublishers);
      ae.prepare();
      synchronized (lock) {
        if (closed) {
          ae.close();
          return;
        }
        antiEntropy = ae;
      }
      // Anti-entropy needs the channel, not the cache: it starts the moment the channel has joined,
      // so a node whose cache start is slow (it has taken minutes after a restart, docs/chaos.md) is
      // refilled by pulls meanwhile instead of discarding every message ("fork-channel not found").
      ch.addChannelListener(new ChannelListener() {
        @Override
        public void channelConnected(JChannel connected) {
          ae.startWhenConnected(options.antiEntropy());
        }
      });
      m.start();
      Cache<String, byte[]> c = m.getCache(CacheManagers.BUNDLES);
      ingest.attach(c);
      c.addListener(new BundleListener(ingest));
      synchronized (lock) {
        if (closed) {
          return;
        }
        cache = c;
      }
      ready = true;
      ingest.fullScan("start");
      log.info("{}: mesh ready on {}, view {}", config.nodeId(), format(config.bind()), ch.view());
    } catch (Exception e) {
      if (!closed) {
        failed = true;
        log.error("{}: cannot join the mesh on {}: {}", config.nodeId(), format(config.bind()), e.toString(), e);
        DefaultCacheManager m = manager;
        if (m != null) {
          try {
            m.stop();
          } catch (RuntimeException stopFailed) {
            log.debug("{}: stop after failed start: {}", config.nodeId(), stopFailed.toString());
          }
        }
      }
    }
  }

  private void viewChanged(View v) {
    if (v.size() > 1) {
      lastContact = clock.instant();
    } else if (lastContact != null) {
      lastContact = clock.instant();
    }
    log.info("{}: view {}", config.nodeId(), v);
    wakePublishers();
    // merges and state transfer may have changed copies without an event here: re-examine soon
    AntiEntropy ae = antiEntropy;
    if (ae != null) {
      ingest.fullScan("merge");
    }
  }

  private void held(String name, VersionStamp stamp) {
    AntiEntropy ae = antiEntropy;
    if (ae != null) {
      ae.broadcastHave(name, stamp);
    }
  }

  private void wakePublishers() {
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  @Override
  public PublishOutcome publish(VerifiedBundle bundle) {
    long deadline = System.nanoTime() + config.publishTimeout().toNanos();
    String name = bundle.name();
    Cache<String, byte[]> c = cache;
    if (!ready || c == null || closed) {
      return new PublishOutcome(name, bundle.version(), 1, 1, false);
    }
    byte[] archive = bundle.sharedArchive();
    VersionStamp stamp = Ingest.stampOf(bundle);
    ingest.published(name, archive, stamp);
    // Never wait for the put: after a merge Infinispan holds a command until the cache topology is
    // installed (up to remoteTimeout, ISPN000071), and the store already holds the bundle. The have
    // below makes the others pull it if the put is late or fails.
    long version = bundle.version();
    try {
      c.getAdvancedCache().withFlags(Flag.IGNORE_RETURN_VALUES).putAsync(name, archive).whenComplete((previous, e) -> {
        if (e != null) {
          log.warn("{}: replicating {} v{} failed, anti-entropy delivers it: {}", config.nodeId(), name, version,
              e.toString());
        }
      });
    } catch (RuntimeException e) {
      log.warn("{}: replicating {} v{} failed, anti-entropy delivers it: {}", config.nodeId(), name, version, e.toString());
    }
    antiEntropy.broadcastHave(name, stamp);
    synchronized (lock) {
      while (true) {
        int[] counts = holders(name, stamp);
        long left = deadline - System.nanoTime();
        if (counts[0] >= counts[1] || left <= 0 || closed) {
          return new PublishOutcome(name, bundle.version(), counts[0], counts[1], counts[0] >= counts[1]);
        }
        try {
          lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return new PublishOutcome(name, bundle.version(), counts[0], counts[1], false);
        }
      }
    }
  }

  /**
   * {members holding the published copy (self included), members in view}. A member counts only if
   * what it announced (its have, its digest, or a digest hash equal to this node's) is the exact stamp
   * this node holds, version and manifest digest: a higher version or the other bundle of a
   * same-version tie is not this copy. If this node itself no longer holds the published copy because
   * it lost a same-version tie (the mesh keeps the lower manifest digest), nobody is counted: that
   * publish did not take.
   */
  private int[] holders(String name, VersionStamp published) {
    JChannel ch = channel;
    View v = ch == null ? null : ch.view();
    if (v == null) {
      return new int[] {1, 1};
    }
    AntiEntropy ae = antiEntropy;
    VersionStamp held = local.highest(name).map(Ingest::stampOf).orElse(null);
    if (held != null && held.version() == published.version() && !held.equals(published)) {
      return new int[] {0, v.size()};
    }
    if (ae == null || held == null || held.version() < published.version()) {
      return new int[] {1, v.size()};
    }
    int holding = 1;
    for (Address a : v.getMembers()) {
      if (!a.equals(ch.getAddress()) && held.equals(ae.announced(a, name))) {
        holding++;
      }
    }
    return new int[] {holding, v.size()};
  }

  @Override
  public MeshView view() {
    JChannel ch = channel;
    View v = ready && ch != null ? ch.view() : null;
    String self = config.nodeId();
    List<InetSocketAddress> others = new ArrayList<>(config.expectedMembers());
    others.remove(config.bind());
    if (v == null) {
      // a mesh that could not start (port taken, bad credentials) reports STOPPED; the error is in the log
      MeshState state = closed || failed ? MeshState.STOPPED : MeshState.STARTING;
      return new MeshView(self, state, List.of(new MemberInfo(self, format(config.bind()), true)), Optional.empty(),
          !others.isEmpty() && !closed, Optional.ofNullable(lastContact));
    }
    List<MemberInfo> members = new ArrayList<>();
    Set<InetSocketAddress> present = new HashSet<>();
    for (Address a : v.getMembers()) {
      boolean isSelf = a.equals(ch.getAddress());
      InetSocketAddress physical = isSelf ? config.bind() : physicalOf(ch, a);
      if (physical != null) {
        present.add(physical);
      }
      members.add(new MemberInfo(isSelf ? self : AntiEntropy.nameOf(a), physical == null ? "?" : format(physical), isSelf));
    }
    boolean partitioned = !present.containsAll(others);
    MeshState state = closed ? MeshState.STOPPED
        : v.size() == 1 ? MeshState.ALONE : partitioned ? MeshState.PARTITIONED : MeshState.CLUSTERED;
    Optional<Instant> contact = v.size() > 1 ? Optional.of(clock.instant()) : Optional.ofNullable(lastContact);
    return new MeshView(self, state, members, Optional.ofNullable(v.getCoord()).map(AntiEntropy::nameOf),
        partitioned, contact);
  }

  @Override
  public Map<String, Map<String, VersionStamp>> memberDigests() {
    Map<String, Map<String, VersionStamp>> out = new LinkedHashMap<>();
    out.put(config.nodeId(), Map.copyOf(local.digest()));
    AntiEntropy ae = antiEntropy;
    JChannel ch = channel;
    if (ae != null && ch != null && ready) {
      Map<Address, Map<String, VersionStamp>> digests = ae.digests();
      for (Address a : ch.view().getMembers()) {
        if (!a.equals(ch.getAddress())) {
          out.put(AntiEntropy.nameOf(a), digests.getOrDefault(a, Map.of()));
        }
      }
    }
    return out;
  }

  @Override
  public MeshStats stats() {
    return counters.snapshot();
  }

  private static InetSocketAddress physicalOf(JChannel ch, Address a) {
    Object p = ch.down(new Event(Event.GET_PHYSICAL_ADDRESS, a));
    if (p instanceof IpAddress ip) {
      return new InetSocketAddress(ip.getIpAddress(), ip.getPort());
    }
    return null;
  }

  static String format(InetSocketAddress a) {
    String host = a.getAddress().getHostAddress();
    return (a.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  // --- test seams (package-private) ---

  JChannel channel() {
    return channel;
  }

  Cache<String, byte[]> cache() {
    return cache;
  }

  boolean isReady() {
    return ready;
  }

  AntiEntropy antiEntropy() {
    return antiEntropy;
  }

  @Override
  public void close() {
    Thread t;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      ready = false;
      t = starter;
      lock.notifyAll();
    }
    if (t != null) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    AntiEntropy ae = antiEntropy;
    if (ae != null) {
      ae.close();
    }
    ingest.close();
    DefaultCacheManager m = manager;
    if (m != null) {
      m.stop();
    }
    log.info("{}: mesh stopped", config.nodeId());
  }
}
