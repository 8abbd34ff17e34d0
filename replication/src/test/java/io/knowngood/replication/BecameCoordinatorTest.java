package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The rule that shortens a starting node's cache-start wait when a view makes it the coordinator
 * (a merge led by it, seen in the soak holding a start for the whole 30 s bound).
 */
class BecameCoordinatorTest {
  private final Address self = UUID.randomUUID();
  private final Address a = UUID.randomUUID();
  private final Address b = UUID.randomUUID();

  @Test
  void aMergeThatPutsThisNodeFirst_makesItTheNewCoordinator() {
    View before = View.create(a, 7, a, b, self);
    View merged = View.create(self, 8, self, a, b);
    assertThat(InfinispanMesh.becameCoordinator(before, merged, self)).isTrue();
  }

  @Test
  void aViewWithAnotherCoordinator_orWhereItAlreadyCoordinated_orAlone_isNot() {
    View led = View.create(self, 7, self, a);
    assertThat(InfinispanMesh.becameCoordinator(View.create(a, 6, a, self), View.create(a, 7, a, b, self), self)).isFalse();
    assertThat(InfinispanMesh.becameCoordinator(led, View.create(self, 8, self, a, b), self)).isFalse();
    assertThat(InfinispanMesh.becameCoordinator(View.create(a, 6, a, self), View.create(self, 7, List.of(self)), self))
        .as("alone: nobody else's topology to recover").isFalse();
    assertThat(InfinispanMesh.becameCoordinator(View.create(a, 6, a, self), led, null)).isFalse();
  }
}
