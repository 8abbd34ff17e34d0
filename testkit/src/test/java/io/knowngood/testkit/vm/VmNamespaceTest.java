package io.knowngood.testkit.vm;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.knowngood.testkit.Ci;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The namespace is the VM it claims to be: only its link, reachable on both address families, gone
 * after close, and what a dead JVM left behind is removed while a live one's is kept.
 */
class VmNamespaceTest {

    @BeforeAll
    static void needsNamespaces() {
        String why = VmNamespace.unavailableBecause();
        Assumptions.assumeTrue(Ci.available(why), why);
    }

    @Test
    void theVm_hasOnlyItsLink_andReachesTheHostEndOnLinkLocalAndIpv4() throws Exception {
        try (VmNamespace vm = VmNamespace.create()) {
            assertThat(vm.exec("ip", "-o", "link", "show").out().lines().map(l -> l.split(":\\s+")[1].split("@")[0]))
                    .containsExactlyInAnyOrder("lo", "eth0");
            assertThat(vm.exec("ip", "-6", "-o", "addr", "show", "dev", "eth0").out()).contains("inet6 fe80::2/64").doesNotContain("global");
            assertThat(vm.exec("ip", "route", "show").out()).doesNotContain("default");
            assertThat(vm.exec("ip", "-6", "route", "show").out()).doesNotContain("default");

            HttpServer v6 = serve(InetAddress.getByName("fe80::1%" + vm.hostInterface()), "six");
            HttpServer v4 = serve(InetAddress.getByName(vm.hostIpv4()), "four");
            try {
                VmNamespace.Result six = vm.exec("curl", "-sS", "-g", "-m", "10",
                        vm.hostUrlFromVm(v6.getAddress().getPort()) + "/");
                VmNamespace.Result four = vm.exec("curl", "-sS", "-m", "10",
                        "http://" + vm.hostIpv4() + ":" + v4.getAddress().getPort() + "/");
                assertThat(six.out()).as(six.stderr()).isEqualTo("six from fe80:0:0:0:0:0:0:2");
                assertThat(four.out()).as(four.stderr()).isEqualTo("four from " + vm.vmIpv4());
            } finally {
                v6.stop(0);
                v4.stop(0);
            }
        }
    }

    @Test
    void close_removesTheNamespaceAndTheHostEnd() throws Exception {
        VmNamespace vm = VmNamespace.create();
        vm.close();
        assertThat(namespaces()).doesNotContain(vm.name());
        assertThat(new String(new ProcessBuilder("ip", "-o", "link", "show").start().getInputStream().readAllBytes(),
                StandardCharsets.UTF_8)).doesNotContain(vm.hostInterface());
    }

    @Test
    void removeLeftovers_deletesADeadJvmsNamespaces_andKeepsALiveOnes() throws Exception {
        String dead = "kgv-99999999-1"; // above any pid_max: no such process
        String live = "kgv-" + ProcessHandle.current().pid() + "-9999";
        sh("ip", "netns", "add", dead);
        sh("ip", "netns", "add", live);
        try {
            assertThat(VmNamespace.removeLeftovers()).isGreaterThanOrEqualTo(1);
            assertThat(namespaces()).doesNotContain(dead).contains(live);
        } finally {
            sh("ip", "netns", "del", dead);
            sh("ip", "netns", "del", live);
        }
    }

    @Test
    void ready_needsBothAddressesOutOfDad_andTheCarrier() {
        String addrs = "8: kgv1-1    inet 10.213.0.1/30 scope global kgv1-1\n8: kgv1-1    inet6 fe80::1/64 scope link nodad\n";
        String up = "8: kgv1-1@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500";
        assertThat(VmNamespace.ready(addrs, up)).isTrue();
        assertThat(VmNamespace.ready(addrs.replace("nodad", "tentative"), up)).isFalse();
        assertThat(VmNamespace.ready(addrs, up.replace(",LOWER_UP", ""))).isFalse();
        assertThat(VmNamespace.ready(addrs.lines().findFirst().orElseThrow(), up)).isFalse();
    }

    private static HttpServer serve(InetAddress bind, String word) throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress(bind, 0), 0);
        s.createContext("/", ex -> {
            byte[] body = (word + " from " + ex.getRemoteAddress().getAddress().getHostAddress().replaceAll("%.*$", ""))
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        s.start();
        return s;
    }

    private static List<String> namespaces() throws Exception {
        String out = new String(new ProcessBuilder("ip", "netns", "list").start().getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return out.lines().map(l -> l.trim().split("\\s+")[0]).toList();
    }

    private static void sh(String... cmd) throws Exception {
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }
}
