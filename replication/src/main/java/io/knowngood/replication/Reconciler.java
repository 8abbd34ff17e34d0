package io.knowngood.replication;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;

/**
 * Anti-entropy's decisions, as a small single-threaded state machine in the spirit of Consul's
 * {@code agent/ae}: it owns what each member announced (digests, haves), the versions awaited
 * after a have, the pulls in flight, the (member, stamp) pairs refused after a failed verification
 * (those three through its {@link Pulls}) and the round schedule. It is fed events ({@link #view},
 * {@link #digestHash}, {@link #digest}, {@link #have}, {@link #pullAnswered}, {@link #tick}, ...) with
 * the time they happen, and acts only through {@link Actions}. Time and jitter are given to it, so
 * tests advance time instead of sleeping. Every method except the read-only {@link #announced} views
 * must be called from one thread ({@link AntiEntropy}'s).
 *
 * <p>A round sends each peer (by unicast: members in view, and members outside it heard from
 * lately) the SHA-256 of this member's digest; a member whose own hash is equal
 * records the sender as holding exactly what it holds, one whose hash differs asks the sender for
 * its full digest (unicast) and pulls whatever beats what it holds ({@link VersionStamp#beats}: a
 * higher version, or the same version with a lower manifest digest).
 *
 * @param <M> a member's identity (a JGroups address in the mesh, a string in tests)
 */
final class Reconciler<M> {
  /** How long a pull (or a digest request) may go unanswered before it is asked again, from another announcer if any. */
  static final Duration PULL_RETRY = Duration.ofMillis(1500);
  /** Pulls per announced version (rotating over its announcers) before it is left to the digest rounds. */
  static final int MAX_PULL_ATTEMPTS = 3;
  /** Members remembered per announced version, to retry from. */
  static final int MAX_ANNOUNCERS = 4;
  /** Announced versions awaited at once, in total and created by one member; beyond, haves are dropped and counted. */
  static final int MAX_AWAITED = 2048;
  static final int MAX_AWAITED_PER_MEMBER = 256;
  /**
   * Names remembered per member (its digest plus its haves). A digest with more is truncated to its
   * first entries in wire order and counted; so one member costs at most this many entries of memory.
   */
  static final int MAX_ANNOUNCED_PER_MEMBER = AeMessage.MAX_ENTRIES / 4;
  /** Refused (member, name, stamp) triples remembered; beyond, the set is cleared (a refused member is then pulled once more). */
  static final int MAX_REFUSED = 10_000;
  /** Rounds between two re-examinations of every local cache copy: each visits every name. */
  static final int RESCAN_EVERY = 4;
  /** A view change triggers a round after a random delay in this range, so members do not all send at once. */
  static final Duration VIEW_ROUND_MIN = Duration.ofMillis(50);
  static final Duration VIEW_ROUND_MAX = Duration.ofMillis(300);
  /**
   * A member's digest requests are answered at most once per this gap: each answer is the full digest.
   * A different hash is answered with this node's own hash at most once per this gap too.
   */
  static final Duration DIGEST_ANSWER_GAP = Duration.ofMillis(500);
  /** An unanswered pull is forgotten this long after its retry time; an archive arriving later is unsolicited. */
  static final Duration INFLIGHT_KEEP = Duration.ofSeconds(30);
  /**
   * A member heard from but not in this node's view (views disagree during some faults: a member cut
   * from the coordinator keeps a stale view) is a peer for at least this long after its last message,
   * or three round intervals if longer: rounds and haves reach it by unicast.
   */
  static final Duration HEARD_KEEP = Duration.ofSeconds(10);
  /** Members outside the view remembered as heard; beyond, the least recently heard is forgotten. */
  static final int MAX_HEARD = 64;

  static final String HAVE_OVER_LIMIT = "have_over_limit";
  static final String ANNOUNCED_OVER_LIMIT = "announced_over_limit";
  static final String DIGEST_REQUEST_OVER_LIMIT = "digest_request_over_limit";
  static final String UNSOLICITED_BUNDLE = "unsolicited_bundle";

  /** What this node holds. */
  interface Store {
    /** Highest stamp held per name. */
    Map<String, VersionStamp> digest();

    /** The stamp held for {@code name}, or null. */
    VersionStamp held(String name);
  }

  /** What the reconciler asks its shell to do. */
  interface Actions<M> {
    void unicast(M to, AeMessage message);

    /** Send {@code to} this node's highest version of each of {@code names} that it holds. */
    void sendArchives(M to, List<String> names);

    /**
     * Verify and store an archive from {@code from}; answer with {@link #pullAnswered}, passing
     * {@code pushed} back: the version a pushed archive was taken for, null for a pull's answer.
     */
    void ingest(M from, String name, byte[] archive, VersionStamp pushed);

    /** Re-examine every local cache copy. */
    void rescan();

    /** What members announced changed (publishers waiting for holders look again). */
    void announcedChanged();
  }

  private final Store store;
  private final Actions<M> actions;
  private final Counters counters;
  private final RandomGenerator random;
  private final long intervalNanos;
  private final long jitterNanos;

  private Set<M> members = Set.of();
  /** Members outside the view that sent something, and when last (access order: eldest first). */
  private final LinkedHashMap<M, Long> heard = new LinkedHashMap<>(16, 0.75f, true);
  private volatile Set<M> extraPeers = Set.of();
  private final long heardKeepNanos;
  private final Map<M, Announced> announced = new ConcurrentHashMap<>();
  private final Pulls<M> pulls;
  private final Map<M, Long> digestRequestedAt = new HashMap<>();
  private final Map<M, Long> digestAnsweredAt = new HashMap<>();
  private final Map<M, Long> hashAnsweredAt = new HashMap<>();

  private boolean started;
  private boolean pulling;
  private long nextRoundAt;
  private int roundsSinceRescan;
  private Map<String, VersionStamp> ownDigest = Map.of();
  private byte[] ownHash;
  private boolean ownDirty = true;

  Reconciler(Store store, Actions<M> actions, Counters counters, RandomGenerator random, Duration interval,
             Duration jitter, Duration haveGrace) {
    this.store = Objects.requireNonNull(store);
    this.actions = Objects.requireNonNull(actions);
    this.counters = Objects.requireNonNull(counters);
    this.random = Objects.requireNonNull(random);
    this.intervalNanos = interval.toNanos();
    this.jitterNanos = jitter.toNanos();
    this.heardKeepNanos = Math.max(HEARD_KEEP.toNanos(), 3 * (intervalNanos + jitterNanos));
    this.pulls = new Pulls<>(this.store, this.actions, this.counters, haveGrace);
  }

  // --- events ---

  /** Anti-entropy is running; with {@code rounds} false it only records announcements (no rounds, no pulls). */
  void start(boolean rounds, long now) {
    if (started) {
      return;
    }
    started = true;
    pulling = rounds;
    nextRoundAt = now;
    tick(now);
  }

  /** The view changed: {@code others} are the members in it, this node excluded. */
  void view(Set<M> others, long now) {
    Set<M> left = new HashSet<>(members);
    left.removeAll(others);
    members = Set.copyOf(others);
    heard.keySet().removeAll(members);
    // A member that just left this view (suspected, or cut from the coordinator) may still reach us
    // and we it: it stays a peer for HEARD_KEEP as if just heard, so a node that a stale suspicion
    // left alone still sends its rounds and haves to the members it had (seen in the soak: a publisher
    // alone in its view reached nobody until MERGE3 merged it, 10 s later, though a bridge member
    // heard it). A dead member costs a few unicasts that fail.
    for (M m : left) {
      rememberHeard(m, now);
    }
    updateExtraPeers(now);
    Set<M> peers = peers();
    announced.keySet().retainAll(peers);
    digestRequestedAt.keySet().retainAll(peers);
    digestAnsweredAt.keySet().retainAll(peers);
    hashAnsweredAt.keySet().retainAll(peers);
    pulls.retainAnnouncers(peers);
    if (pulling && !peers.isEmpty()) {
      // a heal or a join: exchange hashes soon, spread a little since every member sees the change at once
      long min = VIEW_ROUND_MIN.toNanos();
      long at = now + min + random.nextLong(VIEW_ROUND_MAX.toNanos() - min + 1);
      if (at - nextRoundAt < 0) {
        nextRoundAt = at;
      }
    }
    actions.announcedChanged();
  }

  /** Time passed: run the round and the have pulls that are due. */
  void tick(long now) {
    if (pulling && now - nextRoundAt >= 0) {
      round(now);
      nextRoundAt = now + intervalNanos + (jitterNanos > 0 ? random.nextLong(jitterNanos + 1) : 0);
    }
    pulls.tick(now);
  }

  /** When the next timer is due ({@link Long#MAX_VALUE} for none): the shell need not tick before. */
  long nextDueAt() {
    return pulls.nextDueAt(pulling ? nextRoundAt : Long.MAX_VALUE);
  }

  /** This node now holds {@code stamp}: stop awaiting it (or anything it beats). */
  void held(String name, VersionStamp stamp) {
    ownDirty = true;
    pulls.held(name, stamp);
  }

  /** {@code from}'s round: the hash of its digest. */
  void digestHash(M from, byte[] hash, long now) {
    heardFrom(from, now);
    if (ownDirty || ownHash == null) {
      refreshOwn();
    }
    if (Arrays.equals(hash, ownHash)) {
      // in sync: it holds exactly what this node held when ownHash was taken (shared, not copied)
      Announced a = announced.computeIfAbsent(from, k -> new Announced());
      if (a.base != ownDigest || !a.haves.isEmpty()) {
        a.setBase(ownDigest, ownHash);
        actions.announcedChanged();
      }
      return;
    }
    if (!pulling) {
      return;
    }
    answerHash(from, now);
    Announced a = announced.get(from);
    if (a != null && Arrays.equals(hash, a.baseHash)) {
      // nothing new since its last full digest: retry what is still missing (in-flight and refusals decide)
      pulls.pullWhatIsNewer(from, a.snapshot(), now);
      return;
    }
    Long asked = digestRequestedAt.get(from);
    if (asked != null && now - asked < PULL_RETRY.toNanos()) {
      return;
    }
    digestRequestedAt.put(from, now);
    actions.unicast(from, new AeMessage.DigestRequest());
  }

  /**
   * Tells {@code from}, whose hash differs, this node's own hash, so that it asks for this node's digest
   * if it lacks what this node holds: its round alone only lets this node pull from it. Without this a
   * restarted node waited for a peer's next periodic round (2-2.5 s) when the peers' view rounds reached
   * it before its anti-entropy channel was up (JGroups drops those: "fork-channel ... not found"), so its
   * own first round found only what it had newer (kill -9 soak, 2026-12-02). At most once per {@link
   * #DIGEST_ANSWER_GAP} per member: an answer to an answer stops there.
   */
  private void answerHash(M from, long now) {
    Long last = hashAnsweredAt.get(from);
    if (last != null && now - last < DIGEST_ANSWER_GAP.toNanos()) {
      return;
    }
    hashAnsweredAt.put(from, now);
    actions.unicast(from, new AeMessage.DigestHash(ownHash, ownDigest.size()));
  }

  /** {@code from} asks for this node's full digest. */
  void digestRequested(M from, long now) {
    heardFrom(from, now);
    Long last = digestAnsweredAt.get(from);
    if (last != null && now - last < DIGEST_ANSWER_GAP.toNanos()) {
      counters.rejected(DIGEST_REQUEST_OVER_LIMIT);
      return;
    }
    digestAnsweredAt.put(from, now);
    refreshOwn();
    actions.unicast(from, new AeMessage.Digest(ownDigest));
  }

  /** {@code from}'s full digest. */
  void digest(M from, Map<String, VersionStamp> entries, long now) {
    heardFrom(from, now);
    byte[] hash = AeMessage.hashOf(entries);
    Map<String, VersionStamp> kept;
    if (entries.size() > MAX_ANNOUNCED_PER_MEMBER) {
      counters.rejected(ANNOUNCED_OVER_LIMIT);
      Map<String, VersionStamp> first = new LinkedHashMap<>();
      for (Map.Entry<String, VersionStamp> e : entries.entrySet()) {
        if (first.size() >= MAX_ANNOUNCED_PER_MEMBER) {
          break;
        }
        first.put(e.getKey(), e.getValue());
      }
      kept = Map.copyOf(first);
    } else {
      kept = Map.copyOf(entries);
    }
    announced.computeIfAbsent(from, k -> new Announced()).setBase(kept, hash);
    actions.announcedChanged();
    if (pulling) {
      pulls.pullWhatIsNewer(from, kept, now);
    }
  }

  /**
   * {@code from} holds {@code stamp}. The replicated put is usually on its way; if it is not held
   * after the have grace ({@link MeshConfig.Timings#haveGrace}), it is pulled. Never trusted: what a pull brings is verified.
   */
  void have(M from, String name, VersionStamp stamp, long now) {
    heardFrom(from, now);
    if (!announced.computeIfAbsent(from, k -> new Announced()).record(name, stamp)) {
      counters.rejected(ANNOUNCED_OVER_LIMIT);
    }
    actions.announcedChanged();
    if (pulling) {
      pulls.await(from, name, stamp, now);
    }
  }

  /** {@code from} asks for archives. */
  void pull(M from, List<String> names) {
    actions.sendArchives(from, names);
  }

  /**
   * An archive arrived from {@code from}: ingested if this node pulled that name (from anyone: a late
   * answer to an earlier attempt is as good) in the last {@link #INFLIGHT_KEEP}, or if {@code from}
   * pushed it right after its have of a version awaited here (a publish, once per have: {@link
   * Pulls#takePush}), else dropped: silently if it is what {@code from} announced and this node holds
   * that already (a push that came after the replicated put), else counted.
   *
   * @return null if ingested or dropped silently, else why it was dropped and counted (for the log)
   */
  String bundle(M from, String name, byte[] archive) {
    if (pulls.solicited(name)) {
      actions.ingest(from, name, archive, null);
      return null;
    }
    VersionStamp pushed = pulls.takePush(from, name);
    if (pushed != null) {
      actions.ingest(from, name, archive, pushed);
      return null;
    }
    VersionStamp claimed = announced(from, name);
    VersionStamp held = store.held(name);
    if (claimed == null || claimed.beats(held)) {
      counters.rejected(UNSOLICITED_BUNDLE);
      return "neither pulled nor pushed after a have of an awaited version (it announced "
          + (claimed == null ? "nothing" : "v" + claimed.version()) + ", held " + (held == null ? "nothing" : "v" + held.version())
          + ", " + pulls.describe(from, name) + ")";
    }
    return null;
  }

  /**
   * The archive {@code from} sent for {@code name} was examined: {@code verified} says whether it
   * verified. If the stamp {@code from} claimed still beats what is held (it failed, or it was not
   * what it claimed, or the store refused it), that (member, stamp) is not asked again, so neither a
   * rogue nor a tie the store keeps refusing makes a pull loop. What {@code from} claimed: the stamp
   * this node pulled from it; else the version {@code pushed} was taken for; else (an archive that
   * came while this node pulled the name from another member) nothing if it verified, and what
   * {@code from} announced last if it failed. Claims are never read from haves that arrived after the
   * archive: a publisher's next have may arrive while its previous push is being verified, and a
   * member's late archive of an older version (retransmitted after a heal, just ahead of its have of
   * the next) verifies after that have; judging either by the newer have refused the newer version from
   * the one member that could send it (soak 2026-12-07, a relay 10.09 s late).
   *
   * @return the stamp {@code from} is now refused for (not asked for again), or null
   */
  VersionStamp pullAnswered(M from, String name, boolean verified, VersionStamp pushed, long now) {
    Announced a = announced.get(from);
    return pulls.answered(from, name, verified, pushed, a == null ? null : a.get(name), now);
  }

  // --- read-only views (any thread) ---

  /** Members outside the view that are peers for now (haves go to them by unicast). */
  Set<M> extraPeers() {
    return extraPeers;
  }

  /** What {@code member} last announced for {@code name}, or null. */
  VersionStamp announced(M member, String name) {
    Announced a = announced.get(member);
    return a == null ? null : a.get(name);
  }

  /** What each member last announced. */
  Map<M, Map<String, VersionStamp>> announced() {
    Map<M, Map<String, VersionStamp>> out = new HashMap<>();
    announced.forEach((m, a) -> out.put(m, a.snapshot()));
    return out;
  }

  int awaitedVersions() {
    return pulls.awaitedVersions();
  }

  /** Names pulled in the last {@link #INFLIGHT_KEEP} (bound check; reconciler thread only). */
  int pulledNames() {
    return pulls.pulledNames();
  }

  // --- internals ---

  private void round(long now) {
    counters.rounds.increment();
    refreshOwn();
    updateExtraPeers(now);
    Set<M> peers = peers();
    announced.keySet().retainAll(peers);
    digestRequestedAt.keySet().retainAll(peers);
    digestAnsweredAt.keySet().retainAll(peers);
    hashAnsweredAt.keySet().retainAll(peers);
    // unicast, not multicast: a member whose view disagrees with ours drops our multicasts as from a non-member
    for (M peer : peers) {
      actions.unicast(peer, new AeMessage.DigestHash(ownHash, ownDigest.size()));
    }
    pulls.expire(now);
    // re-examine this node's cache copies: a change whose event was missed is caught here. Every
    // RESCAN_EVERY rounds, not every round: it visits every name (measured: idle CPU 4.2 % with 10,000
    // names when it ran every 2-2.5 s), and view changes and state transfer trigger their own scan.
    if (++roundsSinceRescan >= RESCAN_EVERY) {
      roundsSinceRescan = 0;
      actions.rescan();
    }
  }

  private Set<M> peers() {
    Set<M> extra = extraPeers;
    if (extra.isEmpty()) {
      return members;
    }
    Set<M> all = new HashSet<>(members);
    all.addAll(extra);
    return all;
  }

  private void heardFrom(M from, long now) {
    if (members.contains(from)) {
      return;
    }
    if (rememberHeard(from, now)) {
      updateExtraPeers(now);
    }
  }

  /** Records {@code m} as heard at {@code now}, within MAX_HEARD; true if the set of heard members changed. */
  private boolean rememberHeard(M m, long now) {
    boolean added = heard.put(m, now) == null;
    if (heard.size() > MAX_HEARD) {
      M eldest = heard.keySet().iterator().next();
      heard.remove(eldest);
      announced.remove(eldest);
      added = true;
    }
    return added;
  }

  /** Forgets members outside the view not heard from lately. */
  private void updateExtraPeers(long now) {
    heard.values().removeIf(at -> now - at > heardKeepNanos);
    extraPeers = Set.copyOf(heard.keySet());
  }

  private void refreshOwn() {
    Map<String, VersionStamp> now = store.digest();
    if (ownHash == null || !now.equals(ownDigest)) {
      ownDigest = Map.copyOf(now);
      ownHash = AeMessage.hashOf(ownDigest);
    }
    ownDirty = false;
  }
}
