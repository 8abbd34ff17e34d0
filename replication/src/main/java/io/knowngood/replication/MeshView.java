package io.knowngood.replication;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The node's view of the mesh. {@code partitioned} is true when some configured peer is not in view
 * (this node cannot tell a partition from a peer that is down), or when a member in view is silent
 * ({@link MemberInfo#silent}: cut off from this node, not yet excluded). {@code lastContact} is now while the
 * view holds another member, else when the node last saw one (empty if never).
 */
public record MeshView(String selfId, MeshState state, List<MemberInfo> members, Optional<String> coordinator,
                       boolean partitioned, Optional<Instant> lastContact) {
  public MeshView {
    members = List.copyOf(members);
  }
}
