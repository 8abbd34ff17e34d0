package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.process.FileTrees;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.vm.VmNamespace;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Host-only networks with real kgnode processes and a VM that is a network namespace
 * ({@link VmNamespace}): its only link a veth pair to the host, its only addresses its own link-local
 * one and an IPv4 address of a /30, no route and no DNS. The VM fetches the signed archive from the
 * node's link-local address with a zone and over IPv4 with curl, as a guest would, and cloud-init's
 * NoCloud reader reads its seed from the link-local address; a link-local bind without a zone stops
 * the start; pools match the VM's source address seen from inside the namespace; and two nodes form
 * a TLS mesh whose cluster addresses are link-local with zones (one node in the host, one in a
 * namespace: two hosts on one link) and replicate both ways (docs/host-only.md says why that works
 * and what it costs).
 */
class HostOnlyNetworkTest {

    private static final Duration UP = NodeProcess.START_DEADLINE;
    private static KeyPair publisher;
    private static BundleVerifier verifier;
    private static Path dir;
    private static Path trust;
    private final List<NodeProcess> nodes = new ArrayList<>();
    private final List<VmNamespace> namespaces = new ArrayList<>();

    @BeforeAll
    static void needsRootNamespacesAndTheJar() throws IOException {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        String why = VmNamespace.unavailableBecause();
        Assumptions.assumeTrue(Ci.available(why), why);
        dir = Files.createTempDirectory("kg-host-only");
        publisher = Ed25519Keys.generate();
        verifier = new BundleVerifier(TrustedKeys.of(List.of(publisher.getPublic())), Limits.defaults());
        trust = dir.resolve("publisher.pub");
        Ed25519Keys.writePublicPem(publisher.getPublic(), trust);
    }

    @AfterEach
    void stopNodesAndRemoveNamespaces() throws Exception {
        for (NodeProcess n : nodes) {
            n.stop();
        }
        for (VmNamespace ns : namespaces) {
            ns.close();
        }
    }

    @AfterAll
    static void removeDir() throws IOException {
        if (dir != null) {
            FileTrees.delete(dir);
        }
    }

    @Test
    void aVmWithOnlyItsLinkLocalAddress_fetchesTheSignedArchive_onTheHostsLinkLocalAddressWithAZone_andOverIpv4() throws Exception {
        VmNamespace vm = namespace();
        int port = NodeProcess.freePort();
        NodeProcess node = node(NodeProcess.builder("h1", dir).args("--standalone", "--trust-key", trust.toString(),
                "--scrub-interval", "0",
                "--vm-bind", vm.hostLinkLocalEndpoint(port), "--vm-bind", vm.hostIpv4() + ":" + port));
        byte[] archive = pack("desk", 1, List.of());
        assertThat(node.publish("desk", archive, Duration.ofSeconds(10))).isEqualTo(201);

        // the guest's form of the zone: its own interface (eth0), not the host's name for the link
        byte[] overSix = curl(vm, "-g", vm.hostUrlFromVm(port) + "/v1/bundles/desk");
        byte[] overFour = curl(vm, "http://" + vm.hostIpv4() + ":" + port + "/v1/bundles/desk");

        assertThat(overSix).isEqualTo(archive);
        assertThat(overFour).isEqualTo(archive);
        assertThat(verifier.verifyAs("desk", overSix)).isInstanceOf(VerifyResult.Verified.class);
        // the host's name for the link means nothing inside the guest
        VmNamespace.Result hostsZone = vm.exec("curl", "-sS", "-g", "-m", "5",
                "http://" + vm.hostLinkLocalEndpoint(port) + "/v1/bundles/desk");
        assertThat(hostsZone.exit()).as(hostsZone.stderr()).isNotZero();
        // the host's loopback is not the VM's: the node's 127.0.0.1 endpoint is out of its reach
        assertThat(vm.exec("curl", "-sS", "-m", "3", "http://127.0.0.1:" + node.vmPort() + "/v1/health").exit()).isNotZero();
    }

    @Test
    void cloudInitsNoCloudReader_inTheVm_readsItsSeed_fromTheHostsLinkLocalAddressWithTheGuestsZone() throws Exception {
        String why = noCloudReaderMissing();
        Assumptions.assumeTrue(Ci.available(why), why);
        VmNamespace vm = namespace();
        int port = NodeProcess.freePort();
        NodeProcess node = node(NodeProcess.builder("h3", dir).args("--standalone", "--trust-key", trust.toString(),
                "--scrub-interval", "0", "--vm-bind", vm.hostLinkLocalEndpoint(port)));
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("meta-data", "instance-id: desk-0042\nlocal-hostname: desk-0042\n".getBytes(StandardCharsets.UTF_8));
        files.put("user-data", "#cloud-config\nruncmd: [[touch, /run/seeded]]\n".getBytes(StandardCharsets.UTF_8));
        assertThat(node.publish("seed", BundlePacker.pack("seed", 1, files, BundlePacker.PackOptions.none(), publisher.getPrivate(),
                Clock.systemUTC()), Duration.ofSeconds(10))).isEqualTo(201);

        // what NoCloud does with ds=nocloud;s=URL: read_seeded(URL) fetches URL + meta-data, user-data, vendor-data
        String seed = vm.hostUrlFromVm(port) + "/v1/bundles/seed/files/";
        VmNamespace.Result r = vm.exec("/usr/bin/python3", "-c", "import sys\nfrom cloudinit import util\n"
                + "md, ud, vd = util.read_seeded(sys.argv[1], timeout=5, retries=1)\n"
                + "print(md['instance-id'], md['local-hostname'], vd)\nsys.stdout.write(ud.decode())", seed);

        assertThat(r.exit()).as(r.stderr()).isZero();
        assertThat(r.out()).isEqualTo("desk-0042 desk-0042 None\n#cloud-config\nruncmd: [[touch, /run/seeded]]\n");
    }

    @Test
    void pools_matchTheVmsSourceAddress_seenFromInsideItsNamespace_ipv4AndLinkLocalWithTheZoneDropped() throws Exception {
        VmNamespace vm = namespace();
        VmNamespace other = namespace();
        int port = NodeProcess.freePort();
        NodeProcess node = node(NodeProcess.builder("h2", dir).args("--standalone", "--trust-key", trust.toString(),
                "--scrub-interval", "0",
                "--pool", "finance=" + vm.vmIpv4() + "/32", "--pool", "lab=fe80::/10",
                "--vm-bind", vm.hostLinkLocalEndpoint(port), "--vm-bind", vm.hostIpv4() + ":" + port,
                "--vm-bind", other.hostIpv4() + ":" + port));
        byte[] fin = pack("fin", 1, List.of("finance"));
        byte[] lab = pack("labdesk", 1, List.of("lab"));
        byte[] all = pack("all", 1, List.of());
        for (Map.Entry<String, byte[]> b : Map.of("fin", fin, "labdesk", lab, "all", all).entrySet()) {
            assertThat(node.publish(b.getKey(), b.getValue(), Duration.ofSeconds(10))).isEqualTo(201);
        }
        String four = "http://" + vm.hostIpv4() + ":" + port + "/v1/bundles";
        String six = vm.hostUrlFromVm(port) + "/v1/bundles";
        String elsewhere = "http://" + other.hostIpv4() + ":" + port + "/v1/bundles";

        // over IPv4 the VM is in finance only
        assertThat(curl(vm, four + "/fin")).isEqualTo(fin);
        assertThat(status(vm, four + "/labdesk")).isEqualTo(404);
        assertThat(curl(vm, four + "/all")).isEqualTo(all);
        assertThat(new String(curl(vm, four), StandardCharsets.UTF_8)).contains("\"fin\"").doesNotContain("labdesk");
        // over link-local (fe80::2, its zone dropped before matching) it is in lab only
        assertThat(curl(vm, "-g", six + "/labdesk")).isEqualTo(lab);
        assertThat(status(vm, "-g", six + "/fin")).isEqualTo(404);
        assertThat(curl(vm, "-g", six + "/all")).isEqualTo(all);
        // another VM's IPv4 address is in no pool: unscoped bundles only
        assertThat(status(other, elsewhere + "/fin")).isEqualTo(404);
        assertThat(status(other, elsewhere + "/labdesk")).isEqualTo(404);
        assertThat(curl(other, elsewhere + "/all")).isEqualTo(all);
    }

    @Test
    void twoNodes_meshOverLinkLocalAddressesWithZones_withTls_andReplicateBothWays() throws Exception {
        VmNamespace peerHost = namespace(); // a second host on the same link: its end is eth0
        int cluster = NodeProcess.freePort();
        MeshCa ca = MeshCa.generate(Clock.systemUTC());
        ca.issue("ll1").writeTo(dir.resolve("ll1-tls"));
        ca.issue("ll2").writeTo(dir.resolve("ll2-tls"));
        List<String> common = List.of("--cluster-name", "link-local-" + cluster, "--trust-key", trust.toString(),
                "--mesh-timings", "local-testing", "--scrub-interval", "0");
        NodeProcess.Builder b1 = NodeProcess.builder("ll1", dir).args(common)
                .args("--cluster-tls-dir", dir.resolve("ll1-tls").toString(),
                        "--cluster-bind", "[" + VmNamespace.HOST_LINK_LOCAL + "%" + peerHost.hostInterface() + "]:" + cluster,
                        "--peers", peerHost.vmLinkLocalEndpointFromHost(cluster));
        // the node inside answers its admin and VM endpoints on its IPv4 address, which the test reaches
        NodeProcess.Builder b2 = NodeProcess.builder("ll2", dir).ip(peerHost.vmIpv4()).args(common)
                .args("--cluster-tls-dir", dir.resolve("ll2-tls").toString(),
                        "--cluster-bind", "[" + VmNamespace.VM_LINK_LOCAL + "%" + VmNamespace.VM_INTERFACE + "]:" + cluster,
                        "--peers", "[" + VmNamespace.HOST_LINK_LOCAL + "%" + VmNamespace.VM_INTERFACE + "]:" + cluster);
        NodeProcess n2 = b2.build();
        n2.wrap(peerHost.execPrefix(), Map.of());
        NodeProcess n1 = node(b1);
        nodes.add(n2);
        n2.start();
        Awaitility.await("ll2 serving").atMost(UP).pollInterval(Duration.ofMillis(200)).until(n2::up);

        for (NodeProcess n : List.of(n1, n2)) {
            Awaitility.await(n.id() + " in a mesh of two").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .ignoreExceptionsInstanceOf(IOException.class).untilAsserted(() -> {
                        String c = n.adminGet("/v1/cluster").body();
                        assertThat(c).contains("\"state\":\"CLUSTERED\"").contains("\"id\":\"ll1\"").contains("\"id\":\"ll2\"");
                    });
        }
        assertThat(Files.readString(n1.log())).contains("mesh TLS on: certificate CN=ll1");

        byte[] v1 = pack("shared", 1, List.of());
        assertThat(n1.publish("shared", v1, Duration.ofSeconds(15))).isEqualTo(201);
        awaitServes(n2, "shared", v1);
        byte[] v2 = pack("shared", 2, List.of());
        assertThat(n2.publish("shared", v2, Duration.ofSeconds(15))).isEqualTo(201);
        awaitServes(n1, "shared", v2);
    }

    @Test
    void aLinkLocalVmBindWithoutAZone_stopsTheStart_withOneLine_exit2() throws Exception {
        Path out = dir.resolve("no-zone.out");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                NodeProcess.jar().toString(), "run", "--standalone", "--data-dir", dir.resolve("no-zone-data").toString(),
                "--vm-bind", "[fe80::1]:8780").redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(Files.readString(out)).isEqualTo("kgnode: bad configuration: vm-bind [fe80::1]:8780: a link-local address"
                + " needs the zone of its link, e.g. [fe80::1%br0]:8780 (the same fe80:: address can exist on every interface)\n");
    }

    /** Null when cloud-init's Python module (Debian package cloud-init) can be imported by the system Python, else why not. */
    private static String noCloudReaderMissing() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/python3"))) {
            return "not installed: python3, cloud-init (.ci/run installs them)";
        }
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import cloudinit.util").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? null : "not installed: cloud-init (.ci/run installs it)";
    }

    private static void awaitServes(NodeProcess n, String name, byte[] archive) {
        Awaitility.await(n.id() + " serves the published archive").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .ignoreExceptionsInstanceOf(IOException.class).untilAsserted(() -> {
                    HttpResponse<byte[]> r = n.get("/v1/bundles/" + name);
                    assertThat(r.statusCode()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo(archive);
                });
    }

    private VmNamespace namespace() throws IOException {
        VmNamespace ns = VmNamespace.create();
        namespaces.add(ns);
        return ns;
    }

    private NodeProcess node(NodeProcess.Builder b) throws Exception {
        NodeProcess n = b.build();
        nodes.add(n);
        n.start();
        Awaitility.await(n.id() + " serving").atMost(UP).pollInterval(Duration.ofMillis(200)).until(n::up);
        return n;
    }

    private static byte[] pack(String name, long version, List<String> pools) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("config.ini", ("[desk]\nname=" + name + "\nversion=" + version + "\n").getBytes(StandardCharsets.UTF_8));
        return BundlePacker.pack(name, version, files, BundlePacker.PackOptions.none().withPools(pools), publisher.getPrivate(),
                Clock.systemUTC());
    }

    /** The body curl got inside the namespace; fails on any HTTP error or connection failure. */
    private static byte[] curl(VmNamespace vm, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-f", "-m", "10"));
        cmd.addAll(List.of(args));
        VmNamespace.Result r = vm.exec(cmd.toArray(String[]::new));
        assertThat(r.exit()).as("%s: %s", cmd, r.stderr()).isZero();
        return r.stdout();
    }

    /** The HTTP status curl saw inside the namespace (0: no answer). */
    private static int status(VmNamespace vm, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10"));
        cmd.addAll(List.of(args));
        return Integer.parseInt(vm.exec(cmd.toArray(String[]::new)).out().trim());
    }
}
