package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class MeshLifecycleTest {

  @Test
  void start_movesForward_andGoesBackOnlyToRetryOrHandOver() {
    assertThat(MeshLifecycle.NEW.canMoveTo(MeshLifecycle.CONNECTING)).isTrue();
    assertThat(MeshLifecycle.CONNECTING.canMoveTo(MeshLifecycle.CONNECTED)).isTrue();
    assertThat(MeshLifecycle.CONNECTED.canMoveTo(MeshLifecycle.READY)).isTrue();
    assertThat(MeshLifecycle.CONNECTED.canMoveTo(MeshLifecycle.CONNECTING)).as("bounded retry").isTrue();
    assertThat(MeshLifecycle.CONNECTING.canMoveTo(MeshLifecycle.FAILED)).isTrue();

    assertThat(MeshLifecycle.NEW.canMoveTo(MeshLifecycle.READY)).isFalse();
    assertThat(MeshLifecycle.CONNECTING.canMoveTo(MeshLifecycle.READY)).as("no cache without a channel").isFalse();
    assertThat(MeshLifecycle.READY.canMoveTo(MeshLifecycle.CONNECTING)).as("a coordinator handing over").isTrue();
    assertThat(MeshLifecycle.READY.canMoveTo(MeshLifecycle.CONNECTED)).isFalse();
    assertThat(MeshLifecycle.CONNECTED.canMoveTo(MeshLifecycle.FAILED)).as("after connecting, it retries").isFalse();
    assertThat(MeshLifecycle.FAILED.canMoveTo(MeshLifecycle.CONNECTING)).isFalse();
  }

  @Test
  void close_isReachableFromEveryState_andFinal() {
    Arrays.stream(MeshLifecycle.values()).filter(s -> s != MeshLifecycle.CLOSED)
        .forEach(s -> assertThat(s.canMoveTo(MeshLifecycle.CLOSED)).as(s.name()).isTrue());
    Arrays.stream(MeshLifecycle.values())
        .forEach(s -> assertThat(MeshLifecycle.CLOSED.canMoveTo(s)).as(s.name()).isFalse());
  }
}
