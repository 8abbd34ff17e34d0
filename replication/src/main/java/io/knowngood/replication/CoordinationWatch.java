package io.knowngood.replication;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The coordinator's check on its own topology management: which members have been in the view for
 * longer than a join takes without being in the cache topology. Infinispan 16.1.4's coordinator handles
 * views one at a time; one whose handling is held (a heartbeat to a member that does not answer waits
 * {@code distributedSyncTimeout / 10}) makes it skip the views queued meanwhile as older than the
 * transport's. If those included a merge or a stretch in which another member coordinated, it never
 * recovers the cluster's topologies: it goes on from its own stale topology id, below the one its own
 * node (and every other) already installed, so every rebalance it starts is ignored as old and no join
 * completes (docs/replication.md, "Start and rejoin"). Seen in the soak: a restarted node's start held
 * 60 s over two attempts. Only the coordinator can tell: a member stuck outside its CONFIG topology
 * for the bound. In that case its own member also ignored the rebalance it coordinates; a later soak
 * held a start over two attempts without that second sign (a join dropped from the queue, or a
 * coordinator stuck in another way), so the one sign decides and the other is only logged. A joiner's
 * own retry (at its 30 s bound) did not help there; a new coordinator's recovery does.
 *
 * <p>Not thread-safe: the mesh's starter thread owns it. Time is passed in.
 *
 * @param <A> a member's address
 */
final class CoordinationWatch<A> {
  private final Duration bound;
  private final Map<A, Long> missingSince = new HashMap<>();
  /** When a member with an entry in {@link #missingSince} was last in the view. */
  private final Map<A, Long> lastInView = new HashMap<>();

  CoordinationWatch(Duration bound) {
    if (bound.isNegative() || bound.isZero()) {
      throw new IllegalArgumentException("bound must be positive");
    }
    this.bound = bound;
  }

  /**
   * One look: {@code view} is the JGroups view, {@code topology} the members of the local cache
   * topology. Returns the members of the view (never {@code self}) that have been outside the topology
   * in every look for at least the bound, oldest first. A member that shows up in the topology starts
   * over; one that stays out of the view for the bound is forgotten. One that is back in the view
   * sooner keeps its clock: the mesh keys members by node name, and a joiner that gives up on a start
   * and joins again leaves the view for a moment. Without that, two joiners that gave up in turn every
   * 10 s (each one's leave shortens the other's wait) were never outside the topology for 12 s at one
   * look, and a stuck coordinator kept the mesh from forming for a minute (soak, 2026-12-02).
   */
  List<A> stuck(Collection<A> view, Collection<A> topology, A self, long nowNanos) {
    missingSince.keySet().removeAll(topology);
    for (A member : view) {
      lastInView.put(member, nowNanos);
    }
    missingSince.keySet().removeIf(m -> nowNanos - lastInView.get(m) >= bound.toNanos());
    List<Map.Entry<A, Long>> stuck = new ArrayList<>();
    for (A member : view) {
      if (member.equals(self) || topology.contains(member)) {
        continue;
      }
      long since = missingSince.computeIfAbsent(member, m -> nowNanos);
      if (nowNanos - since >= bound.toNanos()) {
        stuck.add(Map.entry(member, since));
      }
    }
    lastInView.keySet().retainAll(missingSince.keySet());
    stuck.sort(Map.Entry.comparingByValue());
    return stuck.stream().map(Map.Entry::getKey).toList();
  }

  /** Forgets every member: a new attempt, or this node no longer coordinates. */
  void reset() {
    missingSince.clear();
    lastInView.clear();
  }
}
