package io.knowngood.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Numeric zones (%1, %2) so the tests need no particular interface on the machine. */
class LinkLocalZonesTest {

    private static final IpEndpoint LOOP_VM = IpEndpoint.parse("127.0.0.1:8780");
    private static final IpEndpoint LOOP_ADMIN = IpEndpoint.parse("127.0.0.1:8781");
    private static final IpEndpoint LOOP_CLUSTER = IpEndpoint.parse("127.0.0.1:7800");

    @Test
    void linkLocalWithZones_globalAndIpv4_areFine() {
        assertThat(LinkLocalZones.problem(List.of(ep("[fe80::1%1]:8780"), LOOP_VM), LOOP_ADMIN, ep("[fe80::1%2]:7800"),
                List.of(ep("[fe80::2%2]:7800"), ep("[fe80::3%2]:7800")), false)).isEmpty();
        assertThat(LinkLocalZones.problem(List.of(ep("[fd00::1]:8780")), LOOP_ADMIN, ep("[fd00:7::1]:7800"),
                List.of(ep("[fd00:7::2]:7800"), ep("10.0.0.2:7800")), false)).isEmpty();
    }

    @Test
    void aVmBindOnLinkLocalWithoutAZone_isRefused_namingIt() {
        assertThat(LinkLocalZones.problem(List.of(LOOP_VM, ep("[fe80::1]:8780")), LOOP_ADMIN, LOOP_CLUSTER, List.of(), false))
                .hasValue("vm-bind [fe80::1]:8780: a link-local address needs the zone of its link, e.g. [fe80::1%br0]:8780"
                        + " (the same fe80:: address can exist on every interface)");
    }

    @Test
    void adminBindClusterBindAndPeers_withoutAZone_areRefused() {
        assertThat(LinkLocalZones.problem(List.of(LOOP_VM), ep("[fe80::1]:8781"), LOOP_CLUSTER, List.of(), false))
                .hasValueSatisfying(p -> assertThat(p).startsWith("admin-bind [fe80::1]:8781: a link-local address needs"));
        assertThat(LinkLocalZones.problem(List.of(LOOP_VM), LOOP_ADMIN, ep("[fe80::1]:7800"), List.of(), false))
                .hasValueSatisfying(p -> assertThat(p).startsWith("cluster-bind [fe80::1]:7800: a link-local address needs"));
        assertThat(LinkLocalZones.problem(List.of(LOOP_VM), LOOP_ADMIN, ep("[fe80::1%1]:7800"), List.of(ep("[fe80::2]:7800")), false))
                .hasValueSatisfying(p -> assertThat(p).startsWith("peers [fe80::2]:7800: a link-local address needs"));
    }

    @Test
    void aLinkLocalPeer_needsALinkLocalClusterBindOnTheSameLink() {
        assertThat(LinkLocalZones.problem(List.of(LOOP_VM), LOOP_ADMIN, ep("[fe80::1%1]:7800"), List.of(ep("[fe80::2%2]:7800")), false))
                .hasValue("peers [fe80::2%2]:7800: a link-local peer is reached only from a link-local cluster-bind on the same"
                        + " link (the mesh connects from cluster-bind and drops the peer's zone), but cluster-bind is"
                        + " [fe80::1%1]:7800; use one zone for both, or a global or ULA (fd00::/8) address for the cluster network");
        assertThat(LinkLocalZones.problem(List.of(LOOP_VM), LOOP_ADMIN, ep("[fd00::1]:7800"), List.of(ep("[fe80::2%2]:7800")), false))
                .hasValueSatisfying(p -> assertThat(p).contains("but cluster-bind is [fd00::1]:7800"));
    }

    @Test
    void standalone_ignoresTheUnusedClusterSettings_butNotTheEndpoints() {
        assertThat(LinkLocalZones.problem(List.of(LOOP_VM), LOOP_ADMIN, ep("[fe80::1]:7800"), List.of(ep("[fe80::2%2]:7800")), true)).isEmpty();
        assertThat(LinkLocalZones.problem(List.of(ep("[fe80::1]:8780")), LOOP_ADMIN, LOOP_CLUSTER, List.of(), true)).isPresent();
    }

    @Test
    void theConfigRefusesIt_asBadConfiguration() {
        Settings s = new Settings();
        s.vmBind = List.of("[fe80::1]:8780");
        assertThatThrownBy(() -> NodeConfig.resolve(s)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("vm-bind [fe80::1]:8780: a link-local address needs the zone of its link");
    }

    private static IpEndpoint ep(String text) {
        return IpEndpoint.parse(text);
    }
}
