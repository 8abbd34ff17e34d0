package io.knowngood.replication;

import java.util.EnumSet;
import java.util.Set;

/**
 * Where {@link InfinispanMesh} is in its start, as one value with its allowed moves in one place.
 * {@code CONNECTED -> CONNECTING} is the bounded retry: a cache start that did not finish in time is
 * abandoned, its channel closed and a new one joined. {@code READY -> CONNECTING} is the hand-over: a
 * coordinator that finds a member stuck joining ({@code CoordinationWatch}) leaves and joins again, so that
 * another member coordinates and recovers the topologies. What the node sees ({@link MeshState}) is
 * derived from this: {@code STARTING} until {@code READY}, {@code DUPLICATE_ID} after
 * {@code DUPLICATE_ID}, {@code STOPPED} after {@code FAILED} or {@code CLOSED}.
 */
enum MeshLifecycle {
  /** Created, {@code start()} not called. */
  NEW,
  /** Building the channel and cache manager, the channel joining the cluster. */
  CONNECTING,
  /** The channel has joined: anti-entropy runs (pulls refill the store); the cache is starting. */
  CONNECTED,
  /** The cache has started: replicated puts, state transfer and merges reach the store too. */
  READY,
  /** Left the mesh: another member has this node's id and joined first ({@link IdClashWatch}); see the log. */
  DUPLICATE_ID,
  /** The channel could not be built or connect (port taken, unreadable credentials); see the log. */
  FAILED,
  /** Closed; final. */
  CLOSED;

  boolean canMoveTo(MeshLifecycle next) {
    return next(this).contains(next);
  }

  private static Set<MeshLifecycle> next(MeshLifecycle from) {
    switch (from) {
      case NEW:
        return EnumSet.of(CONNECTING, CLOSED);
      case CONNECTING:
        return EnumSet.of(CONNECTED, FAILED, CLOSED);
      case CONNECTED:
        return EnumSet.of(READY, CONNECTING, CLOSED);
      case READY:
        return EnumSet.of(CONNECTING, DUPLICATE_ID, CLOSED);
      case FAILED:
      case DUPLICATE_ID:
        return EnumSet.of(CLOSED);
      default:
        return EnumSet.noneOf(MeshLifecycle.class);
    }
  }
}
