package io.knowngood.replication;

/**
 * One member of the current view: its node id, its cluster address ({@code ip:port}), whether it is
 * this node, and whether failure detection has heard nothing from it within its timeout while it is
 * still in the view (a member cut off from this node that no one has excluded yet; never this node).
 */
public record MemberInfo(String id, String address, boolean self, boolean silent) {
  /** A member heard from (or this node). */
  public MemberInfo(String id, String address, boolean self) {
    this(id, address, self, false);
  }
}
