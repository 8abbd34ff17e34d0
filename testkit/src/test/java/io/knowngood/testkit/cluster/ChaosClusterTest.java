package io.knowngood.testkit.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** -Dchaos.ipBase moves a whole run: nodes, rogue and DNS trap, and refuses a base that does not fit. */
class ChaosClusterTest {
    @Test
    void ipBase_withoutAValue_isTheDefault_withOne_isThatNumber() {
        assertThat(ChaosCluster.ipBase(null, 21)).isEqualTo(21);
        assertThat(ChaosCluster.ipBase(" ", 21)).isEqualTo(21);
        assertThat(ChaosCluster.ipBase(" 160 ", 21)).isEqualTo(160);
        assertThatThrownBy(() -> ChaosCluster.ipBase("1a0", 21)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-Dchaos.ipBase").hasMessageContaining("1a0");
    }

    @Test
    void cluster_onABase_usesTenAddressesFromIt(@TempDir Path dir) throws Exception {
        ChaosCluster c = new ChaosCluster(dir.resolve("c"), dir.resolve("kgnode.jar"), 3, 160, 17400);
        assertThat(c.nodes()).extracting(n -> n.ip()).containsExactly("127.0.0.160", "127.0.0.161", "127.0.0.162");
        assertThat(c.rogueIp()).isEqualTo("127.0.0.168");
        assertThat(c.dnsTrapIp()).isEqualTo("127.0.0.169");
    }

    @Test
    void cluster_whoseAddressesWouldPass255_isRefusedBeforeTouchingItsDirectory(@TempDir Path dir) {
        assertThatThrownBy(() -> new ChaosCluster(dir.resolve("c"), dir.resolve("kgnode.jar"), 3, 246, 17400))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1..245");
        assertThatThrownBy(() -> new ChaosCluster(dir.resolve("c"), dir.resolve("kgnode.jar"), 9, 21, 17400))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 8 nodes");
        assertThat(Files.exists(dir.resolve("c"))).isFalse();
    }
}
