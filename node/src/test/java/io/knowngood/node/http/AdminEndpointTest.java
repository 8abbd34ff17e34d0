package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publish and the admin views over real HTTP; every refusal leaves the held version unchanged. */
class AdminEndpointTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final TestBundles BUNDLES = new TestBundles();
    static TestNode node;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        node = TestNode.start(dir, BUNDLES.writePublicKey(dir), s -> {
            s.maxBundleBytes = 256L * 1024;
            s.bodyTimeout = "1s";
        });
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    private static long held(String name) {
        return node.node.store().current(name).map(b -> b.version()).orElse(0L);
    }

    @Test
    void publish_newVersion_is201WithVersionAndMembersHolding() throws Exception {
        HttpResponse<String> r = node.publish("app", BUNDLES.bundle("app", 3, "v3"));
        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("version").asLong()).isEqualTo(3);
        assertThat(body.get("membersHolding").asInt()).isEqualTo(1);
        assertThat(held("app")).isEqualTo(3);
    }

    @Test
    void publish_withoutOrWithWrongToken_is401AndChangesNothing() throws Exception {
        node.publish("auth", BUNDLES.bundle("auth", 1, "one"));
        assertThat(node.publish("auth", BUNDLES.bundle("auth", 2, "two"), "wrong-token-wrong-token").statusCode()).isEqualTo(401);
        assertThat(node.adminGet("/v1/cluster").statusCode()).isEqualTo(200);
        assertThat(node.http.send(java.net.http.HttpRequest.newBuilder(node.admin("/v1/cluster")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        assertThat(held("auth")).isEqualTo(1);
    }

    @Test
    void publish_olderOrSameVersion_isRejectedAsRollback409() throws Exception {
        assertThat(node.publish("rb", BUNDLES.bundle("rb", 5, "five")).statusCode()).isEqualTo(201);
        HttpResponse<String> older = node.publish("rb", BUNDLES.bundle("rb", 4, "four"));
        assertThat(older.statusCode()).isEqualTo(409);
        assertThat(JSON.readTree(older.body()).get("error").asText()).isEqualTo("rollback");
        assertThat(JSON.readTree(older.body()).get("current").asLong()).isEqualTo(5);
        assertThat(node.publish("rb", BUNDLES.bundle("rb", 5, "another five")).statusCode()).isEqualTo(409);
        assertThat(node.publish("rb", BUNDLES.bundle("rb", 5, "five")).statusCode()).isEqualTo(409);
        assertThat(held("rb")).isEqualTo(5);
    }

    @Test
    void publish_badSignatureOrUntrustedKey_is422WithReason() throws Exception {
        node.publish("sig", BUNDLES.bundle("sig", 1, "one"));
        byte[] tampered = BUNDLES.bundle("sig", 2, "two");
        // Flip one byte inside the signatures.json entry's base64 (second 512-byte block + a bit).
        int at = indexOf(tampered, "\"sig\":\"".getBytes()) + 10;
        tampered[at] = (byte) (tampered[at] == 'A' ? 'B' : 'A');
        HttpResponse<String> bad = node.publish("sig", tampered);
        assertThat(bad.statusCode()).isEqualTo(422);
        assertThat(JSON.readTree(bad.body()).get("error").asText()).isEqualTo("bad_signature");
        HttpResponse<String> stranger = node.publish("sig", TestBundles.untrusted("sig", 3));
        assertThat(stranger.statusCode()).isEqualTo(422);
        assertThat(JSON.readTree(stranger.body()).get("error").asText()).isEqualTo("untrusted_key");
        HttpResponse<String> wrongName = node.publish("other", BUNDLES.bundle("sig", 4, "x"));
        assertThat(wrongName.statusCode()).isEqualTo(422);
        assertThat(held("sig")).isEqualTo(1);
        assertThat(new String(node.node.metrics().scrape())).contains("kgnode_verification_rejections_total{reason=\"bad_signature\",source=\"publish\"} 1.0");
    }

    @Test
    void publish_pastTheHeldBytesBudget_is507AndChangesNothing_aNewerVersionCountsOnlyTheDifference(@TempDir Path dir) throws Exception {
        char[] lots = new char[150 * 1024];
        Arrays.fill(lots, 'm');
        String content = new String(lots);
        try (TestNode small = TestNode.start(dir, BUNDLES.writePublicKey(dir), s -> s.maxHeldBytes = 250L * 1024)) {
            assertThat(small.publish("m1", BUNDLES.bundle("m1", 1, content)).statusCode()).isEqualTo(201);
            HttpResponse<String> over = small.publish("m2", BUNDLES.bundle("m2", 1, content));
            assertThat(over.statusCode()).isEqualTo(507);
            assertThat(JSON.readTree(over.body()).get("error").asText()).isEqualTo("over_budget");
            assertThat(small.node.store().current("m2")).isEmpty();
            assertThat(Files.exists(dir.resolve("data").resolve("bundles").resolve("m2"))).isFalse();
            assertThat(small.publish("m1", BUNDLES.bundle("m1", 2, content + "v2")).statusCode()).isEqualTo(201);
            assertThat(small.node.store().current("m1").orElseThrow().version()).isEqualTo(2);
            String metrics = new String(small.node.metrics().scrape());
            assertThat(metrics).contains("kgnode_held_bytes_budget " + (250 * 1024) + ".0").contains("kgnode_publishes_total{outcome=\"over_budget\"} 1.0");
        }
    }

    @Test
    void keptVersion_isTheExactArchive_anotherVersionNamesTheKeptOnes_anUnknownNameIsNoSuchBundle() throws Exception {
        byte[] one = BUNDLES.bundle("kept", 1, "one");
        assertThat(node.publish("kept", one).statusCode()).isEqualTo(201);
        assertThat(node.publish("kept", BUNDLES.bundle("kept", 2, "two")).statusCode()).isEqualTo(201);

        HttpResponse<byte[]> archive = node.get(node.admin("/v1/bundles/kept/versions/1"), "Authorization", "Bearer " + node.token);
        assertThat(archive.statusCode()).isEqualTo(200);
        assertThat(archive.body()).isEqualTo(one);
        assertThat(archive.headers().firstValue("X-Knowngood-Version")).hasValue("1");
        assertThat(archive.headers().firstValue("Content-Type")).hasValue("application/x-tar");

        HttpResponse<String> other = node.adminGet("/v1/bundles/kept/versions/5");
        assertThat(other.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(other.body()).get("error").asText()).isEqualTo("no_such_version");
        assertThat(JSON.readTree(other.body()).get("detail").asText()).isEqualTo("kept@5 is not kept here; kept: [2, 1]");

        HttpResponse<String> unknown = node.adminGet("/v1/bundles/never-held/versions/1");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").asText()).isEqualTo("no_such_bundle");
        assertThat(JSON.readTree(unknown.body()).get("detail").asText()).isEqualTo("no versions of never-held are kept here");

        assertThat(node.adminGet("/v1/bundles/kept/versions/one").statusCode()).isEqualTo(400);
    }

    @Test
    void rolloutsOfOneName_aHeldNameWithoutRolloutsIsAnEmptyList_anUnknownNameIsNoSuchBundle() throws Exception {
        assertThat(node.publish("no-policy", BUNDLES.bundle("no-policy", 1, "one")).statusCode()).isEqualTo(201);

        HttpResponse<String> none = node.adminGet("/v1/rollouts/no-policy");
        assertThat(none.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(none.body()).get("rollouts").size()).isZero();

        HttpResponse<String> unknown = node.adminGet("/v1/rollouts/never-held");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").asText()).isEqualTo("no_such_bundle");
        assertThat(JSON.readTree(unknown.body()).get("detail").asText())
                .isEqualTo("no versions of never-held are kept here, and no member's rollout record names it");
    }

    @Test
    void publish_tooLarge_is413() throws Exception {
        node.publish("big", BUNDLES.bundle("big", 1, "small"));
        char[] lots = new char[300 * 1024];
        Arrays.fill(lots, 'x');
        HttpResponse<String> r = node.publish("big", BUNDLES.bundle("big", 2, new String(lots)));
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(held("big")).isEqualTo(1);
    }

    @Test
    void cluster_bundles_history_metrics() throws Exception {
        for (int v = 1; v <= 7; v++) {
            assertThat(node.publish("hist", BUNDLES.bundle("hist", v, "v" + v)).statusCode()).isEqualTo(201);
        }
        JsonNode history = JSON.readTree(node.adminGet("/v1/bundles/hist/history").body());
        assertThat(history.get("versions").findValuesAsText("version")).containsExactly("7", "6", "5", "4", "3");
        assertThat(history.get("floor").asLong()).isEqualTo(7);
        JsonNode cluster = JSON.readTree(node.adminGet("/v1/cluster").body());
        assertThat(cluster.get("self").asText()).isEqualTo("test-node");
        assertThat(cluster.get("members").get(0).get("bundles").get("hist").get("version").asLong()).isEqualTo(7);
        JsonNode bundles = JSON.readTree(node.adminGet("/v1/bundles").body());
        assertThat(bundles.get("bundles").findValuesAsText("name")).contains("hist");
        HttpResponse<String> metrics = node.adminGet("/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body()).contains("kgnode_http_requests_total", "kgnode_bundles_held", "kgnode_cluster_members 1.0",
                "kgnode_cluster_partitioned 0.0", "kgnode_cluster_members_silent 0.0", "kgnode_last_contact_age_seconds +Inf", "kgnode_publishes_total{outcome=\"created\"}");
        assertThat(node.adminGet("/v1/bundles/nope/history").statusCode()).isEqualTo(404);
    }

    @Test
    void manifest_isTheExactSignedBytesOfTheVersionHeld_aTombstoneToo() throws Exception {
        node.publish("mf", BUNDLES.bundle("mf", 2, "two"));
        String auth = "Bearer " + node.token;

        HttpResponse<byte[]> admin = node.get(node.admin("/v1/bundles/mf/manifest.json"), "Authorization", auth);
        HttpResponse<byte[]> vm = node.get(node.vm("/v1/bundles/mf/manifest.json"));

        assertThat(admin.statusCode()).isEqualTo(200);
        assertThat(admin.body()).isEqualTo(node.node.store().current("mf").orElseThrow().manifestBytes()).isEqualTo(vm.body());
        assertThat(admin.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(admin.headers().firstValue("ETag")).isEqualTo(vm.headers().firstValue("ETag"));
        assertThat(admin.headers().firstValue("X-Knowngood-Version")).hasValue("2");

        node.publish("mf", BUNDLES.retired("mf", 3));
        HttpResponse<byte[]> tombstone = node.get(node.admin("/v1/bundles/mf/manifest.json"), "Authorization", auth);
        assertThat(tombstone.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(tombstone.body()).get("retired").asBoolean()).isTrue();
        assertThat(tombstone.headers().firstValue("X-Knowngood-Version")).hasValue("3");
        assertThat(node.get(node.vm("/v1/bundles/mf/manifest.json")).statusCode()).isEqualTo(404);

        HttpResponse<byte[]> unknown = node.get(node.admin("/v1/bundles/nope/manifest.json"), "Authorization", auth);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").asText()).isEqualTo("no_such_bundle");
        assertThat(node.get(node.admin("/v1/bundles/Bad/manifest.json"), "Authorization", auth).statusCode()).isEqualTo(400);
        assertThat(node.get(node.admin("/v1/bundles/mf/manifest.json")).statusCode()).isEqualTo(401);
        assertThat(new String(node.node.metrics().scrape())).contains("route=\"manifest\",status=\"200\"");
    }

    @Test
    void signatures_areTheExactBytesOfTheVersionHeld_whichSayWhichKeysSignedIt() throws Exception {
        node.publish("sg", BUNDLES.bundle("sg", 4, "four"));
        String auth = "Bearer " + node.token;

        HttpResponse<byte[]> admin = node.get(node.admin("/v1/bundles/sg/signatures.json"), "Authorization", auth);
        HttpResponse<byte[]> vm = node.get(node.vm("/v1/bundles/sg/signatures.json"));

        assertThat(admin.statusCode()).isEqualTo(200);
        assertThat(admin.body()).isEqualTo(node.node.store().current("sg").orElseThrow().signaturesBytes()).isEqualTo(vm.body());
        assertThat(JSON.readTree(admin.body()).get(0).get("keyid").asText())
                .isEqualTo(io.knowngood.crypto.bundle.KeyId.of(BUNDLES.key.getPublic()).hex());
        assertThat(admin.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(admin.headers().firstValue("X-Knowngood-Version")).hasValue("4");
        assertThat(node.get(node.admin("/v1/bundles/nope/signatures.json"), "Authorization", auth).statusCode()).isEqualTo(404);
        assertThat(node.get(node.admin("/v1/bundles/sg/signatures.json")).statusCode()).isEqualTo(401);
        assertThat(new String(node.node.metrics().scrape())).contains("route=\"signatures\",status=\"200\"");
    }

    @Test
    void publish_slowBody_isCutAtTheBodyTimeout_andChangesNothing() throws Exception {
        node.publish("slow", BUNDLES.bundle("slow", 1, "one"));
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", node.node.adminAddress().getPort())) {
            s.setSoTimeout(10_000);
            String head = "PUT /v1/bundles/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + node.token
                    + "\r\nContent-Length: 100000\r\n\r\n";
            s.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            s.getOutputStream().write(new byte[10]);
            long t0 = System.nanoTime();
            int r;
            try {
                r = s.getInputStream().read();
            } catch (java.net.SocketException reset) {
                r = -1;
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(r).isEqualTo(-1);
            assertThat(ms).isLessThan(5_000);
        }
        assertThat(held("slow")).isEqualTo(1);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("not found");
    }
}
