package io.knowngood.replication;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@link Reconciler}'s pull bookkeeping: the versions awaited after a have, the pulls in flight and
 * the (member, name, stamp) triples refused after a failed verification, within the bounds set on
 * {@link Reconciler}. One reconciler owns it and calls it only from its own thread (the reconciler's
 * single-threaded contract); only {@link #awaitedVersions} may be read from any thread.
 *
 * @param <M> a member's identity
 */
final class Pulls<M> {
  private final Reconciler.Store store;
  private final Reconciler.Actions<M> actions;
  private final Counters counters;
  private final long haveGraceNanos;

  private final Map<String, Inflight<M>> inflight = new HashMap<>();
  private final Map<String, Awaited<M>> awaited = new HashMap<>();
  private final Map<M, Integer> awaitedBy = new HashMap<>();
  private volatile int awaitedCount;
  private final Set<Refusal<M>> refused = new HashSet<>();

  Pulls(Reconciler.Store store, Reconciler.Actions<M> actions, Counters counters, Duration haveGrace) {
    this.store = Objects.requireNonNull(store);
    this.actions = Objects.requireNonNull(actions);
    this.counters = Objects.requireNonNull(counters);
    this.haveGraceNanos = haveGrace.toNanos();
  }

  private record Inflight<M>(VersionStamp stamp, M member, long retryAt) {}

  private record Refusal<M>(M member, String name, VersionStamp stamp) {}

  /** A version announced by haves and not held yet: {@code announcers} may be asked for it, in turn. */
  private static final class Awaited<M> {
    final String name;
    final VersionStamp stamp;
    final M creator;
    final List<M> announcers = new ArrayList<>(2);
    /** The archive was pushed by a member with its have and handed to ingest: no second push is taken. */
    boolean pushTaken;
    int attempts;
    long dueAt;

    Awaited(String name, VersionStamp stamp, M creator, long dueAt) {
      this.name = name;
      this.stamp = stamp;
      this.creator = creator;
      this.dueAt = dueAt;
      announcers.add(creator);
    }

    void announcedBy(M member) {
      if (!announcers.contains(member) && announcers.size() < Reconciler.MAX_ANNOUNCERS) {
        announcers.add(member);
      }
    }
  }

  /** Pulls the awaited versions that are due. */
  void tick(long now) {
    if (!awaited.isEmpty()) {
      List<Awaited<M>> due = new ArrayList<>();
      for (Awaited<M> a : awaited.values()) {
        if (now - a.dueAt >= 0) {
          due.add(a);
        }
      }
      due.forEach(a -> pullAwaited(a, now));
    }
  }

  /** The earliest of {@code due} ({@link Long#MAX_VALUE} for none) and the awaited versions' due times. */
  long nextDueAt(long due) {
    for (Awaited<M> a : awaited.values()) {
      if (a.dueAt - due < 0 || due == Long.MAX_VALUE) {
        due = a.dueAt;
      }
    }
    return due;
  }

  /** This node now holds {@code stamp}: stop awaiting it (or anything it beats). */
  void held(String name, VersionStamp stamp) {
    Awaited<M> a = awaited.get(name);
    if (a != null && !a.stamp.beats(stamp)) {
      forget(a);
    }
  }

  /** Only {@code peers} are asked for awaited versions. */
  void retainAnnouncers(Set<M> peers) {
    awaited.values().forEach(a -> a.announcers.retainAll(peers));
  }

  /** Whether {@code name} was pulled (from anyone) in the last {@link Reconciler#INFLIGHT_KEEP}. */
  boolean solicited(String name) {
    return inflight.containsKey(name);
  }

  /**
   * Whether an archive of {@code name} that {@code from} sent unasked is taken: {@code from} announced a
   * version of it that is awaited here (a publisher sends its have, then the archive, on one channel),
   * and no push of that awaited version was taken yet. So a member makes this node verify at most one
   * pushed archive per have it sends, as it could by a replicated put; the have limits bound the rest.
   *
   * @return the awaited version the push is taken for, or null if it is not taken
   */
  VersionStamp takePush(M from, String name) {
    Awaited<M> a = awaited.get(name);
    if (a == null || a.pushTaken || !a.announcers.contains(from) || isRefused(from, name, a.stamp)) {
      return null;
    }
    a.pushTaken = true;
    return a.stamp;
  }

  /**
   * The archive {@code from} sent for {@code name} was examined (see {@link Reconciler#pullAnswered});
   * {@code pushed} is the version its push was taken for (null: not a push), {@code announced} what it
   * last announced (null: nothing).
   *
   * @return the stamp {@code from} is refused for from now on, or null
   */
  VersionStamp answered(M from, String name, boolean verified, VersionStamp pushed, VersionStamp announced, long now) {
    Inflight<M> f = inflight.get(name);
    VersionStamp held = store.held(name);
    VersionStamp claimed;
    if (f != null && f.member.equals(from)) {
      claimed = f.stamp;
      // answered: another member may be asked at once; the entry stays a while for late answers
      inflight.put(name, new Inflight<>(f.stamp, f.member, now));
    } else if (pushed != null) {
      claimed = pushed;
    } else {
      // not asked of it: a verified archive claims no more than it is
      claimed = verified ? null : announced;
    }
    if (claimed != null && (!verified || claimed.beats(held))) {
      if (refused.size() >= Reconciler.MAX_REFUSED) {
        refused.clear();
      }
      refused.add(new Refusal<>(from, name, claimed));
      return claimed;
    }
    return null;
  }

  /** Forgets the pulls unanswered for {@link Reconciler#INFLIGHT_KEEP} past their retry time. */
  void expire(long now) {
    long keep = Reconciler.INFLIGHT_KEEP.toNanos();
    inflight.values().removeIf(f -> now - f.retryAt > keep);
  }

  /** What is awaited of {@code name} and from whom, for a log line about an archive {@code from} sent. */
  String describe(M from, String name) {
    Awaited<M> a = awaited.get(name);
    if (a == null) {
      return "not awaited";
    }
    return "awaited v" + a.stamp.version() + (a.announcers.contains(from) ? " from it" : " from others only")
        + (a.pushTaken ? ", push taken" : "") + (isRefused(from, name, a.stamp) ? ", refused" : "");
  }

  int awaitedVersions() {
    return awaitedCount;
  }

  int pulledNames() {
    return inflight.size();
  }

  private boolean isRefused(M member, String name, VersionStamp stamp) {
    return !refused.isEmpty() && refused.contains(new Refusal<>(member, name, stamp));
  }

  void await(M from, String name, VersionStamp stamp, long now) {
    VersionStamp held = store.held(name);
    if (!stamp.beats(held) || isRefused(from, name, stamp)) {
      return;
    }
    Awaited<M> current = awaited.get(name);
    if (current != null && !stamp.beats(current.stamp)) {
      current.announcedBy(from);
      return;
    }
    if (awaited.size() - (current == null ? 0 : 1) >= Reconciler.MAX_AWAITED
        || awaitedBy.getOrDefault(from, 0) >= Reconciler.MAX_AWAITED_PER_MEMBER) {
      counters.rejected(Reconciler.HAVE_OVER_LIMIT);
      return;
    }
    Awaited<M> a = new Awaited<>(name, stamp, from, now + haveGraceNanos);
    if (current != null) {
      // whoever announced the older stamp may hold the newer one by now: a pull answers the highest
      current.announcers.forEach(a::announcedBy);
      forget(current);
    }
    awaited.put(name, a);
    awaitedBy.merge(from, 1, Integer::sum);
    awaitedCount = awaited.size();
  }

  private void pullAwaited(Awaited<M> a, long now) {
    if (awaited.get(a.name) != a) {
      return;
    }
    if (!a.stamp.beats(store.held(a.name))) {
      forget(a);
      return;
    }
    // a member whose archive for this stamp failed is not asked again
    a.announcers.removeIf(m -> isRefused(m, a.name, a.stamp));
    if (a.attempts >= Reconciler.MAX_PULL_ATTEMPTS || a.announcers.isEmpty()) {
      forget(a); // left to the digest rounds
      return;
    }
    M to = a.announcers.get(a.attempts % a.announcers.size());
    a.attempts++;
    Inflight<M> f = inflight.get(a.name);
    if (f == null || a.stamp.beats(f.stamp) || now - f.retryAt >= 0) {
      inflight.put(a.name, new Inflight<>(a.stamp, to, now + Reconciler.PULL_RETRY.toNanos()));
      counters.pulls.increment();
      actions.unicast(to, new AeMessage.Pull(List.of(a.name)));
    }
    a.dueAt = now + Reconciler.PULL_RETRY.toNanos();
  }

  private void forget(Awaited<M> a) {
    if (awaited.remove(a.name, a)) {
      awaitedBy.computeIfPresent(a.creator, (k, n) -> n > 1 ? n - 1 : null);
      awaitedCount = awaited.size();
    }
  }

  void pullWhatIsNewer(M from, Map<String, VersionStamp> theirs, long now) {
    Map<String, VersionStamp> mine = store.digest();
    List<String> want = new ArrayList<>();
    for (Map.Entry<String, VersionStamp> e : theirs.entrySet()) {
      String name = e.getKey();
      VersionStamp stamp = e.getValue();
      if (!stamp.beats(mine.get(name)) || isRefused(from, name, stamp)) {
        continue;
      }
      Inflight<M> f = inflight.get(name);
      if (f != null && !stamp.beats(f.stamp) && now - f.retryAt < 0) {
        continue;
      }
      inflight.put(name, new Inflight<>(stamp, from, now + Reconciler.PULL_RETRY.toNanos()));
      want.add(name);
    }
    if (!want.isEmpty()) {
      counters.pulls.increment();
      actions.unicast(from, new AeMessage.Pull(want));
    }
  }
}
