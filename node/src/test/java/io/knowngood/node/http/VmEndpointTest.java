package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import io.knowngood.node.store.StoreOutcome;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every VM route of SPEC.md over real HTTP against an in-process node. */
class VmEndpointTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final TestBundles BUNDLES = new TestBundles();
    static TestNode node;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        node = TestNode.start(dir, BUNDLES.writePublicKey(dir));
        assertThat(node.publish("web", BUNDLES.bundle("web", 1, "color=blue\n")).statusCode()).isEqualTo(201);
        assertThat(node.publish("gone", BUNDLES.bundle("gone", 1, "x")).statusCode()).isEqualTo(201);
        assertThat(node.publish("gone", BUNDLES.retired("gone", 2)).statusCode()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    @Test
    void list_showsServableBundlesWithVersions() throws Exception {
        HttpResponse<byte[]> r = node.get(node.vm("/v1/bundles"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("bundles").findValuesAsText("name")).contains("web").doesNotContain("gone");
    }

    @Test
    void list_andArchiveHeaders_followANewVersion() throws Exception {
        assertThat(node.publish("lister", BUNDLES.bundle("lister", 1, "a")).statusCode()).isEqualTo(201);
        assertThat(listedVersion("lister")).isEqualTo(1);
        assertThat(node.get(node.vm("/v1/bundles/lister")).headers().firstValue("X-Knowngood-Version")).hasValue("1");
        assertThat(node.publish("lister", BUNDLES.bundle("lister", 2, "b")).statusCode()).isEqualTo(201);
        assertThat(listedVersion("lister")).isEqualTo(2);
        HttpResponse<byte[]> r = node.get(node.vm("/v1/bundles/lister"));
        assertThat(r.headers().firstValue("X-Knowngood-Version")).hasValue("2");
        assertThat(r.headers().firstValue("Content-Disposition")).hasValue("attachment; filename=\"lister-2.tar\"");
        assertThat(r.headers().firstValue("ETag")).hasValue(
                "\"" + node.node.store().current("lister").orElseThrow().manifestDigest() + "\"");
    }

    private static long listedVersion(String name) throws Exception {
        for (JsonNode b : JSON.readTree(node.get(node.vm("/v1/bundles")).body()).get("bundles")) {
            if (b.get("name").asText().equals(name)) {
                return b.get("version").asLong();
            }
        }
        return -1;
    }

    @Test
    void archive_isTheSignedArchiveWithEtagVersionAndFreshness() throws Exception {
        HttpResponse<byte[]> r = node.get(node.vm("/v1/bundles/web"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/x-tar");
        assertThat(r.headers().firstValue("X-Knowngood-In-Touch")).hasValue("false");
        assertThat(r.headers().firstValue("X-Knowngood-Last-Contact")).hasValue("never");
        VerifyResult v = new BundleVerifier(TrustedKeys.of(List.of(BUNDLES.key.getPublic())), Limits.defaults()).verify(r.body());
        assertThat(v).isInstanceOf(VerifyResult.Verified.class);
        String digest = ((VerifyResult.Verified) v).bundle().manifestDigest();
        assertThat(r.headers().firstValue("ETag")).hasValue("\"" + digest + "\"");
        assertThat(r.headers().firstValue("X-Knowngood-Version")).hasValue(
                Long.toString(node.node.store().current("web").orElseThrow().version()));
    }

    @Test
    void archive_withMatchingIfNoneMatch_is304() throws Exception {
        String etag = node.get(node.vm("/v1/bundles/web")).headers().firstValue("ETag").orElseThrow();
        HttpResponse<byte[]> r = node.get(node.vm("/v1/bundles/web"), "If-None-Match", etag);
        assertThat(r.statusCode()).isEqualTo(304);
        assertThat(r.body()).isEmpty();
        assertThat(r.headers().firstValue("X-Knowngood-In-Touch")).isPresent();
        assertThat(node.get(node.vm("/v1/bundles/web"), "If-None-Match", "\"other\"").statusCode()).isEqualTo(200);
    }

    @Test
    void every304_carriesTheValidatorVersionAndCacheControlOfThe200ItStandsFor() throws Exception {
        // RFC 9110, 15.4.5: a 304 carries the ETag and Cache-Control that a 200 to the same request would
        // have; here also the version and rollout headers, so a VM that revalidates learns what it holds.
        for (String path : List.of("/v1/bundles/web", "/v1/bundles/web/manifest.json", "/v1/bundles/web/signatures.json",
                "/v1/bundles/web/files/app/config.ini")) {
            HttpResponse<byte[]> ok = node.get(node.vm(path));
            assertThat(ok.statusCode()).as(path).isEqualTo(200);
            HttpResponse<byte[]> notModified = node.get(node.vm(path), "If-None-Match", ok.headers().firstValue("ETag").orElseThrow());
            assertThat(notModified.statusCode()).as(path).isEqualTo(304);
            for (String header : List.of("ETag", "Cache-Control", "X-Knowngood-Version", "X-Knowngood-State", "X-Knowngood-Latest",
                    "X-Knowngood-In-Touch")) {
                assertThat(ok.headers().firstValue(header)).as(path + " 200 " + header).isPresent();
                assertThat(notModified.headers().firstValue(header)).as(path + " 304 " + header).isEqualTo(ok.headers().firstValue(header));
            }
        }
    }

    @Test
    void head_answersHeadersOnly() throws Exception {
        HttpResponse<Void> r = node.http.send(HttpRequest.newBuilder(node.vm("/v1/bundles/web"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("ETag")).isPresent();
    }

    @Test
    void manifestSignaturesAndFiles_areTheExactBytes() throws Exception {
        var held = node.node.store().current("web").orElseThrow();
        assertThat(node.get(node.vm("/v1/bundles/web/manifest.json")).body()).isEqualTo(held.manifestBytes());
        assertThat(node.get(node.vm("/v1/bundles/web/signatures.json")).body()).isEqualTo(held.signaturesBytes());
        HttpResponse<byte[]> file = node.get(node.vm("/v1/bundles/web/files/app/config.ini"));
        assertThat(file.statusCode()).isEqualTo(200);
        assertThat(new String(file.body(), StandardCharsets.UTF_8)).isEqualTo("color=blue\n");
        assertThat(node.get(node.vm("/v1/bundles/web/files/app/nope.ini")).statusCode()).isEqualTo(404);
    }

    @Test
    void hotBodies_areSentFromDirectCopiesOfTheExactBytes_whoseMemoryIsGivenBackWhenTheVersionGoes() throws Exception {
        long before = directCopyBytes();
        assertThat(node.publish("hot", BUNDLES.bundle("hot", 1, "v1\n")).statusCode()).isEqualTo(201);
        byte[] v1 = node.node.store().current("hot").orElseThrow().archiveBytes();
        for (int i = 0; i < DirectCopies.HOT_AFTER * 2; i++) {
            assertThat(node.get(node.vm("/v1/bundles/hot/files/app/config.ini")).body()).isEqualTo("v1\n".getBytes(StandardCharsets.UTF_8));
            assertThat(node.get(node.vm("/v1/bundles/hot")).body()).isEqualTo(v1);
        }
        assertThat(directCopyBytes() - before).as("the file and the archive").isEqualTo(v1.length + 3);

        assertThat(node.publish("hot", BUNDLES.bundle("hot", 2, "v2 longer\n")).statusCode()).isEqualTo(201);
        byte[] v2 = node.node.store().current("hot").orElseThrow().archiveBytes();
        for (int i = 0; i < DirectCopies.HOT_AFTER * 2; i++) {
            HttpResponse<byte[]> f = node.get(node.vm("/v1/bundles/hot/files/app/config.ini"));
            assertThat(f.body()).isEqualTo("v2 longer\n".getBytes(StandardCharsets.UTF_8));
            assertThat(f.headers().firstValue("Content-Length")).hasValue("10");
            assertThat(node.get(node.vm("/v1/bundles/hot")).body()).isEqualTo(v2);
        }
        assertThat(directCopyBytes() - before).as("version 1's copies given back").isEqualTo(v2.length + 10);

        assertThat(node.publish("hot", BUNDLES.retired("hot", 3)).statusCode()).isEqualTo(201);
        assertThat(directCopyBytes()).as("withdrawn: nothing held for it").isEqualTo(before);
        assertThat(node.get(node.vm("/v1/bundles/hot/files/app/config.ini")).statusCode()).isEqualTo(404);
    }

    @Test
    void notModifiedAnswers_doNotMakeABodyHot() throws Exception {
        assertThat(node.publish("cold", BUNDLES.bundle("cold", 1, "c\n")).statusCode()).isEqualTo(201);
        long before = directCopyBytes();
        String fileTag = node.get(node.vm("/v1/bundles/cold/files/app/config.ini")).headers().firstValue("ETag").orElseThrow();
        String archiveTag = node.get(node.vm("/v1/bundles/cold")).headers().firstValue("ETag").orElseThrow();
        for (int i = 0; i < DirectCopies.HOT_AFTER * 2; i++) {
            assertThat(node.get(node.vm("/v1/bundles/cold/files/app/config.ini"), "If-None-Match", fileTag).statusCode()).isEqualTo(304);
            assertThat(node.get(node.vm("/v1/bundles/cold"), "If-None-Match", archiveTag).statusCode()).isEqualTo(304);
        }
        assertThat(directCopyBytes()).isEqualTo(before);
    }

    private static long directCopyBytes() throws Exception {
        return node.adminGet("/metrics").body().lines().filter(l -> l.startsWith("kgnode_vm_direct_copy_bytes "))
                .mapToLong(l -> (long) Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
    }

    @Test
    void unknownAndRetiredBundles_are404WithJsonError() throws Exception {
        HttpResponse<byte[]> unknown = node.get(node.vm("/v1/bundles/nothing-here"));
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error").asText()).isEqualTo("no_such_bundle");
        HttpResponse<byte[]> retired = node.get(node.vm("/v1/bundles/gone"));
        assertThat(retired.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(retired.body()).get("error").asText()).isEqualTo("retired");
        assertThat(node.get(node.vm("/v1/bundles/BAD!")).statusCode()).isEqualTo(400);
    }

    @Test
    void health_saysServingBundlesAndClusterState() throws Exception {
        JsonNode h = JSON.readTree(node.get(node.vm("/v1/health")).body());
        assertThat(h.get("serving").asBoolean()).isTrue();
        assertThat(h.get("bundles").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(h.get("cluster").get("state").asText()).isEqualTo("ALONE");
        assertThat(h.get("cluster").get("lastContact").asText()).isEqualTo("never");
    }

    @Test
    void longPoll_returnsAsSoonAsANewerVersionIsPublished() throws Exception {
        assertThat(node.publish("poll", BUNDLES.bundle("poll", 1, "a")).statusCode()).isEqualTo(201);
        long t0 = System.nanoTime();
        CompletableFuture<HttpResponse<byte[]>> waiting = node.http.sendAsync(
                HttpRequest.newBuilder(node.vm("/v1/bundles/poll?wait=25&after=1")).build(), HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(5)).until(() -> node.node.metrics().scrape().length > 0
                && new String(node.node.metrics().scrape(), StandardCharsets.UTF_8).contains("kgnode_long_poll_waiters 1"));
        assertThat(waiting).isNotDone();
        assertThat(node.publish("poll", BUNDLES.bundle("poll", 2, "b")).statusCode()).isEqualTo(201);
        HttpResponse<byte[]> r = waiting.get();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Knowngood-Version")).hasValue("2");
        assertThat(ms).isLessThan(20_000);
    }

    /**
     * Two bundles published with one version on both sides of a split: when a peer's copy with the
     * lower manifest digest replaces the served one, waiters holding that version get the winner
     * (not only waiters for a higher version), and the replacement is counted.
     */
    @Test
    void longPoll_isAnswered_whenAPeersTieWinnerReplacesTheServedCopy() throws Exception {
        BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(BUNDLES.key.getPublic())), Limits.defaults());
        var x = ((VerifyResult.Verified) verifier.verify(BUNDLES.bundle("tie", 3, "seeded left"))).bundle();
        var y = ((VerifyResult.Verified) verifier.verify(BUNDLES.bundle("tie", 3, "seeded right"))).bundle();
        var lower = x.manifestDigest().compareTo(y.manifestDigest()) < 0 ? x : y;
        var higher = lower == x ? y : x;
        assertThat(node.publish("tie", higher.archiveBytes()).statusCode()).isEqualTo(201);
        assertThat(node.publish("tie", lower.archiveBytes()).statusCode()).isEqualTo(409); // a local publish never wins a tie
        CompletableFuture<HttpResponse<byte[]>> byVersion = node.http.sendAsync(
                HttpRequest.newBuilder(node.vm("/v1/bundles/tie?wait=25&after=3")).build(), HttpResponse.BodyHandlers.ofByteArray());
        CompletableFuture<HttpResponse<byte[]>> byEtag = node.http.sendAsync(
                HttpRequest.newBuilder(node.vm("/v1/bundles/tie?wait=25")).header("If-None-Match", "\"" + higher.manifestDigest() + "\"").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics().contains("kgnode_long_poll_waiters 2"));
        assertThat(byVersion).isNotDone();
        assertThat(byEtag).isNotDone();

        assertThat(node.node.store().admit(lower, "peer:anti-entropy")).isInstanceOf(StoreOutcome.Stored.class);

        for (HttpResponse<byte[]> r : List.of(byVersion.get(10, TimeUnit.SECONDS), byEtag.get(10, TimeUnit.SECONDS))) {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("ETag")).hasValue("\"" + lower.manifestDigest() + "\"");
            assertThat(r.body()).isEqualTo(lower.archiveBytes());
        }
        assertThat(metrics()).contains("kgnode_store_tie_replaced_total 1.0");
    }

    private static String metrics() {
        return new String(node.node.metrics().scrape(), StandardCharsets.UTF_8);
    }

    @Test
    void longPoll_timesOutWith304() throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<byte[]> r = node.get(node.vm("/v1/bundles/web?wait=1&after=" + node.node.store().current("web").orElseThrow().version()));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.statusCode()).isEqualTo(304);
        assertThat(ms).isBetween(900L, 10_000L);
        assertThat(r.headers().firstValue("ETag")).isPresent();
    }

    @Test
    void longPoll_withAParameterGivenTwice_is400BadQuery_notParked() throws Exception {
        long held = node.node.store().current("web").orElseThrow().version();
        for (String query : List.of("wait=20&wait=0&after=" + held, "wait=20&after=" + held + "&after=0")) {
            HttpResponse<byte[]> r = node.get(node.vm("/v1/bundles/web?" + query));
            assertThat(r.statusCode()).as(query).isEqualTo(400);
            assertThat(JSON.readTree(r.body()).get("error").asText()).as(query).isEqualTo("bad_query");
        }
    }

    @Test
    void longPoll_withOlderAfter_answersAtOnce() throws Exception {
        HttpResponse<byte[]> r = node.get(node.vm("/v1/bundles/web?wait=20&after=0"));
        assertThat(r.statusCode()).isEqualTo(200);
    }

    @Test
    void badQuery_is400() throws Exception {
        assertThat(node.get(node.vm("/v1/bundles/web?wait=abc")).statusCode()).isEqualTo(400);
        assertThat(node.get(node.vm("/v1/bundles/web?after=-1")).statusCode()).isEqualTo(400);
    }
}
