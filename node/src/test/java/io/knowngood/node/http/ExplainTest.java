package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.api.ApiJson;
import io.knowngood.api.Explain;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.crypto.rollout.ControlCodec;
import io.knowngood.crypto.rollout.RolloutControl;
import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /v1/explain/{name}?vm=IP} against a real node: the answer is the VM endpoint's own (a
 * VM at that address is asked too, and must agree), with each reason named, and the dependencies a
 * standalone node has.
 */
class ExplainTest {

    static final TestBundles BUNDLES = new TestBundles();
    static final String FINANCE = "127.0.10.5";
    static final String KIOSK = "127.0.20.5";
    static final String READER = "reader-token-0123456789abcdef";
    static TestNode node;
    static Path dataDir;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        dataDir = dir.resolve("data");
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "ops publish ops-token-0123456789abcdef\nreader read " + READER + "\n");
        Files.setPosixFilePermissions(tokens, PosixFilePermissions.fromString("rw-------"));
        node = TestNode.start(dir, BUNDLES.writePublicKey(dir), s -> {
            s.adminTokenFile = tokens.toString();
            s.pool = List.of("finance=127.0.10.0/24", "kiosk=127.0.20.0/24");
        });
        publish("pay", BUNDLES.forPools("pay", 1, "ledger", null, "finance"));
        publish("common", BUNDLES.bundle("common", 3, "for everyone"));
        publish("old", BUNDLES.bundle("old", 1, "stale", null, Instant.parse("2026-11-26T00:00:00Z")));
        publish("gone", BUNDLES.bundle("gone", 1, "x"));
        publish("gone", BUNDLES.retired("gone", 2));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    static void publish(String name, byte[] archive) throws Exception {
        HttpResponse<String> r = node.publish(name, archive, "ops-token-0123456789abcdef");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    }

    static HttpResponse<String> ask(String path) throws Exception {
        return node.http.send(HttpRequest.newBuilder(node.admin(path)).header("Authorization", "Bearer " + READER).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static Explain explain(String path) throws Exception {
        HttpResponse<String> r = ask(path);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ((ApiJson.Decoded.Body<Explain>) ApiJson.decode(r.body().getBytes(StandardCharsets.UTF_8), Explain.class)).value();
    }

    static Map<String, String> statusByKind(Explain e) {
        return e.dependencies().stream().collect(Collectors.toMap(d -> d.kind() + ":" + d.name(), Explain.Dependency::status));
    }

    @Test
    void bundleForEveryone_isServedVerified_withEveryDependencyOfAStandaloneNode() throws Exception {
        Explain e = explain("/v1/explain/common");
        assertThat(e.vm().outcome()).isEqualTo("served");
        assertThat(e.vm().verified()).isTrue();
        assertThat(e.vm().version()).isEqualTo(3L);
        assertThat(e.vm().state()).isEqualTo("good");
        assertThat(e.vm().expired()).isFalse();
        assertThat(e.vmAddress()).isNull();
        assertThat(e.pools()).isEmpty();
        assertThat(e.node()).isEqualTo("test-node");
        assertThat(e.dependencies()).extracting(Explain.Dependency::kind)
                .containsExactly("peer", "site", "publish", "store", "disk", "certificate", "certificate", "clock", "dns");
        Map<String, String> s = statusByKind(e);
        assertThat(s).containsEntry("peer:-", "n/a").containsEntry("site:-", "n/a").containsEntry("publish:ops", "ok")
                .containsEntry("store:bundles", "ok").containsEntry("certificate:mesh", "n/a").containsEntry("certificate:admin", "n/a")
                .containsEntry("clock:-", "n/a").containsEntry("dns:-", "ok");
        assertThat(e.dependencies().stream().filter(d -> d.kind().equals("publish")).findFirst().get().detail())
                .contains("gone@2").contains("by token ops");
        assertThat(e.dependencies().stream().filter(d -> d.kind().equals("disk")).findFirst().get().detail()).contains("MiB free of");
    }

    @Test
    void anAddressOnlyRemembered_isAWarning_sayingWhenItWasLastInAView_andThatItIsForgotten() throws Exception {
        // the mesh-peers file as the mesh writes it: a host retired 3 days ago, and one from a file written before times
        long threeDaysAgo = Instant.now().minus(java.time.Duration.ofDays(3)).getEpochSecond();
        String body = "# knowngood mesh peers v1: cluster addresses seen in views (discovery hints only)\n10.9.0.7 7800\nfd00::9 7800\n"
                + "# seen 10.9.0.7 7800 " + threeDaysAgo + "\n";
        Path file = dataDir.resolve("mesh-peers");
        Files.writeString(file, body + "sha256 " + io.knowngood.crypto.bundle.Sha256.hex(body.getBytes(StandardCharsets.UTF_8)) + "\n");
        try {
            Explain e = explain("/v1/explain/common");
            Explain.Dependency retired = e.dependencies().stream().filter(d -> d.name().equals("10.9.0.7:7800")).findFirst().orElseThrow();
            assertThat(retired.status()).isEqualTo("warn");
            assertThat(retired.detail()).contains("an address remembered from an earlier view (last in one 3 days ago, at "
                    + Instant.ofEpochSecond(threeDaysAgo) + ")").contains("a discovery hint only")
                    .contains("forgotten 30 days after it was last in a view");
            Explain.Dependency older = e.dependencies().stream().filter(d -> d.name().equals("[fd00::9]:7800")).findFirst().orElseThrow();
            assertThat(older.status()).isEqualTo("warn");
            assertThat(older.detail()).contains("an address remembered from an earlier view, not seen");
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void pooledBundle_isServedToItsPool_andHiddenFromAnother_asTheVmEndpointAnswers() throws Exception {
        Explain finance = explain("/v1/explain/pay?vm=" + FINANCE);
        assertThat(finance.pools()).containsExactly("finance");
        assertThat(finance.vmAddress()).isEqualTo(FINANCE);
        assertThat(finance.vm().outcome()).isEqualTo("served");
        assertThat(vmStatus(FINANCE, "/v1/bundles/pay")).isEqualTo(200);

        Explain kiosk = explain("/v1/explain/pay?vm=" + KIOSK);
        assertThat(kiosk.pools()).containsExactly("kiosk");
        assertThat(kiosk.vm().outcome()).isEqualTo("hidden_by_pools");
        assertThat(kiosk.vm().verified()).isFalse();
        assertThat(kiosk.vm().version()).isNull();
        assertThat(kiosk.vm().reason()).contains("for pools finance").contains("404");
        assertThat(vmStatus(KIOSK, "/v1/bundles/pay")).isEqualTo(404);

        Explain nowhere = explain("/v1/explain/pay");
        assertThat(nowhere.vm().outcome()).isEqualTo("hidden_by_pools");

        Explain v6 = explain("/v1/explain/pay?vm=FD00:0:0:0:0:0:0:5");
        assertThat(v6.vmAddress()).as("as an admin writes it (RFC 5952)").isEqualTo("fd00::5");
        Explain encoded = explain("/v1/explain/pay?vm=fd00%3A%3A5");
        assertThat(encoded.vmAddress()).as("percent-encoded, as HTTP clients send it").isEqualTo("fd00::5");
    }

    @Test
    void expiredVersion_isStillServed_andSaidExpired() throws Exception {
        Explain e = explain("/v1/explain/old");
        assertThat(e.vm().outcome()).isEqualTo("served");
        assertThat(e.vm().verified()).isTrue();
        assertThat(e.vm().expired()).isTrue();
        assertThat(e.vm().expires()).isEqualTo("2026-11-26T00:00:00Z");
        assertThat(e.vm().reason()).contains("expired at 2026-11-26T00:00:00Z");
    }

    @Test
    void unknownAndRetiredNames_areNotServed_withTheirReason() throws Exception {
        Explain unknown = explain("/v1/explain/nothing-here");
        assertThat(unknown.vm().outcome()).isEqualTo("no_such_bundle");
        assertThat(unknown.vm().verified()).isFalse();
        Explain retired = explain("/v1/explain/gone");
        assertThat(retired.vm().outcome()).isEqualTo("retired");
        assertThat(retired.vm().reason()).contains("version 2");
        assertThat(retired.vm().latest()).isEqualTo(2L);
    }

    @Test
    void everyVersionReverted_isNotServed_andSaysSo_asTheVmEndpointAnswers() throws Exception {
        RolloutPolicy here = new RolloutPolicy(List.of(new RolloutPolicy.Hosts(List.of("test-node"))), 100, 3600, 100);
        publish("canary", BUNDLES.bundle("canary", 1, "new", here, null));
        byte[] abort = ControlCodec.sign(new RolloutControl("canary", 1, RolloutControl.Action.ABORT, Instant.now()), BUNDLES.key.getPrivate());
        HttpResponse<String> applied = node.http.send(HttpRequest.newBuilder(node.admin("/v1/rollouts/canary/1/controls"))
                .header("Authorization", "Bearer ops-token-0123456789abcdef").PUT(HttpRequest.BodyPublishers.ofByteArray(abort)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(202);

        Explain e = explain("/v1/explain/canary");
        assertThat(e.vm().outcome()).isEqualTo("all_reverted");
        assertThat(e.vm().verified()).isFalse();
        assertThat(e.vm().latest()).isEqualTo(1L);
        assertThat(e.vm().reason()).contains("reverted").contains("404 all_reverted");
        assertThat(vmStatus(FINANCE, "/v1/bundles/canary")).isEqualTo(404);
    }

    @Test
    void badQueries_areRefused() throws Exception {
        for (String vm : List.of("example.com", "999.1.1.1", "127.0.0.1/24", "", "1.2.3")) {
            HttpResponse<String> r = ask("/v1/explain/common?vm=" + vm);
            assertThat(r.statusCode()).as(vm).isEqualTo(400);
            assertThat(r.body()).as(vm).contains("\"error\":\"bad_query\"");
        }
        HttpResponse<String> twice = ask("/v1/explain/common?vm=" + FINANCE + "&vm=" + KIOSK);
        assertThat(twice.statusCode()).isEqualTo(400);
        assertThat(twice.body()).contains("\"error\":\"bad_query\"").contains("vm given more than once");
        assertThat(ask("/v1/explain/Bad%20Name").statusCode()).isEqualTo(400);
        HttpResponse<String> anonymous = node.http.send(HttpRequest.newBuilder(node.admin("/v1/explain/common")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
    }

    private static int vmStatus(String from, String path) throws Exception {
        try (java.net.Socket s = new java.net.Socket()) {
            s.bind(new java.net.InetSocketAddress(from, 0));
            s.connect(new java.net.InetSocketAddress("127.0.0.1", node.vmPort()), 5_000);
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: kg\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            return Integer.parseInt(all.split(" ")[1]);
        }
    }

    /** The id row: a member of this site and a host of another site with this node's id, before and after this node left. */
    @Test
    void idRows_nameTheOtherHost_andItsSiteWhenItIsInAnother() {
        Instant now = Instant.parse("2026-12-06T03:00:00Z");
        Instant seen = now.minusSeconds(30);
        var sameSite = ExplainView.idRow("host-01", new io.knowngood.replication.IdClashes.Clash("10.0.0.2:7800", "", seen, true, true), now)
                .orElseThrow();
        assertThat(sameSite.status()).isEqualTo(Explain.DOWN);
        assertThat(sameSite.detail()).contains("the member at 10.0.0.2:7800 has the same node id and joined first");
        var otherSite = ExplainView.idRow("host-01", new io.knowngood.replication.IdClashes.Clash("10.9.0.2:7800", "east", seen, true, true), now)
                .orElseThrow();
        assertThat(otherSite.status()).isEqualTo(Explain.DOWN);
        assertThat(otherSite.detail()).contains("the host at 10.9.0.2:7800 in site east has the same node id and came first");
        var later = ExplainView.idRow("host-01", new io.knowngood.replication.IdClashes.Clash("10.9.0.2:7800", "east", seen, false, false), now)
                .orElseThrow();
        assertThat(later.status()).isEqualTo(Explain.WARN);
        assertThat(later.detail()).startsWith("the host at 10.9.0.2:7800 in site east has this node's id, seen ")
                .contains("as the later one it leaves the mesh");
        assertThat(ExplainView.idRow("host-01", new io.knowngood.replication.IdClashes.Clash("10.9.0.2:7800", "east",
                now.minus(ExplainView.RECENT_REFUSAL).minusSeconds(1), false, false), now)).as("an old clash this node stayed through").isEmpty();
    }

    /** The site rows: ok while bridged, down when not heard from, a warning while bridged but a backup to it is held offline. */
    @Test
    void siteRows_warnWhileABackupToAnAnsweringSiteIsHeldOffline() {
        Instant heard = Instant.parse("2026-12-07T11:00:00Z");
        var status = new io.knowngood.node.cluster.ClusterStatus("e1", "CLUSTERED", List.of(), java.util.Optional.of("e1"), false,
                java.util.Optional.of(heard), java.util.Optional.of("east"), List.of(
                        new io.knowngood.node.cluster.ClusterStatus.Site("west", true, java.util.Optional.of(heard)),
                        new io.knowngood.node.cluster.ClusterStatus.Site("north", true, java.util.Optional.of(heard), List.of("bundles", "records")),
                        new io.knowngood.node.cluster.ClusterStatus.Site("dr", false, java.util.Optional.empty(), List.of("records"))));
        List<Explain.Dependency> rows = new java.util.ArrayList<>();
        ExplainView.sites(status, rows);

        assertThat(rows).extracting(Explain.Dependency::name, Explain.Dependency::status).containsExactly(
                org.assertj.core.groups.Tuple.tuple("west", Explain.OK), org.assertj.core.groups.Tuple.tuple("north", Explain.WARN),
                org.assertj.core.groups.Tuple.tuple("dr", Explain.DOWN));
        assertThat(rows.get(1).detail()).contains("bridged from site east", "backup of bundles and records to it is held offline",
                "does not go there until it is brought online");
        assertThat(rows.get(2).detail()).startsWith("not heard from lately (last never)");
    }
}
