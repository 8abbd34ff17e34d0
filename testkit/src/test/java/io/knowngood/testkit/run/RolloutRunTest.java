package io.knowngood.testkit.run;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RolloutRunTest {
    @Test
    void everySimulatedVmGetsItsOwnAddress_neverOneOfTheNodes() {
        RolloutRun.VmAddresses a = new RolloutRun.VmAddresses(61);
        assertThat(a.next()).isEqualTo("127.0.61.1");
        for (int i = 1; i < 250; i++) {
            assertThat(a.next()).doesNotStartWith("127.0.0.");
        }
        assertThat(a.next()).isEqualTo("127.0.62.1");
    }
}
