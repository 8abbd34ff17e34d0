package io.knowngood.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CiTest {
    @Test
    void nothingMissing_isAvailableEverywhere() {
        assertThat(Ci.available(null, true)).isTrue();
        assertThat(Ci.available(null, false)).isTrue();
    }

    @Test
    void somethingMissing_skipsOutsideCi() {
        assertThat(Ci.available("iptables is not installed", false)).isFalse();
    }

    @Test
    void somethingMissing_failsUnderCi_namingWhat() {
        assertThatThrownBy(() -> Ci.available("iptables is not installed", true))
                .isInstanceOf(AssertionError.class).hasMessageContaining("CI=true").hasMessageContaining("iptables is not installed");
    }

    @Test
    void missingTools_namesOnlyThoseNotOnThePath() {
        assertThat(Ci.missingTools("sh")).isNull();
        assertThat(Ci.missingTools("sh", "no-such-tool-kg12")).isEqualTo("not installed: no-such-tool-kg12 (.ci/run installs them)");
    }
}
