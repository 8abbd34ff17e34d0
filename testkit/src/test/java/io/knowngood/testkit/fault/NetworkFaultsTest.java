package io.knowngood.testkit.fault;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The mesh traffic counters read iptables' listing: only the counting (RETURN) rules add up. */
class NetworkFaultsTest {
    @Test
    void returnedBytes_sumsTheCountingRulesOnly() {
        String listing = """
                Chain KGCHAOS-4242 (1 references)
                    pkts      bytes target     prot opt in     out     source               destination
                    1200   345678 RETURN     all  --  *      *       127.0.0.111          127.0.0.112
                      10     1000 RETURN     all  --  *      *       127.0.0.112          127.0.0.111
                       3      180 DROP       all  --  *      *       127.0.0.111          127.0.0.113
                """;
        assertThat(NetworkFaults.returnedBytes(listing)).isEqualTo(346_678);
        assertThat(NetworkFaults.returnedBytes("Chain KGCHAOS-1 (1 references)\n    pkts      bytes target\n")).isZero();
    }
}
