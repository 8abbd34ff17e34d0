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
  /** Closed. */
  STOPPED
}
