package io.knowngood.replication;

import java.util.Collection;
import org.jgroups.Address;
import org.jgroups.protocols.DISCARD;

/**
 * In-process partitions: each member drops everything from and to the members on the other side,
 * with the DISCARD protocol just above the transport (the meshes must be built with DISCARD). Heal
 * by clearing every member's ignore list.
 */
final class Partition {
  private Partition() {}

  static void split(Collection<InfinispanMesh> sideA, Collection<InfinispanMesh> sideB) {
    for (InfinispanMesh a : sideA) {
      for (InfinispanMesh b : sideB) {
        discard(a).addIgnoreMember(address(b));
        discard(b).addIgnoreMember(address(a));
      }
    }
  }

  static void heal(Collection<InfinispanMesh> all) {
    for (InfinispanMesh m : all) {
      discard(m).resetIgnoredMembers();
    }
  }

  private static DISCARD discard(InfinispanMesh m) {
    DISCARD d = m.channel().getProtocolStack().findProtocol(DISCARD.class);
    if (d == null) {
      throw new IllegalStateException("mesh built without DISCARD");
    }
    return d;
  }

  private static Address address(InfinispanMesh m) {
    return m.channel().getAddress();
  }
}
