package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pools over real HTTP: each VM is a loopback source address (127/8 is all local on Linux, so a
 * client socket bound to 127.0.10.5 is a VM at 127.0.10.5; ::1 for IPv6). A name not for a VM's
 * pools must answer exactly as a name the node does not hold, on every route.
 */
class PoolsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final TestBundles BUNDLES = new TestBundles();
    static final String FINANCE = "127.0.10.5";
    static final String KIOSK = "127.0.20.5";
    static final String NOWHERE = "127.0.30.5";
    /** Not held anywhere; as long as "pay", so a hidden answer and an unknown one have the same length. */
    static final String UNKNOWN = "pbx";
    /** A wave no host of this test is in: a version with it never reaches this node (fallback). */
    static final RolloutPolicy ELSEWHERE = new RolloutPolicy(List.of(new RolloutPolicy.Hosts(List.of("elsewhere"))), 100, 3600, 100);

    static TestNode node;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        node = TestNode.start(dir, BUNDLES.writePublicKey(dir), s -> {
            s.vmBind = List.of("127.0.0.1:0", "[::1]:0");
            s.pool = List.of("finance=127.0.10.0/24", "kiosk=127.0.20.0/24", "lab=::1");
        });
        publish("pay", BUNDLES.forPools("pay", 1, "ledger=secret\n", null, "finance"));
        publish("common", BUNDLES.bundle("common", 1, "for everyone"));
        publish("kioskcfg", BUNDLES.forPools("kioskcfg", 1, "kiosk", null, "kiosk"));
        publish("labcfg", BUNDLES.forPools("labcfg", 1, "lab", null, "lab"));
        // desk: 1 for every VM, 2 for the kiosk pool only, 3 for every VM but rolling to another host only
        publish("desk", BUNDLES.bundle("desk", 1, "one"));
        publish("desk", BUNDLES.forPools("desk", 2, "two", null, "kiosk"));
        publish("desk", BUNDLES.forPools("desk", 3, "three", ELSEWHERE));
        // notes: 1 for every VM, then 2 for finance only: the name now exists for finance VMs only
        publish("notes", BUNDLES.bundle("notes", 1, "one"));
        publish("notes", BUNDLES.forPools("notes", 2, "two", null, "finance"));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void financeVm_getsItsScopedBundle_onEveryRoute() {
        assertThat(listed(FINANCE)).containsExactlyInAnyOrderEntriesOf(Map.of("pay", 1L, "common", 1L, "desk", 1L, "notes", 2L));
        Answer archive = get(FINANCE, "/v1/bundles/pay");
        assertThat(archive.status()).isEqualTo(200);
        assertThat(archive.headers()).containsEntry("x-knowngood-version", "1").containsEntry("content-type", "application/x-tar");
        assertThat(get(FINANCE, "/v1/bundles/pay/manifest.json").text()).contains("\"pools\":[\"finance\"]");
        assertThat(get(FINANCE, "/v1/bundles/pay/signatures.json").status()).isEqualTo(200);
        assertThat(get(FINANCE, "/v1/bundles/pay/files/app/config.ini").text()).isEqualTo("ledger=secret\n");
        assertThat(send(FINANCE, vm4(), "HEAD", "/v1/bundles/pay", null).status()).isEqualTo(200);
        assertThat(get(FINANCE, "/v1/bundles/pay?after=0").status()).isEqualTo(200);
        assertThat(get(FINANCE, "/v1/bundles/notes/files/app/config.ini").text()).isEqualTo("two");
    }

    @Test
    void kioskVm_getsTheUnknownNamesAnswer_onEveryRoute_andNeverSeesTheName() {
        for (String route : List.of("", "/manifest.json", "/signatures.json", "/files/app/config.ini", "/files/none", "/other",
                "?after=0", "?after=0&wait=0", "?wait=5")) {
            for (String method : List.of("GET", "HEAD")) {
                Answer hidden = send(KIOSK, vm4(), method, "/v1/bundles/pay" + route, null);
                Answer unknown = send(KIOSK, vm4(), method, "/v1/bundles/" + UNKNOWN + route, null);
                assertThat(hidden.status()).as(method + " " + route).isEqualTo(404);
                assertThat(hidden.withoutDate()).as(method + " " + route).isEqualTo(unknown.withoutDate().renamed(UNKNOWN, "pay"));
            }
        }
        // "notes": its version 1 was for every VM, but the newest held is for finance only
        assertThat(get(KIOSK, "/v1/bundles/notes").withoutDate()).isEqualTo(get(KIOSK, "/v1/bundles/" + "nbtes").withoutDate()
                .renamed("nbtes", "notes"));
        Answer list = get(KIOSK, "/v1/bundles");
        assertThat(list.text()).doesNotContain("pay").doesNotContain("notes").doesNotContain("labcfg");
        assertThat(listed(KIOSK)).containsExactlyInAnyOrderEntriesOf(Map.of("common", 1L, "kioskcfg", 1L, "desk", 2L));
        assertThat(get(KIOSK, "/v1/bundles/kioskcfg").status()).isEqualTo(200);
    }

    @Test
    void vmInNoPool_getsOnlyBundlesWithoutPools() {
        assertThat(listed(NOWHERE)).containsExactlyInAnyOrderEntriesOf(Map.of("common", 1L, "desk", 1L));
        for (String name : List.of("pay", "kioskcfg", "labcfg", "notes")) {
            assertThat(get(NOWHERE, "/v1/bundles/" + name).status()).as(name).isEqualTo(404);
        }
        assertThat(get(NOWHERE, "/v1/bundles/common").status()).isEqualTo(200);
    }

    @Test
    void servedVersion_isTheNewestForTheVmsPools_whenTheSharedChoiceIsNotForThem() {
        // every VM here would get 2 (3 is rolling elsewhere); 2 is for kiosk VMs only, so the others get 1
        Answer kiosk = get(KIOSK, "/v1/bundles/desk");
        assertThat(kiosk.headers()).containsEntry("x-knowngood-version", "2").containsEntry("x-knowngood-latest", "3")
                .containsEntry("x-knowngood-state", "fallback");
        for (String vm : List.of(NOWHERE, FINANCE)) {
            Answer a = get(vm, "/v1/bundles/desk");
            assertThat(a.headers()).as(vm).containsEntry("x-knowngood-version", "1").containsEntry("x-knowngood-state", "fallback");
            assertThat(get(vm, "/v1/bundles/desk/files/app/config.ini").text()).isEqualTo("one");
            assertThat(get(vm, "/v1/bundles/desk?after=1").status()).as("nothing newer for " + vm).isEqualTo(304);
        }
        assertThat(get(KIOSK, "/v1/bundles/desk/manifest.json").headers()).containsEntry("x-knowngood-version", "2");
    }

    @Test
    void ipv6Loopback_isInItsSingleAddressPool() {
        InetSocketAddress v6 = node.node.vmAddresses().get(1);
        assertThat(send("::1", v6, "GET", "/v1/bundles/labcfg", null).status()).isEqualTo(200);
        assertThat(send("::1", v6, "GET", "/v1/bundles", null).text()).contains("labcfg").doesNotContain("pay");
        assertThat(get("127.0.0.1", "/v1/bundles/labcfg").status()).isEqualTo(404);
    }

    @Test
    void headersAVmSends_neverChangeItsPools() {
        String[] claims = {"X-Forwarded-For", FINANCE, "Forwarded", "for=" + FINANCE, "X-Real-IP", FINANCE, "Client-IP", FINANCE};
        Answer a = send(NOWHERE, vm4(), "GET", "/v1/bundles/pay", null, claims);
        assertThat(a.status()).isEqualTo(404);
        assertThat(send(NOWHERE, vm4(), "GET", "/v1/bundles", null, claims).text()).doesNotContain("pay");
    }

    @Test
    void reports_onANameOrVersionNotForTheVm_areRefusedLikeAnUnknownOne() throws Exception {
        assertThat(report(FINANCE, "pay", 1).status()).isEqualTo(202);
        Answer hidden = report("127.0.20.6", "pay", 1);
        Answer unknown = report("127.0.20.7", UNKNOWN, 1);
        assertThat(hidden.status()).isEqualTo(404);
        assertThat(hidden.withoutDate()).isEqualTo(unknown.withoutDate().renamed(UNKNOWN, "pay"));
        assertThat(report("127.0.30.6", "desk", 2).status()).as("desk@2 is for kiosk VMs only").isEqualTo(404);
        assertThat(report("127.0.20.8", "desk", 2).status()).isEqualTo(202);
        String metrics = node.adminGet("/metrics").body();
        assertThat(metrics).contains("kgnode_vm_reports_refused_total{reason=\"pools\"} 2.0");
        assertThat(metrics).contains("kgnode_vm_pool_refusals_total{route=\"reports\"} 2.0");
        assertThat(metrics).contains("kgnode_pools_configured 3.0");
    }

    @Test
    void longPoll_wakesForAVersionForTheVm_aWaitOnANameThatBecomesHiddenEndsUnwoken_andANewOneIs404() throws Exception {
        publish("news", BUNDLES.bundle("news", 1, "one"));
        CompletableFuture<Answer> finance = CompletableFuture.supplyAsync(() -> get(FINANCE, "/v1/bundles/news?wait=20&after=1"));
        CompletableFuture<Answer> nowhere = CompletableFuture.supplyAsync(() -> get(NOWHERE, "/v1/bundles/news?wait=3&after=1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> new String(node.node.metrics().scrape(), StandardCharsets.UTF_8)
                .contains("kgnode_long_poll_waiters 2"));
        Answer unknownWait = get(NOWHERE, "/v1/bundles/nexs?wait=3&after=1");
        assertThat(unknownWait.status()).as("a long-poll on a name not held is answered at once").isEqualTo(404);
        publish("news", BUNDLES.forPools("news", 2, "two", null, "finance"));
        Answer woken = finance.get();
        assertThat(woken.status()).isEqualTo(200);
        assertThat(woken.headers()).containsEntry("x-knowngood-version", "2");
        Answer hidden = nowhere.get();
        assertThat(hidden.status()).as("not woken by a version that is not for it: it times out, naming nothing new").isEqualTo(304);
        assertThat(hidden.headers()).doesNotContainKey("x-knowngood-version");
        Answer again = get(NOWHERE, "/v1/bundles/news?wait=3&after=1");
        assertThat(again.withoutDate()).as("from now on the name is hidden: the unknown name's answer, at once")
                .isEqualTo(get(NOWHERE, "/v1/bundles/nexs?wait=3&after=1").withoutDate().renamed("nexs", "news"));
        assertThat(again.status()).isEqualTo(404);
    }

    @Test
    void aTombstoneWithThePools_hidesTheRetiredNameFromOtherVms() throws Exception {
        publish("gone", BUNDLES.forPools("gone", 1, "x", null, "finance"));
        publish("gone", io.knowngood.crypto.bundle.BundlePacker.packRetired("gone", 2, List.of("finance"), BUNDLES.key.getPrivate(),
                BUNDLES.clock));

        Answer finance = get(FINANCE, "/v1/bundles/gone");
        assertThat(finance.status()).isEqualTo(404);
        assertThat(finance.text()).contains("\"error\":\"retired\"");
        assertThat(get(KIOSK, "/v1/bundles/gone").withoutDate()).isEqualTo(get(KIOSK, "/v1/bundles/gxne").withoutDate().renamed("gxne", "gone"));
        assertThat(get(KIOSK, "/v1/bundles").text()).doesNotContain("gone");
    }

    @Test
    void admin_isNotFiltered_andItsHealthShowsThePools() throws Exception {
        assertThat(node.adminGet("/v1/bundles").body()).contains("\"pay\"", "\"labcfg\"");
        var decoded = io.knowngood.api.ApiJson.decode(node.adminGet("/v1/health").body().getBytes(StandardCharsets.UTF_8),
                io.knowngood.api.AdminHealth.class);
        assertThat(((io.knowngood.api.ApiJson.Decoded.Body<io.knowngood.api.AdminHealth>) decoded).value().pools()).isEqualTo(Map.of(
                "finance", List.of("127.0.10.0/24"), "kiosk", List.of("127.0.20.0/24"), "lab", List.of("::1/128")));
    }

    @Test
    void aLongPollForAHiddenName_isCountedWhenItArrives() {
        double before = counter("kgnode_vm_pool_refusals_total{route=\"long_poll\"}");
        assertThat(get(KIOSK, "/v1/bundles/pay?wait=1&after=0").status()).isEqualTo(404);
        assertThat(get(KIOSK, "/v1/bundles/" + UNKNOWN + "?wait=1&after=0").status()).isEqualTo(404);
        assertThat(counter("kgnode_vm_pool_refusals_total{route=\"long_poll\"}")).isEqualTo(before + 1);
    }

    /** A sample's value in the node's metrics (0 when absent). */
    static double counter(String sample) {
        return new String(node.node.metrics().scrape(), StandardCharsets.UTF_8).lines().filter(l -> l.startsWith(sample + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(sample.length() + 1))).findFirst().orElse(0);
    }

    @Test
    void health_countsAndNamesOnlyWhatTheVmCanSee() throws Exception {
        JsonNode kiosk = JSON.readTree(get(KIOSK, "/v1/health").body());
        JsonNode nowhere = JSON.readTree(get(NOWHERE, "/v1/health").body());
        assertThat(kiosk.get("bundles").asInt()).isEqualTo(3 + (listed(KIOSK).containsKey("news") ? 1 : 0));
        assertThat(nowhere.get("bundles").asInt()).isEqualTo(listed(NOWHERE).size());
        assertThat(get(KIOSK, "/v1/health").text()).doesNotContain("pay");
    }

    @Test
    void aHiddenNameWithheldBelowItsFloor_stillAnswersAsUnknown_andLeavesTheVmsHealthAlone(@TempDir Path dir) throws Exception {
        Path key = BUNDLES.writePublicKey(dir);
        java.util.function.Consumer<io.knowngood.node.config.Settings> pools = s -> s.pool = List.of("finance=127.0.10.0/24");
        try (TestNode n = TestNode.start(dir, key, pools)) {
            assertThat(n.publish("pay", BUNDLES.forPools("pay", 1, "one", null, "finance")).statusCode()).isEqualTo(201);
            assertThat(n.publish("pay", BUNDLES.forPools("pay", 2, "two", null, "finance")).statusCode()).isEqualTo(201);
        }
        java.nio.file.Files.delete(dir.resolve("data/bundles/pay").resolve(String.format("%019d.tar", 2))); // an older data dir restored
        try (TestNode n = TestNode.start(dir, key, pools)) {
            InetSocketAddress to = n.node.vmAddresses().get(0);
            assertThat(send(FINANCE, to, "GET", "/v1/bundles/pay", null).status()).isEqualTo(503);
            assertThat(send(FINANCE, to, "GET", "/v1/health", null).status()).isEqualTo(503);
            Answer hidden = send(KIOSK, to, "GET", "/v1/bundles/pay", null);
            assertThat(hidden.withoutDate()).isEqualTo(send(KIOSK, to, "GET", "/v1/bundles/" + UNKNOWN, null).withoutDate().renamed(UNKNOWN, "pay"));
            Answer health = send(KIOSK, to, "GET", "/v1/health", null);
            assertThat(health.status()).isEqualTo(200);
            assertThat(health.text()).contains("\"serving\":true").doesNotContain("pay");
        }
    }

    // ---- a VM: a raw HTTP/1.1 client on a socket bound to its source address ----

    record Answer(int status, Map<String, String> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        Answer withoutDate() {
            Map<String, String> h = new TreeMap<>(headers);
            h.remove("date");
            return new Answer(status, h, body);
        }

        /** This answer with every {@code from} in its body replaced by {@code to} (same length: headers stay exact). */
        Answer renamed(String from, String to) {
            assertThat(from).hasSameSizeAs(to);
            return new Answer(status, headers, text().replace(from, to).getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Answer a && a.status == status && a.headers.equals(headers) && Arrays.equals(a.body, body);
        }

        @Override
        public int hashCode() {
            return status;
        }

        @Override
        public String toString() {
            return status + " " + headers + " " + text();
        }
    }

    static InetSocketAddress vm4() {
        return node.node.vmAddresses().get(0);
    }

    static Answer get(String from, String target) {
        return send(from, vm4(), "GET", target, null);
    }

    static Answer report(String from, String name, long version) {
        byte[] body = ("{\"name\":\"" + name + "\",\"version\":" + version + ",\"result\":\"ok\"}").getBytes(StandardCharsets.UTF_8);
        return send(from, vm4(), "POST", "/v1/reports", body, "Content-Type", "application/json");
    }

    static Answer send(String from, InetSocketAddress to, String method, String target, byte[] body, String... headers) {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.connect(to, 5_000);
            s.setSoTimeout(30_000);
            StringBuilder head = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: kg\r\nConnection: close\r\n");
            for (int i = 0; i < headers.length; i += 2) {
                head.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
            }
            if (body != null) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            s.getOutputStream().write(head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            if (body != null) {
                s.getOutputStream().write(body);
            }
            s.getOutputStream().flush();
            byte[] all = s.getInputStream().readAllBytes();
            String text = new String(all, StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            String[] lines = text.substring(0, end).split("\r\n");
            Map<String, String> h = new TreeMap<>();
            for (int i = 1; i < lines.length; i++) {
                int c = lines[i].indexOf(':');
                String name = lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT);
                assertThat(h.put(name, lines[i].substring(c + 1).trim())).as("header " + name + " sent once").isNull();
            }
            return new Answer(Integer.parseInt(lines[0].split(" ")[1]), h, Arrays.copyOfRange(all, end + 4, all.length));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, Long> listed(String from) {
        try {
            Map<String, Long> out = new TreeMap<>();
            for (JsonNode b : JSON.readTree(get(from, "/v1/bundles").body()).get("bundles")) {
                out.put(b.get("name").asText(), b.get("version").asLong());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void publish(String name, byte[] archive) throws Exception {
        assertThat(node.publish(name, archive).statusCode()).as(name).isEqualTo(201);
    }
}
