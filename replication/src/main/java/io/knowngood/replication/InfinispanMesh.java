package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.VerifiedBundle;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.infinispan.Cache;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.context.Flag;
import org.infinispan.factories.ComponentRegistry;
import org.infinispan.xsite.XSiteAdminOperations;
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
  static final Logger log = LoggerFactory.getLogger(InfinispanMesh.class);

  final MeshConfig config;
  private final LocalBundles local;
  private final Clock clock;
  final Options options;
  private final Counters counters = new Counters();
  /** This node's mesh TLS handshakes that failed (none without TLS). */
  final TlsRefusals tlsRefusals;
  /** The mesh CA's revocation list in force, and the mesh connections it may close (none without TLS). */
  final Revocations revocations;
  /** Both, for every channel this mesh builds. */
  final JGroupsStack.Trust trust;
  /** Members seen with this node's id at another address. */
  final IdClashes idClashes;
  /** Per-member records in the {@code records} cache; works alone until the cache has started. */
  final ReplicatedRecords records;
  final Ingest ingest;
  final HighestVerifiedMergePolicy mergePolicy;
  final HighestVerifiedSiteMergePolicy siteMergePolicy;
  final Object lock = new Object();

  final AtomicReference<MeshLifecycle> lifecycle = new AtomicReference<>(MeshLifecycle.NEW);
  volatile JChannel channel;
  volatile DefaultCacheManager manager;
  volatile Cache<String, byte[]> cache;
  volatile Cache<String, byte[]> recordsCache;
  volatile AntiEntropy antiEntropy;
  /** When each other site was last heard from; null without a site. */
  final SiteContacts siteContacts;
  private volatile Instant lastContact;
  private Thread starter;
  volatile JoinAttempt current;
  /** The last view anti-entropy reported (its thread only). */
  volatile View lastView;

  /** The longest a cache start may take before it is abandoned and the mesh joined again (see docs/replication.md, "Rejoin"). */
  static final Duration CACHE_START_BOUND = Duration.ofSeconds(30);
  /** The longest an abandoned attempt's cache manager may take to stop before its channel is closed directly. */
  static final Duration STOP_BOUND = Duration.ofSeconds(10);
  /**
   * On close, the longest the mesh waits for its cache manager's start to end by itself (a channel that
   * joins, or finds no one within the join timeout, ends it in 1-2 s) before it stops it in the middle.
   */
  static final Duration START_END_BOUND = Duration.ofSeconds(5);
  /**
   * The longest {@link #close} waits in all, for the starter, the start's end and the manager's stop
   * together (each also within its own bound), so that a node's whole stop stays within the unit's
   * {@code TimeoutStopSec} (20 s; docs/kgnode.md): past it the rest is cut short and the channel closed.
   */
  static final Duration CLOSE_BOUND = Duration.ofSeconds(10);
  /** Pause before an attempt that failed with an error (not a timeout) is made again. */
  static final Duration RETRY_PAUSE = Duration.ofSeconds(1);
  /**
   * How long a cache start may still take after a view that lost a member before it is retried (the
   * dropped-joiner race, see {@code JoinAttempt.awaitStart}); joins here finish within a few hundred ms of
   * such a view.
   */
  static final Duration JOIN_AFTER_LOSS = Duration.ofSeconds(5);
  static final Duration POLL = Duration.ofMillis(100);
  /** How often a READY coordinator looks for members stuck joining ({@code JoinAttempt.watchCoordination}). */
  static final Duration WATCH_INTERVAL = Duration.ofSeconds(2);
  /**
   * How long a member may be in the coordinator's view without being in its CONFIG topology (or in the
   * bundles or records topology while that cache's rebalance is not complete) before the coordinator
   * hands over: a join takes it in within a second, and below the joiner's own
   * {@link #CACHE_START_BOUND} (a joiner that gives up first joins again as a new member).
   */
  static final Duration STUCK_JOIN = Duration.ofSeconds(12);
  /** At most one hand-over of coordination in this long, so a mistaken one cannot become a loop. */
  static final Duration HAND_OVER_SPACING = Duration.ofSeconds(60);
  private static final Duration RECORDS_RECENT = Duration.ofNanos(ReplicatedRecords.RECENT_NANOS);
  /**
   * How long a member with this node's id that joined first must stay in view before this node leaves the
   * mesh for it ({@link IdClashWatch}): a previous process of this host at another address is removed by
   * the failure detector well within it (failure timeout plus suspect check, 2.5 s on a LAN).
   */
  static final Duration ID_CLASH_GRACE = Duration.ofSeconds(10);
  private long lastHandOverNanos; // guarded by lock
  private boolean handedOver; // guarded by lock

  /**
   * Knobs that are not configuration: the replication mode (asynchronous in production, see
   * docs/replication.md for the measurement), a DISCARD protocol for in-process partitions, whether
   * anti-entropy runs (tests switch it off to show what Infinispan's merge does alone), how long a
   * cache start may take before it is retried, a hold of the cache start (tests, the failpoint), and
   * how long a changed record is written again at every round (tests set zero to see what else repairs),
   * how long a member with this node's id that joined first stays in view before this node leaves, and how
   * long a backup to another site stays offline while that site answers ({@link OfflineBackups}).
   */
  record Options(CacheMode cacheMode, boolean discard, boolean antiEntropy, boolean infinispanMerge,
                 Duration cacheStartBound, CacheStartHold cacheStartHold, Duration stuckJoin, Duration recordsRecent,
                 Duration idClashGrace, Duration reviveBackupsAfter) {
    Options {
      if (reviveBackupsAfter.isNegative() || reviveBackupsAfter.isZero()) {
        throw new IllegalArgumentException("reviveBackupsAfter must be positive");
      }
      if (idClashGrace.isNegative() || idClashGrace.isZero()) {
        throw new IllegalArgumentException("idClashGrace must be positive");
      }
      if (recordsRecent.isNegative()) {
        throw new IllegalArgumentException("recordsRecent must not be negative");
      }
      if (cacheStartBound.isNegative() || cacheStartBound.isZero()) {
        throw new IllegalArgumentException("cacheStartBound must be positive");
      }
      if (stuckJoin.isNegative() || stuckJoin.isZero()) {
        throw new IllegalArgumentException("stuckJoin must be positive");
      }
    }

    Options(CacheMode cacheMode, boolean discard, boolean antiEntropy, boolean infinispanMerge) {
      this(cacheMode, discard, antiEntropy, infinispanMerge, CACHE_START_BOUND, CacheStartHold.NONE, STUCK_JOIN, RECORDS_RECENT,
          ID_CLASH_GRACE, OfflineBackups.REVIVE_AFTER);
    }

    /** The failpoint {@value CacheStartHold#FAILPOINT} is read here, once. */
    static Options production() {
      return new Options(CacheMode.REPL_ASYNC, false, true, true, CACHE_START_BOUND, CacheStartHold.fromSystemProperty(),
          STUCK_JOIN, RECORDS_RECENT, ID_CLASH_GRACE, OfflineBackups.REVIVE_AFTER);
    }

    Options withCacheStart(Duration bound, CacheStartHold hold) {
      return new Options(cacheMode, discard, antiEntropy, infinispanMerge, bound, hold, stuckJoin, recordsRecent, idClashGrace,
          reviveBackupsAfter);
    }

    Options withStuckJoin(Duration bound) {
      return new Options(cacheMode, discard, antiEntropy, infinispanMerge, cacheStartBound, cacheStartHold, bound, recordsRecent,
          idClashGrace, reviveBackupsAfter);
    }

    Options withRecordsRecent(Duration recent) {
      return new Options(cacheMode, discard, antiEntropy, infinispanMerge, cacheStartBound, cacheStartHold, stuckJoin, recent,
          idClashGrace, reviveBackupsAfter);
    }

    Options withIdClashGrace(Duration grace) {
      return new Options(cacheMode, discard, antiEntropy, infinispanMerge, cacheStartBound, cacheStartHold, stuckJoin,
          recordsRecent, grace, reviveBackupsAfter);
    }

    Options withReviveBackupsAfter(Duration after) {
      return new Options(cacheMode, discard, antiEntropy, infinispanMerge, cacheStartBound, cacheStartHold, stuckJoin,
          recordsRecent, idClashGrace, after);
    }
  }

  private volatile boolean handOverRequested;

  /** Test seam: the next look of a READY mesh hands over coordination (whether it coordinates or not). */
  void requestHandOver() {
    handOverRequested = true;
  }

  boolean takeHandOverRequest() {
    if (!handOverRequested) {
      return false;
    }
    handOverRequested = false;
    return mayHandOver(System.nanoTime());
  }

  /** True (and remembered) if no hand-over of coordination happened in the last {@link #HAND_OVER_SPACING}. */
  boolean mayHandOver(long nowNanos) {
    synchronized (lock) {
      if (handedOver && nowNanos - lastHandOverNanos < HAND_OVER_SPACING.toNanos()) {
        return false;
      }
      handedOver = true;
      lastHandOverNanos = nowNanos;
      counters.handOvers.increment();
      return true;
    }
  }

  InfinispanMesh(MeshConfig config, BundleVerifier verifier, LocalBundles local, Clock clock, Options options) {
    this.config = config;
    this.local = local;
    this.clock = clock;
    this.options = options;
    this.tlsRefusals = new TlsRefusals(config.nodeId(), clock);
    this.revocations = config.security() instanceof MeshConfig.Tls tls && tls.revocationFile().isPresent()
        ? Revocations.of(config.nodeId(), tls.revocationFile().get(), tls.keptListFile().orElse(null), tls.credentials(), tlsRefusals)
        : Revocations.none(config.nodeId(), tlsRefusals);
    this.trust = new JGroupsStack.Trust(tlsRefusals, revocations);
    this.idClashes = new IdClashes(clock);
    this.records = new ReplicatedRecords(config.nodeId(), counters, config.timings().antiEntropyInterval(),
        options.recordsRecent(), System::nanoTime);
    revocations.share(records);
    this.ingest = new Ingest(config.nodeId(), verifier, local, counters, this::held);
    this.mergePolicy = new HighestVerifiedMergePolicy(verifier, counters);
    this.siteMergePolicy = config.site().isPresent() ? HighestVerifiedSiteMergePolicy.install(verifier, counters)
        : new HighestVerifiedSiteMergePolicy(verifier, counters);
    this.siteContacts = config.site().map(s -> new SiteContacts(s.others(), clock)).orElse(null);
    Duration round = config.timings().antiEntropyInterval().plus(config.timings().antiEntropyJitter());
    Duration fresh = round.multipliedBy(3).compareTo(SiteContacts.ONLINE_WITHIN) > 0 ? round.multipliedBy(3) : SiteContacts.ONLINE_WITHIN;
    this.offlineBackups = new OfflineBackups(config.nodeId(), options.reviveBackupsAfter(), fresh);
    this.siteIdentity = config.site().map(s -> new SiteIdClashWatch.Identity(s.name(), format(config.bind()), clock.millis()));
    siteIdentity.ifPresent(i -> {
      records.putOwn(SiteIdClashWatch.KEY, i.encode());
      records.watchOverwrites(SiteIdClashWatch.KEY);
    });
  }

  /** In a mesh with sites: this member's identity record, how a host in another site with its id is told apart. */
  final Optional<SiteIdClashWatch.Identity> siteIdentity;

  /** The one place the lifecycle moves: a compare-and-set along an allowed edge, logged. */
  boolean moveTo(MeshLifecycle from, MeshLifecycle to, String why) {
    if (!from.canMoveTo(to)) {
      throw new IllegalStateException("mesh lifecycle cannot move " + from + " -> " + to);
    }
    if (!lifecycle.compareAndSet(from, to)) {
      return false;
    }
    log.info("{}: mesh {} -> {}{}", config.nodeId(), from, to, why.isEmpty() ? "" : " (" + why + ")");
    return true;
  }

  boolean closed() {
    return lifecycle.get() == MeshLifecycle.CLOSED;
  }

  @Override
  public void start() {
    synchronized (lock) {
      if (!moveTo(MeshLifecycle.NEW, MeshLifecycle.CONNECTING, "attempt 1")) {
        return;
      }
      if (config.security() instanceof MeshConfig.Plaintext) {
        log.warn("{}: PLAINTEXT cluster transport on {}: no encryption, no authentication, anyone who reaches the port "
            + "can join and publish to the cache. For trying out on one host only; use TLS with mesh CA certificates.",
            config.nodeId(), format(config.bind()));
      }
      records.startTicking();
      revocations.start();
      starter = new Thread(() -> JoinAttempt.untilReady(this), "kg-mesh-start-" + config.nodeId());
      starter.setDaemon(true);
      starter.start();
    }
  }

  /** Anti-entropy on this attempt's channel: the fork channel is prepared now and connects with the channel. */
  AntiEntropy antiEntropyOn(JChannel ch) throws Exception {
    AntiEntropy ae = new AntiEntropy(config.nodeId(), ch, local, ingest, counters, config.timings(), this::viewChanged,
        this::wakePublishers);
    ae.checkRecordsWith(records);
    ae.prepare();
    // Anti-entropy needs the channel, not the cache: it starts the moment the channel has joined,
    // so a node whose cache start is slow (it has taken minutes after a restart, docs/chaos.md) is
    // refilled by pulls meanwhile instead of discarding every message ("fork-channel not found").
    ch.addChannelListener(new ChannelListener() {
      @Override
      public void channelConnected(JChannel connected) {
        ae.startWhenConnected(options.antiEntropy());
      }
    });
    return ae;
  }

  /** Cross-site anti-entropy on this attempt's channel when this mesh is a site (else null); prepared before it connects. */
  SiteSync siteSyncOn(JChannel ch) throws Exception {
    if (config.site().isEmpty()) {
      return null;
    }
    SiteSync s = new SiteSync(config.nodeId(), ch, config.site().get(), local, ingest, counters, siteContacts,
        config.timings(), this::reviveBackups);
    s.prepare();
    return s;
  }

  private final OfflineBackups offlineBackups;

  /**
   * Each SiteSync round: backups Infinispan took offline to a site that answers come back (OfflineBackups).
   * Infinispan drops what is written while a backup is offline; SiteSync repairs the bundles, and the
   * records are pushed whole (cross-site state transfer), or a record written meanwhile would never cross.
   */
  private void reviveBackups() {
    List<SiteInfo> sites = siteContacts.snapshot();
    for (Cache<String, byte[]> c : java.util.Arrays.asList(cache, recordsCache)) {
      if (c == null) {
        continue;
      }
      XSiteAdminOperations admin = ComponentRegistry.of(c).getComponent(XSiteAdminOperations.class);
      if (admin == null) {
        continue;
      }
      offlineBackups.check(new OfflineBackups.Backups() {
        @Override
        public String cache() {
          return c.getName();
        }

        @Override
        public boolean offline(String site) {
          return XSiteAdminOperations.OFFLINE.equals(admin.siteStatus(site));
        }

        @Override
        public void bringOnline(String site) {
          if (c == recordsCache) {
            // no anti-entropy carries records across sites: what was written while offline goes now
            String result = admin.pushState(site);
            if (XSiteAdminOperations.SUCCESS.equals(result)) {
              log.info("{}: sending this site's records to site {} (cross-site state transfer)", config.nodeId(), site);
            } else {
              log.warn("{}: sending this site's records to site {} did not start: {}", config.nodeId(), site, result);
            }
          } else {
            admin.bringSiteOnline(site); // SiteSync carries what was published meanwhile
          }
        }
      }, sites, System.nanoTime());
    }
  }

  @Override
  public Optional<String> site() {
    return config.site().map(MeshConfig.Site::name);
  }

  @Override
  public List<SiteInfo> sites() {
    if (siteContacts == null) {
      return List.of();
    }
    long now = System.nanoTime();
    return siteContacts.snapshot().stream().map(s -> s.withOfflineBackups(offlineBackups.offlineTo(s.name(), now))).toList();
  }

  void stopBounded(DefaultCacheManager m, String what) {
    stopBounded(m, what, STOP_BOUND);
  }

  /** Stops {@code m} on a thread of its own, waiting at most {@code bound} for it. */
  private void stopBounded(DefaultCacheManager m, String what, Duration bound) {
    long t0 = System.nanoTime();
    Thread stopper = new Thread(() -> {
      try {
        m.stop();
      } catch (RuntimeException e) {
        log.debug("{}: stopping the cache manager of {}: {}", config.nodeId(), what, e.toString());
      }
    }, "kg-cache-stop-" + config.nodeId());
    stopper.setDaemon(true);
    stopper.start();
    if (bound.isZero()) {
      return; // not waited for: the caller says why
    }
    try {
      stopper.join(Math.max(1, bound.toMillis()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    if (stopper.isAlive()) {
      log.warn("{}: the cache manager of {} did not stop within {} ms; closing its channel directly", config.nodeId(),
          what, ms);
    } else {
      log.info("{}: stopped the cache manager of {} in {} ms", config.nodeId(), what, ms);
    }
  }

  /** Whether {@code self} coordinates {@code now}, with others in it, but did not coordinate {@code before}. */
  static boolean becameCoordinator(View before, View now, Address self) {
    return self != null && now.size() > 1 && self.equals(now.getCoord()) && !self.equals(before.getCoord());
  }

  private void viewChanged(View v) {
    if (v.size() > 1) {
      lastContact = clock.instant();
    } else if (lastContact != null) {
      lastContact = clock.instant();
    }
    log.info("{}: view {}", config.nodeId(), v);
    View previous = lastView;
    lastView = v;
    JoinAttempt a = current;
    records.membershipChanged();
    if (previous != null && a != null && lifecycle.get() == MeshLifecycle.CONNECTED) {
      if (!v.getMembers().containsAll(previous.getMembers())) {
        a.shortenWait("a member left the view");
      } else if (becameCoordinator(previous, v, channel == null ? null : channel.getAddress())) {
        // Infinispan's new coordinator recovers the cluster's topologies while its own internal caches
        // are still starting: in the soak (2026-12-02) a joiner that a merge made coordinator held its
        // start for the whole 30 s bound; its second attempt, joining as a member, was ready in 0.4 s
        a.shortenWait("a merge made this starting node the coordinator");
      }
    }
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
    return awaitHolders(send(bundle));
  }

  @Override
  public Publishing send(VerifiedBundle bundle) {
    long deadline = System.nanoTime() + config.publishTimeout().toNanos();
    String name = bundle.name();
    Cache<String, byte[]> c = cache;
    AntiEntropy ae = antiEntropy;
    MeshLifecycle now = lifecycle.get();
    boolean withCache = now == MeshLifecycle.READY && c != null;
    // CONNECTED: no cache yet, but anti-entropy runs: the have below makes the members pull it
    if (!withCache && (now != MeshLifecycle.CONNECTED || ae == null)) {
      return new Publishing(bundle, deadline, false);
    }
    byte[] archive = bundle.sharedArchive();
    VersionStamp stamp = Ingest.stampOf(bundle);
    if (withCache && AntiEntropy.pushes(archive) && config.site().isEmpty() && options.antiEntropy()) {
      // The push below carries the archive to every member, each of which writes its own cache copy
      // once it has verified and stored it: a replicated put would send it a second time (twice more
      // through the key's primary owner). So this node's copy is written here only. (Members take a
      // push only while anti-entropy runs: with it switched off, a test option, the put carries it.)
      ingest.publishedLocally(name, archive, stamp);
    } else if (withCache) {
      // too large to push, or sites (the put also feeds Infinispan's backup to the other sites)
      putAsync(c, name, archive, stamp, bundle.version());
    }
    ae.broadcastPublished(name, stamp, archive);
    return new Publishing(bundle, deadline, true);
  }

  @Override
  public PublishOutcome awaitHolders(Publishing sent) {
    VerifiedBundle bundle = sent.bundle();
    String name = bundle.name();
    if (!sent.sent()) {
      return new PublishOutcome(name, bundle.version(), 1, 1, false);
    }
    VersionStamp stamp = Ingest.stampOf(bundle);
    synchronized (lock) {
      while (true) {
        int[] counts = holders(name, stamp);
        long left = sent.deadlineNanos() - System.nanoTime();
        if (counts[0] >= counts[1] || left <= 0 || closed()) {
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

  private void putAsync(Cache<String, byte[]> c, String name, byte[] archive, VersionStamp stamp, long version) {
    ingest.published(name, archive, stamp);
    // Never wait for the put: after a merge Infinispan holds a command until the cache topology is
    // installed (up to remoteTimeout, ISPN000071), and the store already holds the bundle. The have
    // makes the others pull it if the put is late or fails.
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
  }

  /**
   * {members holding the published copy (self included), members in view}. A member counts only if
   * what it announced (its have, its digest, or a digest hash equal to this node's) is the exact stamp
   * this node holds, version and manifest digest: a higher version or the other bundle of a
   * same-version tie is not this copy. If this node itself no longer holds the published copy because
   * it lost a same-version tie (the mesh keeps the lower manifest digest), nobody is counted: that
   * publish did not take.
   */
  /**
   * The newer of the channel's view and the newest one anti-entropy was given: JGroups 5.5.2 can deliver
   * an older view after a newer one, and the channel then keeps the older (see {@code AntiEntropy.viewAccepted}).
   */
  View newestView(JChannel ch) {
    View cv = ch.view();
    View seen = lastView;
    if (seen == null || cv == null) {
      return cv == null ? seen : cv;
    }
    return seen.getViewId().compareToIDs(cv.getViewId()) > 0 ? seen : cv;
  }

  private int[] holders(String name, VersionStamp published) {
    JChannel ch = channel;
    View v = ch == null ? null : newestView(ch);
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
    MeshLifecycle now = lifecycle.get();
    View v = now == MeshLifecycle.READY && ch != null ? newestView(ch) : null;
    String self = config.nodeId();
    List<InetSocketAddress> others = new ArrayList<>(config.expectedMembers());
    others.remove(config.bind());
    if (v == null) {
      // a mesh that could not start (port taken, bad credentials) reports STOPPED; the error is in the log
      boolean stopped = now == MeshLifecycle.CLOSED || now == MeshLifecycle.FAILED;
      MeshState state = now == MeshLifecycle.DUPLICATE_ID ? MeshState.DUPLICATE_ID
          : stopped ? MeshState.STOPPED : MeshState.STARTING;
      return new MeshView(self, state, List.of(new MemberInfo(self, format(config.bind()), true)), Optional.empty(),
          !others.isEmpty() && now != MeshLifecycle.CLOSED, Optional.ofNullable(lastContact));
    }
    List<MemberInfo> members = new ArrayList<>();
    Set<InetSocketAddress> present = new HashSet<>();
    int unknown = 0;
    ReconnectingFdAll3 fd = ch.getProtocolStack().findProtocol(ReconnectingFdAll3.class);
    Set<Address> silent = fd == null ? Set.of() : fd.silent();
    boolean anySilent = false;
    for (Address a : v.getMembers()) {
      boolean isSelf = a.equals(ch.getAddress());
      InetSocketAddress physical = isSelf ? config.bind() : physicalOf(ch, a);
      if (physical != null) {
        present.add(physical);
      } else {
        unknown++;
      }
      boolean isSilent = !isSelf && silent.contains(a);
      anySilent |= isSilent;
      members.add(new MemberInfo(isSelf ? self : AntiEntropy.nameOf(a), physical == null ? "?" : format(physical), isSelf,
          isSilent));
    }
    boolean partitioned = partitioned(others, present, unknown) || anySilent;
    MeshState state = closed() ? MeshState.STOPPED
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
    if (ae != null && ch != null && lifecycle.get() == MeshLifecycle.READY) {
      Map<Address, Map<String, VersionStamp>> digests = ae.digests();
      for (Address a : newestView(ch).getMembers()) {
        if (!a.equals(ch.getAddress())) {
          out.put(AntiEntropy.nameOf(a), digests.getOrDefault(a, Map.of()));
        }
      }
    }
    return out;
  }

  @Override
  public MeshRecords records() {
    return records;
  }

  /** Counts into this mesh's stats what {@code ch}'s MERGE3 ({@link ResumingMerge3}) keeps from stopping. */
  void countMergeChecksOf(JChannel ch) {
    ch.getProtocolStack().<ResumingMerge3>findProtocol(ResumingMerge3.class).countInto(counters);
  }

  @Override
  public MeshStats stats() {
    return counters.snapshot(tlsRefusals.counts(), revocationList());
  }

  @Override
  public List<TlsRefusals.Refusal> tlsRefusals() {
    return tlsRefusals.snapshot();
  }

  /** The mesh CA's revocation list this node looks at ({@code crl.pem}), and what is in force (empty without mesh TLS). */
  Optional<Revocations.Status> revocationList() {
    Revocations.Status s = revocations.status();
    return s.file() == null ? Optional.empty() : Optional.of(s);
  }

  @Override
  public List<IdClashes.Clash> idClashes() {
    return idClashes.snapshot();
  }

  /**
   * Whether some configured peer is missing from the view: each peer must be a member whose physical
   * address is known, or be matched by a member whose address JGroups could not tell this moment
   * (its address cache can miss an entry for a member in view; seen once as a complete, READY view
   * reported PARTITIONED by PropagationBench).
   */
  static boolean partitioned(List<InetSocketAddress> others, Set<InetSocketAddress> present, int unknown) {
    long missing = others.stream().filter(o -> !present.contains(o)).count();
    return missing > unknown;
  }

  static InetSocketAddress physicalOf(JChannel ch, Address a) {
    Object p = ch.down(new Event(Event.GET_PHYSICAL_ADDRESS, a));
    if (p instanceof IpAddress ip) {
      return new InetSocketAddress(ip.getIpAddress(), ip.getPort());
    }
    return null;
  }

  static String format(InetSocketAddress a) {
    String host = IpText.of(a.getAddress());
    return (a.getAddress() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  // --- test seams (package-private) ---

  JChannel channel() {
    return channel;
  }

  Cache<String, byte[]> cache() {
    return cache;
  }

  Cache<String, byte[]> recordsCache() {
    return recordsCache;
  }

  boolean isReady() {
    return lifecycle.get() == MeshLifecycle.READY;
  }

  MeshLifecycle lifecycle() {
    return lifecycle.get();
  }

  /** Waits for {@code t} to end, at most {@code cap} and not past {@code end} ({@link System#nanoTime}). */
  private static void joinWithin(Thread t, Duration cap, long end) {
    long ms = Math.min(cap.toMillis(), TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()));
    if (ms <= 0) {
      return; // join(0) would wait for ever
    }
    try {
      t.join(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  AntiEntropy antiEntropy() {
    return antiEntropy;
  }

  @Override
  public void close() {
    close(CLOSE_BOUND);
  }

  /** {@link #close()} within {@code bound} in all (tests give a short one). */
  void close(Duration bound) {
    long end = System.nanoTime() + bound.toNanos();
    Thread t;
    synchronized (lock) {
      MeshLifecycle now = lifecycle.get();
      while (now != MeshLifecycle.CLOSED && !moveTo(now, MeshLifecycle.CLOSED, "")) {
        now = lifecycle.get();
      }
      if (now == MeshLifecycle.CLOSED) {
        return;
      }
      t = starter;
      lock.notifyAll();
    }
    if (t != null) {
      t.interrupt(); // wakes a starter waiting for a cache start; it leaves the cleanup to us
      joinWithin(t, STOP_BOUND, end);
    }
    // Read after the starter has ended: it starts no worker once the mesh is closed.
    JoinAttempt a = current;
    Thread w = a == null ? null : a.worker;
    if (w != null && a.holding) {
      w.interrupt(); // ends a hold
    }
    if (w != null && w.isAlive()) {
      // A cache manager stopped in the middle of its start, or interrupted there, fails it, and
      // Infinispan logs that as errors with stack traces (ISPN000660, ISPN000710): a stop in a node's
      // first seconds read like a crash. The start ends by itself, the worker starts no more caches, and
      // the manager is stopped whole. One still starting after START_END_BOUND (a join stuck waiting on
      // its coordinator) is stopped in the middle.
      long t0 = System.nanoTime();
      joinWithin(w, START_END_BOUND, end);
      log.info("{}: waited {} ms for the cache manager's start to end before stopping it", config.nodeId(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    }
    AntiEntropy ae = antiEntropy;
    if (ae != null) {
      ae.close();
    }
    JoinAttempt last = current;
    if (last != null && last.siteSync != null) {
      last.siteSync.close();
    }
    ingest.close();
    records.close();
    revocations.close();
    DefaultCacheManager m = manager;
    if (m != null) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        log.warn("{}: the close has taken its {} ms already: the cache manager's stop is not waited for, its channel is "
            + "closed directly", config.nodeId(), bound.toMillis());
      }
      stopBounded(m, "close", Duration.ofNanos(Math.min(STOP_BOUND.toNanos(), Math.max(0, left))));
    }
    JChannel ch = channel;
    if (ch != null && ch.isOpen()) {
      // JChannel.close waits for a connect under way (both hold the channel's lock): a join still looking
      // for its peers would hold the close up to its join timeout, past the bound.
      Thread closer = new Thread(ch::close, "kg-channel-close-" + config.nodeId());
      closer.setDaemon(true);
      closer.start();
      joinWithin(closer, bound, end);
      if (closer.isAlive()) {
        log.warn("{}: the channel did not close within the close's {} ms; it goes on closing while the node exits",
            config.nodeId(), bound.toMillis());
      }
    }
    log.info("{}: mesh stopped", config.nodeId());
  }
}
