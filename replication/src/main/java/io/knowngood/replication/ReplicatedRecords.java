package io.knowngood.replication;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import org.infinispan.AdvancedCache;
import org.infinispan.Cache;
import org.infinispan.context.Flag;
import org.infinispan.distribution.DistributionManager;
import org.infinispan.distribution.LocalizedCacheTopology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link MeshRecords} in the replicated {@code records} cache, keyed {@code memberId|key}.
 *
 * <p>This member's own records are kept in memory ({@link #own}, the source of truth) and pushed to
 * the cache when one is attached; before that (mesh not started, joining, or a cache start abandoned)
 * {@link #putOwn} only changes memory, so it never blocks or fails because of the mesh. A tick
 * re-asserts them: every {@code interval} (and soon after a remote change to one of them) it compares
 * the local copy of the cache with {@link #own} and writes only what differs (a put for a different or
 * missing value, a {@link #TOMBSTONE} for a key under this member's id that it does not hold: a previous
 * incarnation's or one brought back by a merge); after a view or cache topology change (a join, a
 * leave, a split, a merge, and when a cache is attached) it writes every own record and the tombstone
 * of every remembered removal once, when the topology has settled, since a peer's copy may be stale while the
 * local one is right (an asynchronous write lost near the change or in a split). Nothing is written
 * while idle.
 *
 * <p>Peers' records are checked against the limits before readers see them; a record that breaks one
 * is dropped and counted once per (key, value) ({@link #BAD_KEY}, {@link #BAD_VALUE}, {@link #TOO_LARGE},
 * {@link #OVER_LIMIT}). Their accepted copies change on cache events (which re-read the local copy, so
 * their order does not matter) and on a scan of the local copy at every tick, which adds and updates,
 * and drops what the copy no longer holds only once the copy has its state (a fresh cache hides
 * nothing). Records of members that left stay: nobody removes them from the cache. Time comes from
 * {@code nanos}; tests call {@link #tick} themselves.
 *
 * <p>Writes are bounded: at most {@link #WRITE_BURST} at once and {@link #WRITES_PER_SECOND} after
 * that (the cache is asynchronous: a put returns before anyone has it, so nothing else slows a
 * writer, and every put is a multicast each peer's JGroups keeps until all have acknowledged it). A
 * write that finds no token waits in an outbox holding the newest value per key, own changes before
 * re-assertions, drained at every tick; it is counted as deferred.
 */
final class ReplicatedRecords implements MeshRecords, RecordsCheck, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReplicatedRecords.class);
  static final String BAD_KEY = "record_bad_key";
  static final String BAD_VALUE = "record_bad_value";
  static final String TOO_LARGE = "record_too_large";
  static final String OVER_LIMIT = "record_over_limit";
  static final char SEPARATOR = '|';
  /**
   * The value a removed record is overwritten with (a String, never a record's bytes). Not an
   * Infinispan remove: once copies have diverged (after a merge, a restart) a remove was seen not to
   * reach every copy, while a put replaces the value on every copy it reaches.
   */
  static final String TOMBSTONE = "knowngood:removed";
  /** After a membership change, the full re-assertion waits this long without a further change... */
  static final long SETTLE_NANOS = Duration.ofMillis(500).toNanos();
  /** ...but no longer than this after the first. */
  static final long SETTLE_MAX_NANOS = Duration.ofSeconds(3).toNanos();
  /**
   * A changed record is written again at every round for this long after its change, even when the
   * local copy already holds it: a write near a topology change can be lost on a peer while the local
   * copy has it, and when no further view change comes, nothing else would send it again (seen in the
   * rollout soak: a reverted state written by a canary just after its restart reached one peer and
   * not the other for 45 s). Idle (nothing changed for this long): nothing is written.
   */
  static final long RECENT_NANOS = Duration.ofSeconds(30).toNanos();
  /** Refused (cache key, value) pairs remembered so each is counted once; beyond, the set is cleared. */
  static final int MAX_REFUSED_REMEMBERED = 10_000;
  private static final long POLL_MILLIS = 100;
  /**
   * When a peer's copy of this member's records has differed from them for a round in which they did
   * not change ({@link #checkedBy}), they are all written again; at most once per this gap, doubled after each such push
   * while some copy still differs (a copy that never matches costs a push per {@link #REPUSH_GAP_MAX_NANOS}).
   */
  static final long REPUSH_GAP_NANOS = Duration.ofSeconds(10).toNanos();
  static final long REPUSH_GAP_MAX_NANOS = Duration.ofMinutes(5).toNanos();
  /** Peers whose copy differs, remembered at once; beyond, forgotten all (a check costs nothing but a hash). */
  static final int MAX_DIFFERING = 1024;
  /**
   * Writes allowed at once, and per second after that. A full push of a few hundred records goes out
   * at once; a flood (seen in the rollout soak before the repair loop was fixed: 500 writes a second of
   * one record, kept by NAKACK2 on a peer until it ran out of heap) cannot leave a node faster than this.
   */
  static final int WRITE_BURST = 200;
  static final int WRITES_PER_SECOND = 100;

  /** The cache as the records see it: the local copy, and writes that return at once. */
  interface Store {
    /** The local copy's value, or null. */
    Object get(String cacheKey);

    /** Every entry of the local copy. */
    void forEach(BiConsumer<Object, Object> entry);

    /** This member is in the cache topology, the copy has its state and no rebalance runs: what it lacks is really gone. */
    boolean settled();

    /** Returns at once; a failure is logged and repaired by the next round. */
    void put(String cacheKey, byte[] value);

    /** Puts {@link #TOMBSTONE}. */
    void tombstone(String cacheKey);
  }

  private final String selfId;
  private final String selfPrefix;
  private final Counters counters;
  private final long intervalNanos;
  private final long recentNanos;
  private final LongSupplier nanos;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();

  private final Object ownLock = new Object();
  private final Map<String, byte[]> own = new HashMap<>(); // ownLock
  /** When each own record last changed (nanos), for {@link #RECENT_NANOS}. */
  private final Map<String, Long> changedAt = new HashMap<>(); // ownLock
  /** When an own record last changed or was removed (ownLock; {@code ownChanged} false: never). */
  private long lastOwnChange;
  private boolean ownChanged;
  /** The hash of {@link #own}, null after any change (ownLock). */
  private byte[] ownHash;
  /** Keys removed in this incarnation, written again at a full re-assertion (oldest forgotten first). */
  private final LinkedHashSet<String> removed = new LinkedHashSet<>(); // ownLock
  /** Own changes waiting for a write token: cache key -> byte[] or {@link #TOMBSTONE}, oldest first (ownLock). */
  private final LinkedHashMap<String, Object> changesOut = new LinkedHashMap<>();
  /** Re-assertions waiting for a write token, after {@link #changesOut} (ownLock). */
  private final LinkedHashMap<String, Object> reassertionsOut = new LinkedHashMap<>();
  private double tokens = WRITE_BURST; // ownLock
  private long tokensAt; // ownLock

  private final Object peersLock = new Object();
  private final Map<String, Map<String, byte[]>> peers = new HashMap<>(); // peersLock
  private final Map<Object, Integer> refused = new HashMap<>(); // peersLock: cache key -> value hash
  /** {@link #copyHashOf} per member, until its records change here (peersLock). */
  private final Map<String, byte[]> copyHashes = new HashMap<>();

  private final Object schedule = new Object();
  private boolean fullPending; // schedule
  private long fullFirst; // schedule
  private long fullDue; // schedule
  private volatile boolean fixSoon;
  /** Peers whose copy of our records differed at their last check, and since when (schedule). */
  private final Map<String, Long> differsSince = new HashMap<>();
  private long lastRepush; // schedule
  private long repushGap; // schedule: 0 until the first push
  private long nextRound; // tick thread
  private boolean roundScheduled; // tick thread

  private volatile Store store;
  private volatile Thread thread;
  private volatile boolean closed;

  ReplicatedRecords(String selfId, Counters counters, Duration interval, LongSupplier nanos) {
    this(selfId, counters, interval, Duration.ofNanos(RECENT_NANOS), nanos);
  }

  /** {@code recent}: how long a changed record is written again at every round ({@link #RECENT_NANOS} in production). */
  ReplicatedRecords(String selfId, Counters counters, Duration interval, Duration recent, LongSupplier nanos) {
    this.recentNanos = recent.toNanos();
    this.selfId = selfId;
    this.selfPrefix = selfId + SEPARATOR;
    this.counters = counters;
    this.intervalNanos = interval.toNanos();
    this.nanos = nanos;
    this.tokensAt = nanos.getAsLong();
  }

  // --- MeshRecords ---

  @Override
  public PutResult putOwn(String key, byte[] value) {
    Objects.requireNonNull(value, "value");
    if (key == null || !KEY.matcher(key).matches()) {
      return PutResult.BAD_KEY;
    }
    if (value.length > MAX_VALUE_BYTES) {
      return PutResult.VALUE_TOO_LARGE;
    }
    synchronized (ownLock) {
      byte[] old = own.get(key);
      if (old != null && Arrays.equals(old, value)) {
        return PutResult.UNCHANGED;
      }
      if (old == null && own.size() >= MAX_RECORDS_PER_MEMBER) {
        return PutResult.TOO_MANY_RECORDS;
      }
      byte[] copy = value.clone();
      own.put(key, copy);
      watched.replace(key, copy);
      changedAt.put(key, nanos.getAsLong());
      lastOwnChange = nanos.getAsLong();
      ownChanged = true;
      ownHash = null;
      removed.remove(key);
      Store s = store;
      if (s != null) {
        write(s, key, copy, true);
      }
    }
    fire(key, selfId);
    return PutResult.STORED;
  }

  @Override
  public void removeOwn(String key) {
    if (key == null) {
      return;
    }
    synchronized (ownLock) {
      if (own.remove(key) == null) {
        return;
      }
      watched.replace(key, new byte[0]);
      changedAt.remove(key);
      lastOwnChange = nanos.getAsLong();
      ownChanged = true;
      ownHash = null;
      remember(key);
      Store s = store;
      if (s != null) {
        write(s, key, TOMBSTONE, true);
      }
    }
    fire(key, selfId);
  }

  @Override
  public Map<String, Map<String, byte[]>> snapshot() {
    Map<String, Map<String, byte[]>> all = new HashMap<>();
    synchronized (peersLock) {
      peers.forEach((member, records) -> records.forEach((key, value) ->
          all.computeIfAbsent(key, k -> new HashMap<>()).put(member, value.clone())));
    }
    synchronized (ownLock) {
      own.forEach((key, value) -> all.computeIfAbsent(key, k -> new HashMap<>()).put(selfId, value.clone()));
    }
    return all;
  }

  @Override
  public Map<String, byte[]> of(String key) {
    Map<String, byte[]> members = new HashMap<>();
    synchronized (peersLock) {
      peers.forEach((member, records) -> {
        byte[] value = records.get(key);
        if (value != null) {
          members.put(member, value.clone());
        }
      });
    }
    synchronized (ownLock) {
      byte[] value = own.get(key);
      if (value != null) {
        members.put(selfId, value.clone());
      }
    }
    return members;
  }

  @Override
  public String selfId() {
    return selfId;
  }

  @Override
  public void addListener(Listener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  // --- the cache ---

  /** The records cache has started: listen to it, and push every own record soon. */
  void attach(Cache<String, byte[]> cache) {
    cache.addListener(new RecordsListener(this));
    attach(new CacheStore(cache));
  }

  void attach(Store s) {
    synchronized (ownLock) {
      store = s;
      clearOutbox(); // waiting writes were for another copy: the full push below writes everything
    }
    synchronized (schedule) {
      fullPending = true;
      fullFirst = nanos.getAsLong();
      fullDue = fullFirst;
    }
    wake();
  }

  /** The attempt that started this cache was abandoned. */
  void detach() {
    synchronized (ownLock) {
      store = null;
      clearOutbox();
    }
  }

  /**
   * A view or the cache topology changed: push everything once things settle. Asynchronous writes near
   * a topology change can be lost on the peers while the local copy has them (seen in
   * {@code RecordsClusterTest} with this push switched off), which a round cannot see.
   */
  void membershipChanged() {
    long now = nanos.getAsLong();
    synchronized (schedule) {
      if (!fullPending) {
        fullPending = true;
        fullFirst = now;
      }
      long settled = now + SETTLE_NANOS;
      long latest = fullFirst + SETTLE_MAX_NANOS;
      fullDue = settled - latest < 0 ? settled : latest;
    }
  }

  /** State arrived or a copy may have changed without an event: scan soon. */
  void rescanSoon() {
    fixSoon = true;
    wake();
  }

  /** A cache event (any thread): re-read the local copy, so late or reordered events do no harm. */
  void cacheChanged(Object cacheKey, boolean originLocal) {
    if (cacheKey instanceof String k && k.startsWith(selfPrefix)) {
      Store s = store;
      if (s == null) {
        return;
      }
      String key = k.substring(selfPrefix.length());
      if (!originLocal && !holdsOwn(key, s.get(k))) {
        rescanSoon(); // someone else changed one of ours (a merge): compare and repair
      }
      byte[] mine = watched.get(key);
      // a backup from another site is written here as a local write: only the value tells it. No lock
      // here: this runs on Infinispan's notification threads
      if (mine != null && s.get(k) instanceof byte[] copy && !Arrays.equals(copy, mine)) {
        noteOverwrite(key, copy);
      }
      return;
    }
    Store s = store;
    if (s == null) {
      return;
    }
    if (!(cacheKey instanceof String key)) {
      synchronized (peersLock) {
        refuse(cacheKey, null, BAD_KEY);
      }
      return;
    }
    Object value = s.get(key);
    List<String[]> changes = new ArrayList<>(1);
    synchronized (peersLock) {
      if (value == null || TOMBSTONE.equals(value)) {
        forget(cacheKey, changes);
      } else {
        offer(cacheKey, value, null, changes);
      }
      changes.forEach(c -> copyHashes.remove(c[1]));
    }
    changes.forEach(c -> fire(c[0], c[1]));
  }

  // --- the check (anti-entropy carries the hashes) ---

  @Override
  public byte[] copyHashOf(String member) {
    Store s = store;
    if (s == null || !s.settled()) {
      return null; // a copy still receiving its state would only ask the member to write everything again
    }
    synchronized (peersLock) {
      byte[] cached = copyHashes.get(member);
      if (cached != null) {
        return cached;
      }
      // hashed under the lock: at most once per change of the member's records (values are never mutated)
      byte[] hash = hashOf(peers.getOrDefault(member, Map.of()));
      if (peers.containsKey(member) || copyHashes.size() < MAX_DIFFERING) {
        copyHashes.put(member, hash);
      }
      return hash;
    }
  }

  @Override
  public void checkedBy(String member, byte[] hash) {
    if (member == null || member.equals(selfId) || store == null) {
      return; // before the cache is attached there is nothing to write to (the attach pushes everything)
    }
    long now = nanos.getAsLong();
    boolean churning;
    byte[] mine;
    int count;
    synchronized (ownLock) {
      churning = ownChanged && now - lastOwnChange < intervalNanos;
      if (ownHash == null) {
        ownHash = hashOf(own); // at most once per change of own records
      }
      mine = ownHash;
      count = own.size();
    }
    boolean same = Arrays.equals(hash, mine);
    long differed;
    synchronized (schedule) {
      if (churning) {
        differsSince.remove(member); // the copy may lag writes on their way; judged once they settle
        return;
      }
      if (same) {
        differsSince.remove(member);
        if (differsSince.isEmpty()) {
          repushGap = 0;
        }
        return;
      }
      if (differsSince.size() >= MAX_DIFFERING && !differsSince.containsKey(member)) {
        differsSince.clear();
      }
      Long since = differsSince.putIfAbsent(member, now);
      if (since == null || now - since < intervalNanos) {
        return; // a write may still be on its way: only a difference that lasts a round counts
      }
      if (repushGap > 0 && now - lastRepush < repushGap) {
        return;
      }
      differed = now - since;
      lastRepush = now;
      repushGap = repushGap == 0 ? REPUSH_GAP_NANOS : Math.min(2 * repushGap, REPUSH_GAP_MAX_NANOS);
      differsSince.clear(); // every copy's clock starts over after this push
      fullPending = true;
      fullFirst = now;
      fullDue = now;
    }
    counters.recordRepushes.increment();
    log.info("{}: {}'s copy of this member's {} records has differed from them for {} ms (a write lost on the way): "
        + "writing them all again", selfId, member, count, differed / 1_000_000);
    wake();
  }

  /**
   * SHA-256 over the records sorted by key: each is the key's UTF-8 bytes, a zero byte, the value's
   * length (4 bytes, big-endian) and the value. Equal records, equal hash, whatever the map's order.
   */
  static byte[] hashOf(Map<String, byte[]> records) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by the Java platform", e);
    }
    byte[] length = new byte[4];
    for (Map.Entry<String, byte[]> e : new TreeMap<>(records).entrySet()) {
      sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      int n = e.getValue().length;
      length[0] = (byte) (n >>> 24);
      length[1] = (byte) (n >>> 16);
      length[2] = (byte) (n >>> 8);
      length[3] = (byte) n;
      sha.update(length);
      sha.update(e.getValue());
    }
    return sha.digest();
  }

  // --- the tick ---

  void startTicking() {
    Thread t = new Thread(this::loop, "kg-records-" + selfId);
    t.setDaemon(true);
    thread = t;
    t.start();
  }

  private void loop() {
    while (!closed) {
      synchronized (this) {
        try {
          wait(POLL_MILLIS);
        } catch (InterruptedException e) {
          return;
        }
      }
      try {
        tick(nanos.getAsLong());
      } catch (RuntimeException e) {
        log.warn("{}: records re-assertion failed, trying again at the next tick: {}", selfId, e.toString());
      }
    }
  }

  private void wake() {
    synchronized (this) {
      notifyAll();
    }
  }

  /**
   * One look at the timers: a full re-assertion when one is due, else a compare-and-repair when a
   * round is due or a repair was asked for. Each also scans peers' records.
   */
  void tick(long now) {
    Store s = store;
    if (s == null) {
      return;
    }
    synchronized (ownLock) {
      if (store == s) {
        drain(s, now);
      }
    }
    boolean full;
    synchronized (schedule) {
      full = fullPending && now - fullDue >= 0;
      if (full) {
        fullPending = false;
      }
    }
    boolean round = !roundScheduled || now - nextRound >= 0;
    boolean fix = fixSoon;
    if (!full && !round && !fix) {
      return;
    }
    fixSoon = false;
    if (full || round) {
      nextRound = now + intervalNanos;
      roundScheduled = true;
    }
    log.trace("{}: re-asserting ({})", selfId, full ? "full" : round ? "round" : "repair");
    reassert(s, full, full || round, now);
  }

  /**
   * Writes what differs from the local copy; {@code full}: every own record and remembered removal;
   * {@code rewriteRecent}: also records changed in the last {@code recent} (rounds only: a
   * repair asked for by a cache event must not, or each of its writes' events would ask again).
   */
  private void reassert(Store s, boolean full, boolean rewriteRecent, long now) {
    Map<String, Object> selfCopies = new HashMap<>();
    Map<Object, Object> others = new HashMap<>();
    s.forEach((k, v) -> {
      if (k instanceof String key && key.startsWith(selfPrefix)) {
        selfCopies.put(key.substring(selfPrefix.length()), v);
      } else {
        others.put(k, v);
      }
    });
    synchronized (ownLock) {
      if (store != s) {
        return;
      }
      own.forEach((key, value) -> {
        boolean recent = rewriteRecent && now - changedAt.getOrDefault(key, now - recentNanos) < recentNanos;
        Object copy = selfCopies.get(key);
        if (full || recent || !(copy instanceof byte[] bytes && Arrays.equals(bytes, value))) {
          if (copy instanceof byte[] bytes && watched.containsKey(key) && !Arrays.equals(bytes, value)) {
            noteOverwrite(key, bytes);
          }
          write(s, key, value, false);
        }
      });
      selfCopies.forEach((key, value) -> {
        if (!own.containsKey(key) && !TOMBSTONE.equals(value)) {
          write(s, key, TOMBSTONE, false); // a previous incarnation's, or one brought back by a merge
          remember(key);
        }
      });
      if (full) {
        for (String key : removed) {
          write(s, key, TOMBSTONE, false);
        }
      }
    }
    scan(others, s.settled());
  }

  /**
   * Offers every peer entry of the local copy (peers already accepted first, so the per-member limit
   * keeps them) and, when the copy is {@code settled}, drops accepted records it no longer holds: a
   * removal can reach the copy without an event (seen after a merge, when the writer re-asserted a
   * removal made during the split).
   */
  private void scan(Map<Object, Object> entries, boolean settled) {
    List<String[]> changes = new ArrayList<>();
    synchronized (peersLock) {
      List<Map.Entry<Object, Object>> fresh = new ArrayList<>();
      for (Map.Entry<Object, Object> e : entries.entrySet()) {
        String[] parsed = parse(e.getKey());
        if (parsed != null && peers.getOrDefault(parsed[0], Map.of()).containsKey(parsed[1])) {
          offer(e.getKey(), e.getValue(), parsed, changes);
        } else {
          fresh.add(e);
        }
      }
      fresh.forEach(e -> offer(e.getKey(), e.getValue(), null, changes));
      if (settled) {
        peers.forEach((member, records) -> records.keySet().removeIf(key -> {
          Object held = entries.get(member + SEPARATOR + key);
          boolean gone = held == null || TOMBSTONE.equals(held);
          if (gone) {
            changes.add(new String[] {key, member});
          }
          return gone;
        }));
      }
      changes.forEach(c -> copyHashes.remove(c[1]));
    }
    changes.forEach(c -> fire(c[0], c[1]));
  }

  // --- peers' records (peersLock held) ---

  /** {memberId, key} of a well-formed peer cache key, else null. */
  private String[] parse(Object cacheKey) {
    if (!(cacheKey instanceof String k)) {
      return null;
    }
    int at = k.indexOf(SEPARATOR);
    if (at <= 0 || at > 64) {
      return null;
    }
    String key = k.substring(at + 1);
    return KEY.matcher(key).matches() ? new String[] {k.substring(0, at), key} : null;
  }

  private void offer(Object cacheKey, Object value, String[] parsed, List<String[]> changes) {
    if (TOMBSTONE.equals(value)) {
      forget(cacheKey, changes);
      return;
    }
    String[] p = parsed != null ? parsed : parse(cacheKey);
    if (p == null) {
      refuse(cacheKey, value, BAD_KEY);
      return;
    }
    if (p[0].equals(selfId)) {
      return;
    }
    Map<String, byte[]> records = peers.get(p[0]);
    byte[] held = records == null ? null : records.get(p[1]);
    String reason = !(value instanceof byte[] bytes) ? BAD_VALUE
        : bytes.length > MAX_VALUE_BYTES ? TOO_LARGE
        : held == null && records != null && records.size() >= MAX_RECORDS_PER_MEMBER ? OVER_LIMIT
        : null;
    if (reason != null) {
      refuse(cacheKey, value, reason);
      if (held != null && !OVER_LIMIT.equals(reason)) {
        records.remove(p[1]); // what the cache holds for it now is not a valid record
        changes.add(new String[] {p[1], p[0]});
      }
      return;
    }
    refused.remove(cacheKey);
    byte[] valid = (byte[]) value;
    if (held != null && Arrays.equals(held, valid)) {
      return;
    }
    peers.computeIfAbsent(p[0], m -> new HashMap<>()).put(p[1], valid.clone());
    changes.add(new String[] {p[1], p[0]});
  }

  private void forget(Object cacheKey, List<String[]> changes) {
    refused.remove(cacheKey);
    String[] p = parse(cacheKey);
    if (p == null) {
      return;
    }
    Map<String, byte[]> records = peers.get(p[0]);
    if (records != null && records.remove(p[1]) != null) {
      changes.add(new String[] {p[1], p[0]});
    }
  }

  private void refuse(Object cacheKey, Object value, String reason) {
    // a bad key is counted once whatever its value; another reason once per value
    int hash = BAD_KEY.equals(reason) ? 0 : value instanceof byte[] b ? Arrays.hashCode(b) : Objects.hashCode(value);
    Integer before = refused.get(cacheKey);
    if (before != null && before == hash) {
      return;
    }
    if (refused.size() >= MAX_REFUSED_REMEMBERED) {
      refused.clear();
    }
    refused.put(cacheKey, hash);
    counters.rejected(reason);
    log.debug("{}: dropped record {} from the mesh: {}", selfId, cacheKey, reason);
  }

  // --- writes, listeners ---

  /** Keeps {@code key} among the removals re-asserted at a full push, forgetting the oldest beyond the bound (ownLock held). */
  private void remember(String key) {
    removed.add(key);
    if (removed.size() > MAX_RECORDS_PER_MEMBER) {
      Iterator<String> oldest = removed.iterator();
      oldest.next();
      oldest.remove();
    }
  }

  /** Whether the copy's {@code value} of own {@code key} is what this member holds (or has queued). */
  private boolean holdsOwn(String key, Object value) {
    synchronized (ownLock) {
      String cacheKey = selfPrefix + key;
      if (changesOut.containsKey(cacheKey) || reassertionsOut.containsKey(cacheKey)) {
        return true; // a write of it is on its way
      }
      byte[] mine = own.get(key);
      return mine == null ? value == null || TOMBSTONE.equals(value) : value instanceof byte[] b && Arrays.equals(b, mine);
    }
  }

  /**
   * Writes {@code value} (bytes, or {@link #TOMBSTONE}) under own {@code key} now if a token is free and
   * nothing of its kind waits, else queues it, replacing any waiting write of the key (ownLock held).
   * A {@code change} (putOwn, removeOwn) goes before re-assertions.
   */
  private void write(Store s, String key, Object value, boolean change) {
    String cacheKey = selfPrefix + key;
    if (change) {
      reassertionsOut.remove(cacheKey);
    } else if (changesOut.containsKey(cacheKey)) {
      return; // a newer change of it is waiting already
    }
    refill(nanos.getAsLong());
    boolean nothingAhead = change ? changesOut.isEmpty() : changesOut.isEmpty() && reassertionsOut.isEmpty();
    if (nothingAhead && tokens >= 1) {
      tokens -= 1;
      send(s, cacheKey, value);
      return;
    }
    if (change) {
      changesOut.put(cacheKey, value);
    } else {
      reassertionsOut.put(cacheKey, value); // keeps its place if already waiting: no starving
    }
    counters.recordWritesDeferred.increment();
  }

  /** Sends waiting writes while tokens last, changes first (ownLock held). */
  private void drain(Store s, long now) {
    if (changesOut.isEmpty() && reassertionsOut.isEmpty()) {
      return;
    }
    refill(now);
    for (LinkedHashMap<String, Object> out : List.of(changesOut, reassertionsOut)) {
      Iterator<Map.Entry<String, Object>> it = out.entrySet().iterator();
      while (tokens >= 1 && it.hasNext()) {
        Map.Entry<String, Object> e = it.next();
        it.remove();
        tokens -= 1;
        send(s, e.getKey(), e.getValue());
      }
    }
  }

  private void refill(long now) {
    long elapsed = now - tokensAt;
    if (elapsed > 0) {
      tokens = Math.min(WRITE_BURST, tokens + elapsed * (double) WRITES_PER_SECOND / 1e9);
      tokensAt = now;
    }
  }

  private void clearOutbox() {
    changesOut.clear();
    reassertionsOut.clear();
  }

  private void send(Store s, String cacheKey, Object value) {
    counters.recordWrites.increment();
    if (value instanceof byte[] bytes) {
      log.trace("{}: putting own record {}", selfId, cacheKey);
      s.put(cacheKey, bytes);
    } else {
      log.trace("{}: removing own record {}", selfId, cacheKey);
      s.tombstone(cacheKey);
    }
  }

  private void fire(String key, String memberId) {
    for (Listener l : listeners) {
      try {
        l.changed(key, memberId);
      } catch (RuntimeException e) {
        log.warn("{}: a records listener failed on {} of {}: {}", selfId, key, memberId, e.toString());
      }
    }
  }

  /** An own record a peer overwrote, as {@link #drainOverwrites} hands them out. */
  private record Overwrite(String key, byte[] value) {}

  /** Overwrites kept until drained; the oldest is dropped beyond this. */
  static final int MAX_OVERWRITES_KEPT = 64;

  /**
   * The own keys whose overwrites are kept ({@link #watchOverwrites}), each with this member's value (empty:
   * none), readable without {@link #ownLock}; none by default, so nothing is kept that nobody drains.
   */
  private final Map<String, byte[]> watched = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.ArrayDeque<Overwrite> overwrites = new java.util.ArrayDeque<>();

  /** From now on, keeps the values peers write over this member's own record {@code key}, for {@link #drainOverwrites}. */
  void watchOverwrites(String key) {
    synchronized (ownLock) {
      byte[] value = own.get(key);
      watched.put(key, value == null ? new byte[0] : value);
    }
  }

  private void noteOverwrite(String key, byte[] value) {
    if (value.length <= MAX_VALUE_BYTES) {
      synchronized (overwrites) {
        if (overwrites.size() >= MAX_OVERWRITES_KEPT) {
          overwrites.removeFirst();
        }
        overwrites.addLast(new Overwrite(key, value.clone()));
      }
    }
  }

  /**
   * The values peers wrote over this member's own record {@code key} since the last call (at most
   * {@value #MAX_OVERWRITES_KEPT} of all watched keys, the latest), oldest first; those of other keys are dropped.
   * A merge brings back copies from before; a host elsewhere with this member's id writes its own
   * ({@link SiteIdClashWatch}).
   */
  List<byte[]> drainOverwrites(String key) {
    List<byte[]> out = new ArrayList<>();
    synchronized (overwrites) {
      for (Overwrite o : overwrites) {
        if (o.key().equals(key)) {
          out.add(o.value());
        }
      }
      overwrites.clear();
    }
    return out;
  }

  /** Puts and removes this member has sent to the cache (tests: an idle mesh writes nothing). */
  long writes() {
    return counters.recordWrites.sum();
  }

  /** Writes waiting for a token (tests). */
  int waiting() {
    synchronized (ownLock) {
      return changesOut.size() + reassertionsOut.size();
    }
  }

  @Override
  public void close() {
    closed = true;
    store = null;
    Thread t = thread;
    if (t != null) {
      t.interrupt();
    }
  }

  /** {@link Store} on the Infinispan cache: local reads, writes that never wait. */
  private static final class CacheStore implements Store {
    private final AdvancedCache<String, byte[]> cache;
    private final AdvancedCache<String, byte[]> reads;
    private final AdvancedCache<String, byte[]> writes;

    CacheStore(Cache<String, byte[]> c) {
      AdvancedCache<String, byte[]> a = c.getAdvancedCache();
      cache = a;
      reads = a.withFlags(Flag.CACHE_MODE_LOCAL, Flag.SKIP_OWNERSHIP_CHECK);
      writes = a.withFlags(Flag.IGNORE_RETURN_VALUES);
    }

    @Override
    public Object get(String cacheKey) {
      return reads.get(cacheKey);
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void forEach(BiConsumer<Object, Object> entry) {
      // raw: a rogue member may have written keys or values of other types
      for (Object e : ((AdvancedCache) reads).entrySet()) {
        Map.Entry<Object, Object> me = (Map.Entry<Object, Object>) e;
        entry.accept(me.getKey(), me.getValue());
      }
    }

    @Override
    public boolean settled() {
      DistributionManager dm = cache.getDistributionManager();
      if (dm == null) {
        return true;
      }
      // Not isJoinComplete(): it is true from the first topology on, also one this member is not in (a
      // join the coordinator has not taken in yet, or never does), and such a copy gets no writes
      LocalizedCacheTopology t = dm.getCacheTopology();
      return !dm.isRehashInProgress() && t.getCurrentCH().getMembers().contains(t.getLocalAddress());
    }

    @Override
    public void put(String cacheKey, byte[] value) {
      // never waits: after a merge Infinispan holds commands until a topology is installed (ISPN000071)
      try {
        writes.putAsync(cacheKey, value).whenComplete((previous, e) -> failed("putting", cacheKey, e));
      } catch (RuntimeException e) {
        failed("putting", cacheKey, e);
      }
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void tombstone(String cacheKey) {
      try {
        ((AdvancedCache) writes).putAsync(cacheKey, TOMBSTONE).whenComplete((previous, e) ->
            failed("removing", cacheKey, (Throwable) e));
      } catch (RuntimeException e) {
        failed("removing", cacheKey, e);
      }
    }

    private static void failed(String what, String cacheKey, Throwable e) {
      if (e != null) {
        log.debug("{} record {} failed, repaired by the next round: {}", what, cacheKey, e.toString());
      }
    }
  }
}
