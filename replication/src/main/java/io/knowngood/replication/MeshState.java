package io.knowngood.replication;

/** Where the node stands in the mesh. */
public enum MeshState {
  /** Joining the cluster; the node serves from its own store meanwhile. */
  STARTING,
  /** Only this node in view (either configured alone or no peer reachable). */
  ALONE,
  /** Every configured peer is in view. */
  CLUSTERED,
  /** Some, not all, configured peers are in view. */
  PARTITIONED,
  /**
   * Left the mesh: another member has this node's id and joined first. Serves what it holds and takes
   * publishes on its own until restarted with an id of its own.
   */
  DUPLICATE_ID,
  /** Closed. */
  STOPPED
}
