package io.knowngood.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class NodeConfigTest {

    @TempDir
    Path dir;

    @Test
    void theDefaultNodeId_isHOSTNAME_elseTheKernelsHostName_elseKgnode() throws Exception {
        Path kernel = Files.writeString(dir.resolve("hostname"), "host-07\n");
        Path none = dir.resolve("missing");
        // a service has no HOSTNAME (systemd sets none and bash exports none): the kernel's name, as hostname prints it
        assertThat(NodeConfig.defaultNodeId(java.util.Map.of(), kernel)).isEqualTo("host-07");
        assertThat(NodeConfig.defaultNodeId(java.util.Map.of("HOSTNAME", "desk-host-3"), kernel)).isEqualTo("desk-host-3");
        assertThat(NodeConfig.defaultNodeId(java.util.Map.of("HOSTNAME", "not a name"), kernel)).isEqualTo("host-07");
        assertThat(NodeConfig.defaultNodeId(java.util.Map.of(), none)).isEqualTo("kgnode");
        Path odd = Files.writeString(dir.resolve("odd"), "(none)\n");
        assertThat(NodeConfig.defaultNodeId(java.util.Map.of(), odd)).isEqualTo("kgnode");
        assertThat(NodeConfig.defaultNodeId(java.util.Map.of(), dir)).as("a directory").isEqualTo("kgnode");
        // on this machine: what the kernel says, read without resolving anything
        String expected = Files.readString(NodeConfig.KERNEL_HOSTNAME).trim();
        if (expected.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}") && System.getenv("HOSTNAME") == null) {
            assertThat(NodeConfig.resolve(new Settings()).nodeId()).isEqualTo(expected);
        }
    }

    @Test
    void noSettingsAtAll_isTryItMode_onLoopback() {
        NodeConfig c = NodeConfig.resolve(new Settings());
        assertThat(c.vmBind()).extracting(IpEndpoint::toString).containsExactly("127.0.0.1:8780");
        assertThat(c.adminBind().toString()).isEqualTo("127.0.0.1:8781");
        assertThat(c.clusterBind().toString()).isEqualTo("127.0.0.1:7800");
        assertThat(c.peers()).isEmpty();
        assertThat(c.dataDir()).isEqualTo(Path.of("kgnode-data"));
        assertThat(c.floorFile().getFileName().toString()).isEqualTo("kgnode-data.floor");
        assertThat(c.adminTokenFile()).isEqualTo(Path.of("kgnode-data", "admin.token"));
        assertThat(c.keepVersions()).isEqualTo(5);
        assertThat(c.http()).isEqualTo(HttpLimits.defaults());
    }

    @Test
    void flagsOverrideTheFile_whichOverridesDefaults() throws Exception {
        Path yaml = dir.resolve("kgnode.yaml");
        Files.writeString(yaml, String.join("\n",
                "node-id: host-17",
                "data-dir: /var/lib/kgnode/data",
                "peers: [\"10.0.0.2:7800\", \"[fd00::3]:7800\"]",
                "vm-bind: [\"192.168.122.1:8780\", \"[::1]:8780\"]",
                "keep-versions: 9",
                "header-timeout: 3s",
                ""));
        Settings flags = new Settings();
        new CommandLine(flags).parseArgs("--keep-versions", "2", "--peers", "10.0.0.9:7800");
        NodeConfig c = NodeConfig.load(Optional.of(yaml), flags);
        assertThat(c.nodeId()).isEqualTo("host-17");
        assertThat(c.keepVersions()).isEqualTo(2);
        assertThat(c.peers()).extracting(IpEndpoint::toString).containsExactly("10.0.0.9:7800");
        assertThat(c.vmBind()).hasSize(2);
        assertThat(c.floorFile()).isEqualTo(Path.of("/var/lib/kgnode/data.floor"));
        assertThat(c.http().headerTimeout()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void unknownKeyInTheFile_isAnError() throws Exception {
        Path yaml = dir.resolve("typo.yaml");
        Files.writeString(yaml, "keep-version: 3\n");
        assertThatThrownBy(() -> NodeConfig.load(Optional.of(yaml), new Settings()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keep-version");
    }

    @Test
    void aNearMiss_namesTheLine_andTheSpellingMeant() throws Exception {
        assertThat(yamlError("node-id: n1\nvm_bind: 127.0.0.1:0\n"))
                .isEqualTo(dir.resolve("bad.yaml") + " line 2: unknown setting 'vm_bind' (did you mean 'vm-bind'?)");
        assertThat(yamlError("keep-version: 3\n")).endsWith("line 1: unknown setting 'keep-version' (did you mean 'keep-versions'?)");
        assertThat(yamlError("pool: {a: [10.0.0.0/8]}\n")).endsWith("line 1: unknown setting 'pool' (did you mean 'pools'?)");
        assertThat(yamlError("colour: blue\n")).endsWith("line 1: unknown setting 'colour'");
    }

    @Test
    void aKeyGivenTwice_aWrongShape_andBadSyntax_areOneLineErrors_withTheLine() throws Exception {
        assertThat(yamlError("node-id: n1\nnode-id: n2\n")).startsWith(dir.resolve("bad.yaml") + " line 2: ")
                .contains("node-id").doesNotContain("\n");
        assertThat(yamlError("node-id: [1, 2]\n")).isEqualTo(dir.resolve("bad.yaml") + " line 1: node-id: expected a single value");
        assertThat(yamlError("peers: 10.0.0.1:7800\n")).isEqualTo(dir.resolve("bad.yaml") + " line 1: peers: expected a list, like [a, b]");
        assertThat(yamlError("keep-versions: abc\n")).isEqualTo(dir.resolve("bad.yaml") + " line 1: keep-versions: expected a whole number, got 'abc'");
        assertThat(yamlError("standalone: maybe\n")).isEqualTo(dir.resolve("bad.yaml") + " line 1: standalone: expected true or false, got 'maybe'");
        assertThat(yamlError("max-files: 99999999999999\n")).startsWith(dir.resolve("bad.yaml") + " line 1: max-files: ").doesNotContain("\n");
        assertThat(yamlError("pools: [a, b]\n")).isEqualTo(dir.resolve("bad.yaml") + " line 1: pools: expected a mapping, like {name: [value]}");
        assertThat(yamlError("node-id: n1\n  bad: indent\n")).startsWith(dir.resolve("bad.yaml") + " line 2: ").doesNotContain("\n");
    }

    @Test
    void aMissingFile_isTheJdksOwnError_andAnEmptyOrCommentOnlyFile_isNoSettings() throws Exception {
        Path missing = dir.resolve("missing.yaml");
        // what kgnode then prints: StartFailureTest.aMissingConfigFile_saysSo
        assertThatThrownBy(() -> NodeConfig.readYaml(missing)).isInstanceOf(java.nio.file.NoSuchFileException.class);
        for (String empty : List.of("", "\n", "# all defaults\n")) {
            Path yaml = Files.writeString(dir.resolve("empty.yaml"), empty);
            assertThat(NodeConfig.resolve(NodeConfig.readYaml(yaml))).isEqualTo(NodeConfig.resolve(new Settings()));
        }
    }

    private String yamlError(String yaml) throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), yaml);
        return org.assertj.core.api.Assertions.catchThrowableOfType(() -> NodeConfig.readYaml(file), IllegalArgumentException.class)
                .getMessage();
    }

    @Test
    void hostNames_areRefused_ipLiteralsOnly() {
        assertThatThrownBy(() -> IpEndpoint.parse("localhost:8780")).hasMessageContaining("host names");
        assertThatThrownBy(() -> IpEndpoint.parse("fe80::1:8780")).isInstanceOf(IllegalArgumentException.class);
        assertThat(IpEndpoint.parse("[::1]:8780").toString()).isEqualTo("[::1]:8780");
        assertThat(IpEndpoint.parse("[fd00:0:0:0::1]:7800").toString()).isEqualTo("[fd00::1]:7800");
        assertThat(IpEndpoint.parseList("10.0.0.1:1, 10.0.0.2:2")).hasSize(2);
    }

    @Test
    void sampleConfigInPackaging_parsesAndResolves() throws Exception {
        Path sample = Path.of("..", "packaging", "kgnode.yaml");
        assertThat(sample).exists();
        NodeConfig c = NodeConfig.load(Optional.of(sample), new Settings());
        assertThat(c.trustKeys()).isNotEmpty();
        assertThat(c.floorFile().startsWith(c.dataDir())).isFalse();
    }

    @Test
    void durations() {
        assertThat(NodeConfig.parseDuration("x", "500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(NodeConfig.parseDuration("x", "5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(NodeConfig.parseDuration("x", "0")).isZero();
        assertThatThrownBy(() -> NodeConfig.parseDuration("x", "5 minutes")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.vmBind = List.of()))).hasMessageContaining("vm-bind");
    }

    @Test
    void pools_fromTheFile_orReplacedByFlags() throws Exception {
        Path yaml = dir.resolve("pools.yaml");
        Files.writeString(yaml, String.join("\n",
                "pools:",
                "  finance: [\"192.168.10.0/24\", \"fd00:10::/64\"]",
                "  kiosk:",
                "    - 192.168.20.0/24",
                ""));
        NodeConfig fromFile = NodeConfig.load(Optional.of(yaml), new Settings());
        assertThat(fromFile.pools().toString()).isEqualTo("finance=192.168.10.0/24,fd00:10::/64 kiosk=192.168.20.0/24");

        Settings flags = new Settings();
        new CommandLine(flags).parseArgs("--pool", "lab=::1", "--pool", "hr=10.8.0.0/16,10.9.0.0/16");
        NodeConfig c = NodeConfig.load(Optional.of(yaml), flags);
        assertThat(c.pools().toString()).isEqualTo("hr=10.8.0.0/16,10.9.0.0/16 lab=::1/128");

        assertThat(NodeConfig.resolve(new Settings()).pools().isEmpty()).isTrue();
    }

    @Test
    void twoEndpointsOnOneAddressAndPort_stopTheStart_namingBoth() {
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.vmBind = List.of("127.0.0.5:8780", "127.0.0.5:8780"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("vm-bind 127.0.0.5:8780 is given twice");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> {
            s.vmBind = List.of("127.0.0.5:8780");
            s.adminBind = "127.0.0.5:8780";
        }))).hasMessage("admin-bind 127.0.0.5:8780 is also the vm-bind: each endpoint needs its own address or port");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.clusterBind = "127.0.0.1:8781")))
                .hasMessage("cluster-bind 127.0.0.1:8781 is also the admin-bind: each endpoint needs its own address or port");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.vmBind = List.of("127.0.0.1:7801"))))
                .hasMessage("vm-bind 127.0.0.1:7801 is also the cluster-bind's port + 1 (failure detection): each endpoint needs its own address or port");
        NodeConfig anyPorts = NodeConfig.resolve(settings(s -> {
            s.vmBind = List.of("127.0.0.5:0");
            s.adminBind = "127.0.0.5:0";
        }));
        assertThat(anyPorts.adminBind().port()).isZero();
    }

    @Test
    void badPools_stopTheStart_withOneClearLine() throws Exception {
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.pool = List.of("finance=192.168.10.5/24"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("pool finance: '192.168.10.5/24' has host bits set; did you mean 192.168.10.0/24?");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.pool = List.of("Fin=10.0.0.0/8")))).hasMessageContaining("pool name 'Fin'");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.pools = java.util.Map.of("lab", List.of("fe80::%br0/64")))))
                .hasMessageContaining("zone");
        Path typo = dir.resolve("typo.yaml");
        Files.writeString(typo, "pool: [\"finance=10.0.0.0/8\"]\n");
        assertThatThrownBy(() -> NodeConfig.load(Optional.of(typo), new Settings()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageEndingWith("unknown setting 'pool' (did you mean 'pools'?)");
    }

    @Test
    void hostLabels_fromFlagsOrTheFile_andBadOnesStopTheStart() throws Exception {
        Settings flags = new Settings();
        new CommandLine(flags).parseArgs("--host-label", "rack=r1", "--host-label", "tier=gold");
        assertThat(NodeConfig.resolve(flags).hostLabels()).containsOnly(java.util.Map.entry("rack", "r1"), java.util.Map.entry("tier", "gold"));
        Path yaml = dir.resolve("labels.yaml");
        Files.writeString(yaml, "host-label: [\"rack=r2\"]\n");
        assertThat(NodeConfig.load(Optional.of(yaml), new Settings()).hostLabels()).containsOnly(java.util.Map.entry("rack", "r2"));
        assertThat(NodeConfig.load(Optional.of(yaml), flags).hostLabels()).as("flags replace the file's")
                .containsOnlyKeys("rack", "tier").containsEntry("rack", "r1");
        assertThat(NodeConfig.resolve(new Settings()).hostLabels()).isEmpty();
        for (String bad : List.of("rack", "=r1", "rack=", "rack=r 1", "-rack=r1", "rack=" + "r".repeat(64))) {
            assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.hostLabel = List.of(bad)))).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("host-label: expected KEY=VALUE");
        }
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.hostLabel = List.of("rack=r1", "rack=r2"))))
                .hasMessage("host-label: rack given twice");
    }

    @Test
    void site_fromTheFile_flagsOverride_andWithoutSiteNothingChanges() throws Exception {
        Path yaml = dir.resolve("site.yaml");
        Files.writeString(yaml, "cluster-bind: 10.0.0.1:7800\nsite: east\nsites: [west, dr]\nsite-bridge: 10.0.0.1:7900\n"
                + "site-peers: [192.168.5.1:7900, 192.168.6.1:7900]\n");

        NodeConfig fromFile = NodeConfig.load(Optional.of(yaml), new Settings());
        NodeConfig flags = NodeConfig.load(Optional.of(yaml), settings(s -> s.sitePeers = List.of("192.168.7.1:7900")));

        NodeConfig.Site site = fromFile.site().orElseThrow();
        assertThat(site.name()).isEqualTo("east");
        assertThat(site.others()).containsExactly("west", "dr");
        assertThat(site.bridge().orElseThrow().toString()).isEqualTo("10.0.0.1:7900");
        assertThat(site.peers()).extracting(Object::toString).containsExactly("192.168.5.1:7900", "192.168.6.1:7900");
        assertThat(flags.site().orElseThrow().peers()).extracting(Object::toString).containsExactly("192.168.7.1:7900");
        assertThat(NodeConfig.resolve(new Settings()).site()).isEmpty();
        // a node without a bridge relays through its site's master: no peers needed
        assertThat(NodeConfig.resolve(settings(s -> { s.site = "east"; s.sites = List.of("west"); })).site().orElseThrow().bridge())
                .isEmpty();
    }

    @Test
    void badSiteSettings_stopTheStart_withOneClearLine() {
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.siteBridge = "10.0.0.1:7900")))
                .hasMessage("site-bridge needs --site NAME");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.sitePeers = List.of("10.0.0.2:7900"))))
                .hasMessage("site-peers needs --site NAME");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> s.site = "east")))
                .hasMessageStartingWith("sites: name the other sites");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> { s.site = "east"; s.sites = List.of("east"); })))
                .hasMessageStartingWith("sites: name the other sites");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> { s.site = "east west"; s.sites = List.of("west"); })))
                .hasMessageStartingWith("site must match");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> { s.site = "east"; s.sites = List.of("west");
            s.siteBridge = "10.0.0.1:7900"; })))
                .hasMessageStartingWith("site-peers: a node with --site-bridge needs");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> { s.site = "east"; s.sites = List.of("west");
            s.clusterBind = "10.0.0.1:7800"; s.siteBridge = "10.0.0.1:7801"; s.sitePeers = List.of("10.0.0.2:7900"); })))
                .hasMessageContaining("overlaps cluster-bind");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> { s.site = "east"; s.sites = List.of("west");
            s.siteBridge = "bridge.example:7900"; s.sitePeers = List.of("10.0.0.2:7900"); })))
                .hasMessageStartingWith("site-bridge: ");
        assertThatThrownBy(() -> NodeConfig.resolve(settings(s -> { s.site = "east"; s.sites = List.of("west"); s.standalone = true; })))
                .hasMessageStartingWith("site: a standalone node");
    }

    private static Settings settings(java.util.function.Consumer<Settings> f) {
        Settings s = new Settings();
        f.accept(s);
        return s;
    }
}
