package io.knowngood.replication;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.infinispan.Cache;
import org.infinispan.commons.internal.InternalCacheNames;
import org.infinispan.factories.GlobalComponentRegistry;
import org.infinispan.topology.CacheTopology;
import org.infinispan.topology.ClusterTopologyManager;
import org.infinispan.topology.LocalTopologyManager;
import org.infinispan.topology.RebalancingStatus;
import org.infinispan.manager.DefaultCacheManager;
import org.jgroups.ChannelListener;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.util.UUID;
import org.slf4j.Logger;

/**
 * One try: a new channel, cache manager and anti-entropy; the cache start runs on its own thread
 * and gets {@link InfinispanMesh.Options#cacheStartBound()}. A timed-out attempt is abandoned whole: Infinispan's
 * {@code JGroupsTransport.stop()} disconnects and closes the channel it was handed (16.1.4), which
 * takes the anti-entropy fork channel with it, so the next attempt builds both again.
 */
final class JoinAttempt {
  enum Outcome { READY, TIMED_OUT, FAILED_AFTER_CONNECT, NEVER_CONNECTED, CLOSED }

  private static final Logger log = InfinispanMesh.log;
  private final InfinispanMesh mesh;
  final int number;
  final long startedNanos = System.nanoTime();
  volatile boolean connected;
  volatile long shortenedAtNanos;
  private volatile String shortenedBecause = "";
  private boolean abandoned; // guarded by mesh.lock
  JChannel ch;
  DefaultCacheManager m;
  AntiEntropy ae;
  SiteSync siteSync;
  volatile Thread worker;
  /**
   * Whether the worker is in (or about to enter) the {@link CacheStartHold}, the one place a close may
   * interrupt it. Elsewhere an interrupt fails Infinispan's start (its state transfer waits are
   * interruptible), which Infinispan logs as errors with stack traces; a close waits instead
   * ({@link InfinispanMesh#close}).
   */
  volatile boolean holding;
  /** Set by the worker before it completes the start. */
  private volatile Cache<String, byte[]> records;

  /** The starter thread: attempts until the cache has started, the mesh is closed, or the first channel cannot connect. */
  static void untilReady(InfinispanMesh mesh) {
    for (int attempt = 1; !mesh.closed(); attempt++) {
      JoinAttempt a = new JoinAttempt(mesh, attempt);
      mesh.lastView = null;
      mesh.current = a;
      Outcome outcome = a.run();
      if (outcome == Outcome.READY) {
        Watched watched = a.watchCoordination();
        if (watched == Watched.DUPLICATE_ID) {
          if (mesh.moveTo(MeshLifecycle.READY, MeshLifecycle.DUPLICATE_ID, "another member has this node's id")) {
            a.abandon();
          }
          return;
        }
        if (watched != Watched.HAND_OVER || !mesh.moveTo(MeshLifecycle.READY, MeshLifecycle.CONNECTING, "attempt "
            + (attempt + 1) + ", handing over coordination")) {
          return; // closed
        }
        a.abandon();
        continue;
      }
      if (outcome == Outcome.CLOSED) {
        return;
      }
      a.abandon();
      MeshLifecycle now = mesh.lifecycle.get();
      if (outcome == Outcome.NEVER_CONNECTED && attempt == 1) {
        // a port taken or credentials unreadable: trying again changes nothing, the error is logged
        mesh.moveTo(MeshLifecycle.CONNECTING, MeshLifecycle.FAILED, "the channel could not be built or connect");
        return;
      }
      if (now == MeshLifecycle.CONNECTED
          && !mesh.moveTo(MeshLifecycle.CONNECTED, MeshLifecycle.CONNECTING, "attempt " + (attempt + 1))) {
        return; // closed meanwhile
      }
      if (outcome != Outcome.TIMED_OUT && !pause(mesh, InfinispanMesh.RETRY_PAUSE)) {
        return;
      }
    }
  }

  /** How watching a READY mesh ended. */
  enum Watched { CLOSED, HAND_OVER, DUPLICATE_ID }

  /**
   * While the mesh is READY: every {@link InfinispanMesh#WATCH_INTERVAL}, looks for members with this
   * node's id ({@link IdClashWatch}: {@code DUPLICATE_ID} once one that joined first has stayed for the
   * grace) and, if this node coordinates, asks
   * {@link CoordinationWatch} whether Infinispan's topology management here is stuck (a member in the view
   * for {@link InfinispanMesh.Options#stuckJoin()} but not in this node's topology of the internal
   * {@code CONFIG} cache, which every cache manager joins first and which takes a joiner in within a
   * second; or not in the topology of the bundles or records cache while that cache's rebalance here has
   * not completed, where a joiner is taken in within a second of its start: {@link #takenInto}). Returns
   * {@code HAND_OVER} to hand over coordination: this attempt is then abandoned and the mesh joined again, and the
   * next coordinator recovers the cluster's topologies as Infinispan does for any new
   * coordinator. At most once per {@link InfinispanMesh#HAND_OVER_SPACING}. Returns {@code CLOSED} once closed.
   */
  Watched watchCoordination() {
    CoordinationWatch<String> watch = new CoordinationWatch<>(mesh.options.stuckJoin());
    IdClashWatch<Address> clashes = new IdClashWatch<>(mesh.options.idClashGrace());
    SiteIdClashWatch siteClashes = mesh.siteIdentity.map(i -> new SiteIdClashWatch(i, mesh.options.idClashGrace())).orElse(null);
    LocalTopologyManager local = GlobalComponentRegistry.componentOf(m, LocalTopologyManager.class);
    ClusterTopologyManager cluster = GlobalComponentRegistry.componentOf(m, ClusterTopologyManager.class);
    while (pause(mesh, InfinispanMesh.WATCH_INTERVAL)) {
      if (mesh.lifecycle.get() != MeshLifecycle.READY) {
        return Watched.CLOSED;
      }
      if (mesh.takeHandOverRequest()) {
        log.info("{}: handing over coordination on request (test)", mesh.config.nodeId());
        return Watched.HAND_OVER;
      }
      View v;
      Map<String, CacheTopology> topologies = new LinkedHashMap<>();
      Map<String, RebalancingStatus> rebalancing = new HashMap<>();
      Address self = ch.getAddress(); // null once the channel is closed under us (the transport stopping)
      try {
        v = mesh.newestView(ch);
        for (String cache : WATCHED_CACHES) {
          CacheTopology t = local.getCacheTopology(cache);
          if (t != null) {
            topologies.put(cache, t);
            rebalancing.put(cache, cluster.getRebalancingStatus(cache));
          }
        }
      } catch (RuntimeException stopping) {
        log.debug("{}: coordination watch: {}", mesh.config.nodeId(), stopping.toString());
        continue;
      }
      try {
        if (v != null && self != null && lookForClashes(clashes, v, self)
            || siteClashes != null && lookAcrossSites(siteClashes)) {
          return Watched.DUPLICATE_ID;
        }
      } catch (RuntimeException stopping) { // the transport asked for an address while it stops
        log.debug("{}: id clash watch: {}", mesh.config.nodeId(), stopping.toString());
        continue;
      }
      if (v == null || !topologies.containsKey(InternalCacheNames.CONFIG_STATE_CACHE_NAME) || self == null
          || !self.equals(v.getCoord())) {
        watch.reset();
        continue;
      }
      // keyed by node name: a joiner that gives up and joins again comes back with a new address
      Map<java.util.UUID, String> names = new HashMap<>();
      Map<String, Address> inView = new LinkedHashMap<>();
      for (Address a : v.getMembers()) {
        if (a instanceof UUID u) {
          String name = nameOf(u);
          names.put(idOf(u), name);
          inView.put(name, a);
        }
      }
      Map<String, Set<String>> takenIn = new LinkedHashMap<>();
      topologies.forEach((cache, t) -> takenIn.put(cache, takenInto(cache, t, rebalancing.get(cache), names, inView.keySet())));
      Set<String> inAll = new HashSet<>(inView.keySet());
      takenIn.values().forEach(inAll::retainAll);
      List<String> late = watch.stuck(inView.keySet(), inAll, nameOf((UUID) self), System.nanoTime());
      if (!late.isEmpty() && mesh.mayHandOver(System.nanoTime())) {
        List<String> where = new ArrayList<>();
        takenIn.forEach((cache, in) -> {
          if (!in.containsAll(late)) {
            CacheTopology t = topologies.get(cache);
            where.add(cache + " (topology id " + t.getTopologyId() + ", phase " + t.getPhase() + " here; rebalance "
                + rebalancing.get(cache) + " by the cluster status)");
          }
        });
        log.warn("{}: coordinating view {}, but {} {} been in it for over {} ms without being taken into the topology of {}: "
            + "Infinispan 16.1.4 does not complete this join. Handing over coordination by joining again "
            + "(docs/replication.md, \"Start and rejoin\")",
            mesh.config.nodeId(), v.getViewId().getId(), late.stream().map(inView::get).toList(),
            late.size() == 1 ? "has" : "have", mesh.options.stuckJoin().toMillis(), String.join(", ", where));
        return Watched.HAND_OVER;
      }
    }
    return Watched.CLOSED;
  }

  /** One look for members with this node's id at another address; true to leave the mesh for one. */
  private boolean lookForClashes(IdClashWatch<Address> clashes, View v, Address self) {
    String id = mesh.config.nodeId();
    IdClashWatch.Member<Address> me = new IdClashWatch.Member<>(self, id, InfinispanMesh.format(mesh.config.bind()));
    List<IdClashWatch.Member<Address>> members = new ArrayList<>();
    for (Address a : v.getMembers()) {
      if (a.equals(self)) {
        members.add(me);
      } else {
        InetSocketAddress p = InfinispanMesh.physicalOf(ch, a);
        members.add(new IdClashWatch.Member<>(a, AntiEntropy.nameOf(a), p == null ? null : InfinispanMesh.format(p)));
      }
    }
    IdClashWatch.Look<Address> look = clashes.look(members, me, System.nanoTime());
    long grace = mesh.options.idClashGrace().toSeconds();
    for (IdClashWatch.Clash<Address> c : look.newlySeen()) {
      IdClashWatch.Member<Address> m = c.member();
      mesh.idClashes.seen(m.physical(), "", c.earlier());
      if (c.earlier()) {
        log.warn("{}: the member at {} has this node's id ({}) too, and joined the mesh first. Two hosts with one id "
            + "overwrite each other's rollout records: unless it leaves the view within {} s, this node leaves the mesh. "
            + "Give each host its own --node-id (node-id in its config)", id, m.physical(), id, grace);
      } else {
        log.warn("{}: a member at {} joined the mesh with this node's id ({}). Two hosts with one id overwrite each other's "
            + "rollout records: as the later one it leaves the mesh within {} s. Give that host its own --node-id "
            + "(node-id in its config)", id, m.physical(), id, grace);
      }
    }
    if (look.leaveFor().isEmpty()) {
      return false;
    }
    String other = look.leaveFor().get().physical();
    mesh.idClashes.left(other, "");
    log.error("{}: leaving the mesh: the member at {} has this node's id ({}) and joined first. This node serves what it "
        + "holds and takes publishes on its own (cluster state DUPLICATE_ID) until it is restarted with an id of its own "
        + "(--node-id, or node-id in its config)", id, other, id);
    return true;
  }

  /** One look for a host in another site with this node's id ({@link SiteIdClashWatch}); true to leave the mesh for one. */
  private boolean lookAcrossSites(SiteIdClashWatch clashes) {
    String id = mesh.config.nodeId();
    SiteIdClashWatch.Look look = clashes.look(mesh.records.drainOverwrites(SiteIdClashWatch.KEY), System.nanoTime());
    long grace = mesh.options.idClashGrace().toSeconds();
    for (SiteIdClashWatch.Clash c : look.confirmed()) {
      SiteIdClashWatch.Identity o = c.other();
      mesh.idClashes.seen(o.address(), o.site(), c.earlier());
      log.warn("{}: the host at {} in site {} has this node's id ({}) too: the two overwrite each other's rollout records "
          + "in every site. {} Give each host its own --node-id (node-id in its config), unique across all sites",
          id, o.address(), o.site(), id, c.earlier()
              ? "It came first: unless it goes within " + grace + " s, this node leaves the mesh."
              : "As the later one, it leaves the mesh within " + grace + " s.");
    }
    if (look.leaveFor().isEmpty()) {
      return false;
    }
    SiteIdClashWatch.Identity other = look.leaveFor().get();
    mesh.idClashes.left(other.address(), other.site());
    log.error("{}: leaving the mesh: the host at {} in site {} has this node's id ({}) and came first. This node serves what it "
        + "holds and takes publishes on its own (cluster state DUPLICATE_ID) until it is restarted with an id of its own "
        + "(--node-id, or node-id in its config)", id, other.address(), other.site(), id);
    return true;
  }

  /**
   * The caches whose topology the coordinator watches: {@code CONFIG}, which every cache manager joins
   * first, and the mesh's two caches, whose joins can wait behind a rebalance that never ends (the rollout
   * soak of 2026-12-04: a restarted member READY but outside both for 29 s while {@code CONFIG} had it).
   */
  static final List<String> WATCHED_CACHES = List.of(InternalCacheNames.CONFIG_STATE_CACHE_NAME, CacheManagers.BUNDLES,
      CacheManagers.RECORDS);

  /**
   * The names of the view members {@code t} has taken in: its members, actual members and pending members.
   * For a cache other than {@code CONFIG} whose rebalancing here is {@link RebalancingStatus#COMPLETE}, every
   * member of the view: no join of it waits, so a member outside has not asked to join yet (its cache
   * start is still to come), which is not a stuck join.
   */
  static Set<String> takenInto(String cache, CacheTopology t, RebalancingStatus rebalancing, Map<java.util.UUID, String> names,
                               Set<String> view) {
    Set<String> in = new HashSet<>();
    if (!cache.equals(InternalCacheNames.CONFIG_STATE_CACHE_NAME) && rebalancing == RebalancingStatus.COMPLETE) {
      in.addAll(view);
      return in;
    }
    java.util.function.Consumer<org.infinispan.remoting.transport.Address> taken = a -> {
      String name = names.get(idOf(a));
      if (name != null) {
        in.add(name);
      }
    };
    t.getMembers().forEach(taken);
    t.getActualMembers().forEach(taken);
    if (t.getPendingCH() != null) {
      t.getPendingCH().getMembers().forEach(taken);
    }
    return in;
  }

  /** One key for a member in Infinispan's topology and in JGroups' view: the UUID both are built on. */
  private static java.util.UUID idOf(org.infinispan.remoting.transport.Address a) {
    return new java.util.UUID(a.getMostSignificantBits(), a.getLeastSignificantBits());
  }

  /** The member's node name (the channel's logical name), or its address where none is known. */
  private static String nameOf(UUID a) {
    String name = org.jgroups.util.NameCache.get(a);
    return name != null ? name : a.toString();
  }

  private static java.util.UUID idOf(UUID a) {
    return new java.util.UUID(a.getMostSignificantBits(), a.getLeastSignificantBits());
  }

  /** Waits {@code d} unless closed first; false if closed. */
  private static boolean pause(InfinispanMesh mesh, Duration d) {
    long end = System.nanoTime() + d.toNanos();
    synchronized (mesh.lock) {
      while (!mesh.closed()) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return true;
        }
        try {
          mesh.lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          return false;
        }
      }
    }
    return false;
  }

  JoinAttempt(InfinispanMesh mesh, int number) {
    this.mesh = mesh;
    this.number = number;
  }

  Outcome run() {
    try {
      long t0 = System.nanoTime();
      ch = JGroupsStack.build(mesh.config, mesh.options.discard(), mesh.trust);
      mesh.countMergeChecksOf(ch);
      long t1 = System.nanoTime();
      m = CacheManagers.create(mesh.config, ch);
      long t2 = System.nanoTime();
      AntiEntropy fresh = mesh.antiEntropyOn(ch);
      siteSync = mesh.siteSyncOn(ch);
      log.debug("{}: attempt {}: stack built in {} ms, cache manager created in {} ms, anti-entropy in {} ms",
          mesh.config.nodeId(), number, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (System.nanoTime() - t2) / 1_000_000);
      // after anti-entropy's listener; JGroups calls both at the end of connect, holding the channel's
      // lock (so nothing may wait here: the fork channel's connect needs that lock)
      ch.addChannelListener(new ChannelListener() {
        @Override
        public void channelConnected(JChannel connected) {
          JoinAttempt.this.channelConnected();
        }
      });
      synchronized (mesh.lock) {
        if (mesh.closed()) {
          fresh.close();
          if (siteSync != null) {
            siteSync.close();
          }
          ch.close();
          return Outcome.CLOSED;
        }
        mesh.channel = ch;
        mesh.manager = m;
        mesh.antiEntropy = fresh;
        ae = fresh;
      }
    } catch (Exception e) {
      log.error("{}: cannot join the mesh on {}: {}", mesh.config.nodeId(), InfinispanMesh.format(mesh.config.bind()), e.toString(), e);
      return Outcome.NEVER_CONNECTED;
    }
    CompletableFuture<Cache<String, byte[]>> started = new CompletableFuture<>();
    worker = new Thread(() -> {
      try {
        m.start();
        if (connected) {
          holding = true; // then the check below: a close either sees this or is seen by it
          if (!mesh.closed()) {
            mesh.options.cacheStartHold().hold(mesh.config.nodeId(), number);
          }
          holding = false;
        }
        endIfClosed();
        Cache<String, byte[]> bundles = CacheManagers.startBundles(m, mesh.config, mesh.options.cacheMode(),
            mesh.options.infinispanMerge() ? mesh.mergePolicy : null, mesh.siteMergePolicy);
        endIfClosed();
        records = CacheManagers.startRecords(m, mesh.config, mesh.options.cacheMode());
        started.complete(bundles);
      } catch (Throwable t) {
        started.completeExceptionally(t);
      }
    }, "kg-cache-start-" + mesh.config.nodeId() + "-" + number);
    worker.setDaemon(true);
    worker.start();
    Cache<String, byte[]> c;
    try {
      c = awaitStart(started);
    } catch (TimeoutException e) {
      if (mesh.closed()) {
        return Outcome.CLOSED;
      }
      log.warn("{}: cache start attempt {} did not finish within {} ms (channel {}, {}): abandoning it and joining "
          + "again; the node serves from its store and anti-entropy refills it meanwhile. Where it waits:{}",
          mesh.config.nodeId(), number, elapsedMs(), connected ? "connected" : "not connected", e.getMessage(),
          stackOf(worker));
      return Outcome.TIMED_OUT;
    } catch (InterruptedException e) {
      return Outcome.CLOSED; // close() interrupts the starter
    } catch (ExecutionException e) {
      if (mesh.closed()) {
        return Outcome.CLOSED;
      }
      Throwable cause = e.getCause();
      log.error("{}: cannot join the mesh on {}: cache start attempt {} failed after {} ms (channel {}): {}",
          mesh.config.nodeId(), InfinispanMesh.format(mesh.config.bind()), number, elapsedMs(), connected ? "connected" : "not connected",
          cause.toString(), cause);
      return connected ? Outcome.FAILED_AFTER_CONNECT : Outcome.NEVER_CONNECTED;
    }
    mesh.ingest.attach(c);
    c.addListener(new BundleListener(mesh.ingest));
    synchronized (mesh.lock) {
      if (mesh.closed()) {
        return Outcome.CLOSED;
      }
      mesh.cache = c;
      mesh.recordsCache = records;
    }
    mesh.records.attach(records);
    if (!mesh.moveTo(MeshLifecycle.CONNECTED, MeshLifecycle.READY, "cache started, attempt " + number + ", " + elapsedMs()
        + " ms")) {
      return Outcome.CLOSED;
    }
    mesh.ingest.fullScan("start");
    log.info("{}: mesh ready on {}, view {}", mesh.config.nodeId(), InfinispanMesh.format(mesh.config.bind()), ch.view());
    return Outcome.READY;
  }

  /** Inside the manager's start, on its thread: the channel has joined, no cache has started. */
  private void channelConnected() {
    synchronized (mesh.lock) {
      if (!abandoned && mesh.moveTo(MeshLifecycle.CONNECTING, MeshLifecycle.CONNECTED, "channel joined, attempt "
          + number + ", " + elapsedMs() + " ms, view " + ch.view())) {
        connected = true;
      }
    }
  }

  /**
   * Waits for the cache start until {@link InfinispanMesh.Options#cacheStartBound()}, or {@link InfinispanMesh#JOIN_AFTER_LOSS}
   * after a view that lost a member or made this node the coordinator ({@link #shortenWait}), whichever
   * comes first: a member of the cache topology that leaves
   * while this node's join waits in the coordinator's rebalance queue makes Infinispan 16.1.4 queue a
   * rebalance of the remaining topology members only ({@code PreferAvailabilityStrategy
   * .onClusterViewChange}), which drops the joiner; nothing admits it until another member joins
   * (docs/replication.md, "Start and rejoin"). A restarted node's own killed incarnation is such a member.
   */
  private Cache<String, byte[]> awaitStart(CompletableFuture<Cache<String, byte[]>> started)
      throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = startedNanos + mesh.options.cacheStartBound().toNanos();
    while (true) {
      long shortened = shortenedAtNanos;
      boolean afterLoss = shortened != 0 && shortened + InfinispanMesh.JOIN_AFTER_LOSS.toNanos() - deadline < 0;
      long left = (afterLoss ? shortened + InfinispanMesh.JOIN_AFTER_LOSS.toNanos() : deadline) - System.nanoTime();
      if (left <= 0) {
        throw new TimeoutException(afterLoss
            ? shortenedBecause + " " + InfinispanMesh.JOIN_AFTER_LOSS.toMillis() + " ms before and the join is still waiting"
            : "the bound is " + mesh.options.cacheStartBound().toMillis() + " ms");
      }
      try {
        return started.get(Math.min(left, InfinispanMesh.POLL.toNanos()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException notYet) {
        // look at shortenedAtNanos again
      }
    }
  }

  /**
   * A view arrived after which the start is not expected to finish by itself (a member left it, or it
   * made this starting node the coordinator): wait at most {@link InfinispanMesh#JOIN_AFTER_LOSS} more
   * (anti-entropy's thread). The first reason is kept for the log.
   */
  void shortenWait(String why) {
    if (shortenedAtNanos == 0) {
      shortenedBecause = why;
      shortenedAtNanos = System.nanoTime();
    }
  }

  long elapsedMs() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
  }

  /**
   * Stops this attempt's anti-entropy, cache manager and channel, each bounded; the port is free after.
   * Its caches are let go of first, so nothing reads or writes them while they stop.
   */
  void abandon() {
    synchronized (mesh.lock) {
      abandoned = true;
      if (mesh.channel == ch) {
        if (mesh.cache != null) {
          mesh.ingest.detach();
        }
        mesh.cache = null;
        if (mesh.recordsCache != null) {
          mesh.recordsCache = null;
          mesh.records.detach();
        }
      }
    }
    if (ae != null) {
      ae.close();
    }
    if (siteSync != null) {
      siteSync.close();
    }
    if (worker != null) {
      worker.interrupt(); // ends a hold; Infinispan's own waits end when its transport stops
    }
    if (m != null) {
      mesh.stopBounded(m, "attempt " + number);
    }
    if (ch != null && ch.isOpen()) {
      ch.close();
    }
  }

  /** On the worker: a closed mesh starts no more caches (close() waits for this thread, then stops the manager). */
  private void endIfClosed() throws InterruptedException {
    if (mesh.closed()) {
      throw new InterruptedException("the mesh closed while its caches started");
    }
  }

  private static String stackOf(Thread t) {
    StringBuilder b = new StringBuilder();
    StackTraceElement[] frames = t.getStackTrace();
    for (int i = 0; i < Math.min(frames.length, 25); i++) {
      b.append("\n\tat ").append(frames[i]);
    }
    return b.toString();
  }
}
