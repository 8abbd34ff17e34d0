package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.api.ApiJson;
import io.knowngood.api.AuditList;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scoped admin tokens and the audit log against a real node over HTTP: a read token reads but gets 403
 * on publish and controls; every publish and control (created, refused, unauthorized, forbidden) is one
 * entry in {@code GET /v1/audit} and one JSON line in {@code <data-dir>/audit.log}, and a restarted
 * node gives the same entries back.
 */
class AuditAndScopesTest {
    static final String OPS = "ops-token-0123456789abcdef";
    static final String GRAFANA = "grafana-token-0123456789";

    @TempDir
    Path dir;

    private final TestBundles bundles = new TestBundles();

    private TestNode start() throws Exception {
        Path tokens = dir.resolve("tokens");
        if (!Files.exists(tokens)) {
            Files.writeString(tokens, "# name scopes token\nops publish " + OPS + "\ngrafana read " + GRAFANA + "\n");
            Files.setPosixFilePermissions(tokens, PosixFilePermissions.fromString("rw-------"));
        }
        Path trust = bundles.writePublicKey(dir);
        return TestNode.start(dir, trust, s -> s.adminTokenFile = tokens.toString());
    }

    private static HttpResponse<String> get(TestNode n, String path, String token) throws Exception {
        return n.http.send(HttpRequest.newBuilder(n.admin(path)).header("Authorization", "Bearer " + token).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> control(TestNode n, String name, long version, byte[] wire, String token) throws Exception {
        return n.http.send(HttpRequest.newBuilder(n.admin("/v1/rollouts/" + name + "/" + version + "/controls"))
                .header("Authorization", "Bearer " + token).PUT(HttpRequest.BodyPublishers.ofByteArray(wire)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<AuditList.Entry> audit(TestNode n, String query) throws Exception {
        HttpResponse<String> r = get(n, "/v1/audit" + query, GRAFANA);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ((ApiJson.Decoded.Body<AuditList>) ApiJson.decode(r.body().getBytes(StandardCharsets.UTF_8), AuditList.class)).value().entries();
    }

    @Test
    void readToken_reads_butMayNotPublishOrControl() throws Exception {
        try (TestNode n = start()) {
            assertThat(get(n, "/v1/cluster", GRAFANA).statusCode()).isEqualTo(200);
            assertThat(get(n, "/metrics", GRAFANA).statusCode()).isEqualTo(200);

            HttpResponse<String> refused = n.publish("desk", bundles.bundle("desk", 1, "a"), GRAFANA);
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(refused.body()).contains("\"error\":\"forbidden\"").contains("token grafana has the scope read");
            assertThat(get(n, "/v1/bundles", GRAFANA).body()).doesNotContain("desk");

            assertThat(n.publish("desk", bundles.bundle("desk", 1, "a"), OPS).statusCode()).isEqualTo(201);
            byte[] pause = ControlCodec.sign(new RolloutControl("desk", 1, RolloutControl.Action.PAUSE, Instant.now()), bundles.key.getPrivate());
            assertThat(control(n, "desk", 1, pause, GRAFANA).statusCode()).isEqualTo(403);
        }
    }

    @Test
    void everyPublishAndControl_isOnRecord_inOrder_andSurvivesARestart() throws Exception {
        byte[] v1 = bundles.bundle("desk", 1, "a");
        String source;
        try (TestNode n = start()) {
            assertThat(n.publish("desk", v1, OPS).statusCode()).isEqualTo(201);
            assertThat(n.publish("desk", v1, OPS).statusCode()).isEqualTo(409);
            assertThat(n.publish("desk", TestBundles.untrusted("desk", 3), OPS).statusCode()).isEqualTo(422);
            assertThat(n.publish("desk", bundles.bundle("desk", 2, "b"), "not-a-token-at-all").statusCode()).isEqualTo(401);
            assertThat(n.publish("desk", bundles.bundle("desk", 2, "b"), GRAFANA).statusCode()).isEqualTo(403);
            byte[] pause = ControlCodec.sign(new RolloutControl("desk", 1, RolloutControl.Action.PAUSE, Instant.now()), bundles.key.getPrivate());
            assertThat(control(n, "desk", 1, pause, OPS).statusCode()).isEqualTo(202);
            assertThat(control(n, "desk", 1, "{}".getBytes(StandardCharsets.UTF_8), OPS).statusCode()).isEqualTo(422);

            List<AuditList.Entry> e = audit(n, "");
            assertThat(e).extracting(AuditList.Entry::token).containsExactly("ops", "ops", "ops", "-", "grafana", "ops", "ops");
            assertThat(e).extracting(AuditList.Entry::status).containsExactly(201, 409, 422, 401, 403, 202, 422);
            assertThat(e).extracting(AuditList.Entry::outcome).containsExactly("created", "already_held",
                    e.get(2).outcome(), "unauthorized", "forbidden", "applied", "bad_control");
            assertThat(e).extracting(AuditList.Entry::action).containsExactly("publish", "publish", "publish", "publish", "publish",
                    "control:pause", "control");
            assertThat(e).extracting(AuditList.Entry::name).containsOnly("desk");
            assertThat(e.get(0).version()).isEqualTo(1L);
            assertThat(e.get(0).digest()).matches("[0-9a-f]{64}");
            assertThat(e.get(5).version()).isEqualTo(1L);
            assertThat(e.get(5).digest()).matches("[0-9a-f]{64}");
            assertThat(e.get(0).source()).isEqualTo("127.0.0.1");
            assertThat(Instant.parse(e.get(0).time())).isBeforeOrEqualTo(Instant.now());
            assertThat(audit(n, "?limit=2")).isEqualTo(e.subList(5, 7));
            assertThat(get(n, "/v1/audit?limit=0", GRAFANA).statusCode()).isEqualTo(400);
            assertThat(get(n, "/v1/audit?limit=abc", GRAFANA).statusCode()).isEqualTo(400);
            assertThat(get(n, "/v1/audit?limit=2&limit=3", GRAFANA).statusCode()).isEqualTo(400);
            source = e.get(0).source();

            List<String> lines = Files.readAllLines(dir.resolve("data").resolve("audit.log"));
            assertThat(lines).hasSize(7);
            assertThat(lines.get(0)).startsWith("{").contains("\"outcome\":\"created\"").doesNotContain(OPS);
            assertThat(String.join("\n", lines)).doesNotContain(OPS).doesNotContain(GRAFANA).doesNotContain("not-a-token-at-all");
        }
        try (TestNode again = start()) {
            List<AuditList.Entry> e = audit(again, "");
            assertThat(e).hasSize(7);
            assertThat(e.get(0).source()).isEqualTo(source);
            assertThat(again.publish("desk", bundles.bundle("desk", 2, "b"), OPS).statusCode()).isEqualTo(201);
            assertThat(audit(again, "")).hasSize(8);
        }
    }

    @Test
    void theAuditOfOneName_isTheNewestEntriesAboutIt() throws Exception {
        try (TestNode n = start()) {
            assertThat(n.publish("desk", bundles.bundle("desk", 1, "a"), OPS).statusCode()).isEqualTo(201);
            assertThat(n.publish("kiosk", bundles.bundle("kiosk", 1, "k"), OPS).statusCode()).isEqualTo(201);
            assertThat(n.publish("desk", bundles.bundle("desk", 2, "b"), GRAFANA).statusCode()).isEqualTo(403);
            assertThat(n.publish("desk", bundles.bundle("desk", 2, "b"), OPS).statusCode()).isEqualTo(201);

            assertThat(audit(n, "?name=desk")).extracting(AuditList.Entry::status).containsExactly(201, 403, 201);
            assertThat(audit(n, "?name=desk&limit=2")).extracting(AuditList.Entry::token).containsExactly("grafana", "ops");
            assertThat(audit(n, "?name=kiosk")).singleElement().extracting(AuditList.Entry::version).isEqualTo(1L);
            assertThat(audit(n, "?name=never-published")).isEmpty();
            assertThat(audit(n, "")).hasSize(4);

            HttpResponse<String> bad = get(n, "/v1/audit?name=Not..A%20Name", GRAFANA);
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("\"error\":\"bad_query\"").contains("name must be a bundle name");
            assertThat(get(n, "/v1/audit?name=desk&name=kiosk", GRAFANA).statusCode()).isEqualTo(400);
        }
    }

    @Test
    void aControlRefusedForARevertedVersion_isOnRecord_withItsAction() throws Exception {
        try (TestNode n = start()) {
            assertThat(n.publish("desk", bundles.bundle("desk", 1, "a"), OPS).statusCode()).isEqualTo(201);
            byte[] abort = ControlCodec.sign(new RolloutControl("desk", 1, RolloutControl.Action.ABORT, Instant.now()), bundles.key.getPrivate());
            byte[] promote = ControlCodec.sign(new RolloutControl("desk", 1, RolloutControl.Action.PROMOTE, Instant.now()), bundles.key.getPrivate());
            assertThat(control(n, "desk", 1, abort, OPS).statusCode()).isEqualTo(202);
            HttpResponse<String> refused = control(n, "desk", 1, promote, OPS);
            assertThat(refused.statusCode()).isEqualTo(409);
            assertThat(refused.body()).contains("\"error\":\"version_reverted\"").contains("desk@1 is reverted (aborted by key ");

            List<AuditList.Entry> e = audit(n, "");
            assertThat(e).extracting(AuditList.Entry::action).containsExactly("publish", "control:abort", "control:promote");
            assertThat(e).extracting(AuditList.Entry::status).containsExactly(201, 202, 409);
            assertThat(e).extracting(AuditList.Entry::outcome).containsExactly("created", "applied", "version_reverted");
        }
    }
}
