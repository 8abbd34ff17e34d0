package io.knowngood.replication;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which other members of the view carry this node's id. JGroups tells members apart by a random
 * address and lets two of them share a logical name, so two hosts given one {@code --node-id} (a
 * configuration copied to a second host) joined silently; the mesh files each member's records and
 * counts under its id, so the two overwrite each other's rollout reports and holder counts. Of the
 * members sharing an id, the one earliest in the view (the one that joined first) keeps it; each later
 * one leaves the mesh once an earlier one has been in every look for the grace.
 *
 * <p>A member with this node's id at this node's own address is not a clash: it is this host's
 * previous process, killed and not yet removed from the view. The grace covers a previous process at
 * another address (the host's address changed across a restart): the failure detector removes it
 * within a few seconds. A member whose address JGroups cannot tell this moment is left for a later look.
 *
 * <p>Not thread-safe: the mesh's starter thread owns it. Time is passed in.
 *
 * @param <A> a member's address
 */
final class IdClashWatch<A> {
  /** A member of the view: its address, its id (logical name), its cluster address as text (null: unknown). */
  record Member<A>(A address, String id, String physical) {}

  /** A member with this node's id; {@code earlier}: before this node in the view (it joined first). */
  record Clash<A>(Member<A> member, boolean earlier) {}

  /** One look: the clashing members seen for the first time, and the earlier member to leave for, if any. */
  record Look<A>(List<Clash<A>> newlySeen, Optional<Member<A>> leaveFor) {}

  private final Duration grace;
  /** Earlier members with this node's id, since when they were in every look. */
  private final Map<A, Long> earlierSince = new HashMap<>();
  /** Clashing members already reported, while they stay in view. */
  private final Set<A> seen = new HashSet<>();

  IdClashWatch(Duration grace) {
    if (grace.isNegative() || grace.isZero()) {
      throw new IllegalArgumentException("grace must be positive");
    }
    this.grace = grace;
  }

  /**
   * One look at {@code view}, oldest member first. {@code newlySeen} lists the members with this node's
   * id at another address that were not in the previous look; {@code leaveFor} is the earliest member
   * with this node's id that has been earlier than this node in every look for the grace.
   */
  Look<A> look(List<Member<A>> view, Member<A> self, long nowNanos) {
    List<Member<A>> clashing = new ArrayList<>();
    Set<A> earlier = new HashSet<>();
    boolean beforeSelf = true;
    for (Member<A> m : view) {
      if (m.address().equals(self.address())) {
        beforeSelf = false;
        continue;
      }
      if (m.id().equals(self.id()) && m.physical() != null && !m.physical().equals(self.physical())) {
        clashing.add(m);
        if (beforeSelf) {
          earlier.add(m.address());
        }
      }
    }
    earlierSince.keySet().retainAll(earlier);
    List<Clash<A>> fresh = new ArrayList<>();
    Set<A> now = new HashSet<>();
    Member<A> leaveFor = null;
    for (Member<A> m : clashing) {
      now.add(m.address());
      if (!seen.contains(m.address())) {
        fresh.add(new Clash<>(m, earlier.contains(m.address())));
      }
      if (earlier.contains(m.address())) {
        long since = earlierSince.computeIfAbsent(m.address(), a -> nowNanos);
        if (leaveFor == null && nowNanos - since >= grace.toNanos()) {
          leaveFor = m;
        }
      }
    }
    seen.retainAll(now);
    seen.addAll(now);
    return new Look<>(List.copyOf(fresh), Optional.ofNullable(leaveFor));
  }
}
