package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleVerifier;
import java.time.Clock;
import java.util.Collection;
import org.infinispan.configuration.cache.CacheMode;
import org.jgroups.protocols.DISCARD;

/**
 * The two knobs ConvergenceBench needs that the mesh does not offer publicly, reached from inside the
 * package (as chaos-tests' RogueMember does) so that replication exposes nothing for a benchmark: a
 * mesh with another replication mode (the REPL_SYNC comparison) and a DISCARD protocol above TCP, and
 * in-process partitions made with it. Benchmark code only; never shipped with the node.
 */
public final class BenchMeshes {
  private BenchMeshes() {
  }

  /** A mesh like production's but with {@code mode} and a DISCARD protocol for {@link #split}. */
  public static Mesh create(MeshConfig config, BundleVerifier verifier, LocalBundles local, CacheMode mode) {
    return new InfinispanMesh(config, verifier, local, Clock.systemUTC(), new InfinispanMesh.Options(mode, true, true, true));
  }

  /** Each member drops everything from and to the members on the other side. */
  public static void split(Collection<Mesh> sideA, Collection<Mesh> sideB) {
    for (Mesh a : sideA) {
      for (Mesh b : sideB) {
        discard(a).addIgnoreMember(((InfinispanMesh) b).channel().getAddress());
        discard(b).addIgnoreMember(((InfinispanMesh) a).channel().getAddress());
      }
    }
  }

  /** Clears every member's ignore list. */
  public static void heal(Collection<Mesh> all) {
    for (Mesh m : all) {
      discard(m).resetIgnoredMembers();
    }
  }

  private static DISCARD discard(Mesh m) {
    DISCARD d = ((InfinispanMesh) m).channel().getProtocolStack().findProtocol(DISCARD.class);
    if (d == null) {
      throw new IllegalStateException("mesh built without DISCARD (use BenchMeshes.create)");
    }
    return d;
  }
}
