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
 * 60 s over two attempts. Only the coordinator can tell, by two signs together: a member stuck outside
 * its CONFIG topology for the bound, and, in consecutive looks, a CONFIG rebalance it says is in
 * progress while its own member shows none (it ignored its own rebalance as old). A join that is merely
 * slow, or one Infinispan dropped from its queue (no rebalance in progress), is not this.
 *
 * <p>Not thread-safe: the mesh's starter thread owns it. Time is passed in.
 *
 * @param <A> a member's address
 */
final class CoordinationWatch<A> {
  /** Consecutive looks in which the coordinator's own member ignored the rebalance it started. */
  static final int IGNORED_LOOKS = 2;
  private final Duration bound;
  private final Map<A, Long> missingSince = new HashMap<>();
  private int ignoredLooks;

  CoordinationWatch(Duration bound) {
    if (bound.isNegative() || bound.isZero()) {
      throw new IllegalArgumentException("bound must be positive");
    }
    this.bound = bound;
  }

  /**
   * One look by a coordinator: {@link #stuck} and whether its own rebalance is being ignored
   * ({@code rebalanceIgnored}: a rebalance in progress by its cluster status, none in its own member's
   * topology). Returns the stuck members if the rebalance was ignored in at least {@link #IGNORED_LOOKS}
   * consecutive looks, else nothing: then coordination should be handed over.
   */
  List<A> handOverFor(Collection<A> view, Collection<A> topology, A self, boolean rebalanceIgnored, long nowNanos) {
    ignoredLooks = rebalanceIgnored ? ignoredLooks + 1 : 0;
    List<A> stuck = stuck(view, topology, self, nowNanos);
    return ignoredLooks >= IGNORED_LOOKS ? stuck : List.of();
  }

  /**
   * One look: {@code view} is the JGroups view, {@code topology} the members of the local cache
   * topology. Returns the members of the view (never {@code self}) that have been outside the topology
   * in every look for at least the bound, oldest first. A member that leaves the view or shows up in the
   * topology starts over.
   */
  List<A> stuck(Collection<A> view, Collection<A> topology, A self, long nowNanos) {
    missingSince.keySet().retainAll(view);
    missingSince.keySet().removeAll(topology);
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
    stuck.sort(Map.Entry.comparingByValue());
    return stuck.stream().map(Map.Entry::getKey).toList();
  }

  /** Forgets every member: a new attempt, or this node no longer coordinates. */
  void reset() {
    missingSince.clear();
    ignoredLooks = 0;
  }
}
