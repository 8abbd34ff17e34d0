package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.api.ClusterView;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.RolloutList;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.rollout.ControlCheck;
import io.knowngood.crypto.rollout.ControlCodec;
import io.knowngood.crypto.rollout.RolloutControl;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * kgctl rollout status/pause/resume/abort/promote and the rollouts in kgctl status, against canned
 * admin answers (the api's records); the real node's routes are exercised in RealNodeTest.
 */
class RolloutCommandsTest {
    static final Instant NOW = KgctlRunner.CLOCK.instant();

    @TempDir
    Path dir;

    private final KgctlRunner kgctl = new KgctlRunner();
    private final ObjectMapper json = new ObjectMapper();
    private BundleFixture keys;
    private Path token;

    @BeforeEach
    void setUp() throws Exception {
        keys = new BundleFixture(dir);
        token = Files.writeString(dir.resolve("admin.token"), "secret\n");
    }

    static RolloutList.Rollout rolling8() {
        return new RolloutList.Rollout("printers", 8, "rolling", 1, 3, NOW.minusSeconds(120), "wave 1 reached 3 ok", true,
                3, 300, 2, 4, 1, List.of(new RolloutList.Host("host-17", 0, 3, 0, 8L), new RolloutList.Host("host-18", 1, 1, 1, 7L)),
                7L, false);
    }

    static RolloutList.Rollout good7() {
        return new RolloutList.Rollout("printers", 7, "good", 1, 2, NOW.minusSeconds(86_400), "promoted", false,
                3, 300, 2, 9, 0, List.of(), 7L, null);
    }

    static RolloutList.Rollout reverted(String name, long version, Duration ago) {
        return new RolloutList.Rollout(name, version, "reverted", 0, 2, NOW.minus(ago), "2 failed reports >= revert_failed 2", false,
                3, 300, 2, 0, 2, List.of(), version - 1, false);
    }

    private Run admin(CannedNode node, String... args) {
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--node";
        all[args.length + 1] = node.url().toString();
        all[args.length + 2] = "--token-file";
        all[args.length + 3] = token.toString();
        return kgctl.run(all);
    }

    // ---- rollout status ----

    @Test
    void rolloutStatus_printsAVersionTableAndEachHost() throws Exception {
        try (CannedNode node = CannedNode.answering().json("/v1/rollouts/printers", 200, new RolloutList("n1", List.of(good7(), rolling8())))) {
            Run r = admin(node, "rollout", "status", "printers");

            assertThat(r.exitCode()).as(r.err()).isZero();
            List<String> lines = r.out().lines().toList();
            assertThat(lines.get(0)).isEqualTo("printers on " + node.url() + " (node n1):");
            assertThat(lines.get(1)).startsWith("VERSION").contains("STATE", "WAVE", "PAUSED", "OK", "FAILED", "SINCE", "REASON");
            assertThat(lines.get(2).split("\\s+")).startsWith("8", "rolling", "2/3", "yes", "4", "1", "2026-11-25T09:58:00Z");
            assertThat(lines.get(2)).endsWith("wave 1 reached 3 ok");
            assertThat(lines.get(3).split("\\s+")).startsWith("7", "good", "2/2", "no", "9", "0");
            assertThat(r.out()).contains("version 8: promote at 3 ok and 300 s in a wave, revert at 2 failed; this node serves 7");
            assertThat(r.out().lines().filter(l -> l.strip().startsWith("host-17")).findFirst().orElseThrow().strip().split("\\s+"))
                    .containsExactly("host-17", "1", "3", "0", "8");
            assertThat(r.out().lines().filter(l -> l.strip().startsWith("host-18")).findFirst().orElseThrow().strip().split("\\s+"))
                    .containsExactly("host-18", "2", "1", "1", "7");
            assertThat(r.out()).contains("version 7: ", "  no host has reported yet");
            assertThat(node.received().get(0).authorization()).isEqualTo("Bearer secret");
        }
    }

    @Test
    void rolloutStatus_json_hasStableFields_andVersionFilters() throws Exception {
        try (CannedNode node = CannedNode.answering().json("/v1/rollouts/printers", 200, new RolloutList("n1", List.of(good7(), rolling8())))) {
            Run r = admin(node, "rollout", "status", "printers", "--version", "8", "-o", "json");

            assertThat(r.exitCode()).as(r.err()).isZero();
            JsonNode n = json.readTree(r.out());
            assertThat(n.get("node").asText()).isEqualTo(node.url().toString());
            assertThat(n.get("versions")).hasSize(1);
            JsonNode v = n.get("versions").get(0);
            assertThat(v.get("version").asLong()).isEqualTo(8);
            assertThat(v.get("state").asText()).isEqualTo("rolling");
            assertThat(v.get("wave").asInt()).isEqualTo(2);
            assertThat(v.get("waves").asInt()).isEqualTo(3);
            assertThat(v.get("paused").asBoolean()).isTrue();
            assertThat(v.get("ok").asInt()).isEqualTo(4);
            assertThat(v.get("failed").asInt()).isEqualTo(1);
            assertThat(v.get("since").asText()).isEqualTo("2026-11-25T09:58:00Z");
            assertThat(v.get("reason").asText()).isEqualTo("wave 1 reached 3 ok");
            assertThat(v.get("hosts").get(1).get("host").asText()).isEqualTo("host-18");
            assertThat(v.get("hosts").get(1).get("wave").asInt()).isEqualTo(2);
            assertThat(v.get("hosts").get(1).get("serving").asLong()).isEqualTo(7);
        }
    }

    @Test
    void rolloutStatus_unknownVersion_exit7_noRolloutRoute_exit7() throws Exception {
        try (CannedNode node = CannedNode.answering().json("/v1/rollouts/printers", 200, new RolloutList("n1", List.of(rolling8())))) {
            Run missing = admin(node, "rollout", "status", "printers", "--version", "5");

            assertThat(missing.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
            assertThat(missing.errLine()).isEqualTo("kgctl rollout status: " + node.url() + ": no rollout known for printers version 5");

            Run other = admin(node, "rollout", "status", "scanners");
            assertThat(other.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
            assertThat(other.errLine()).startsWith("kgctl rollout status: " + node.url() + ": no rollout known for scanners (not_found");
        }
        try (CannedNode node = CannedNode.answering().json("/v1/rollouts/scanners", 404,
                ErrorBody.of(ErrorCode.NO_SUCH_BUNDLE, "no versions of scanners are kept here, and no member's rollout record names it"))) {
            Run unknown = admin(node, "rollout", "status", "scanners");
            assertThat(unknown.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
            assertThat(unknown.errLine()).isEqualTo("kgctl rollout status: " + node.url()
                    + ": no_such_bundle: no versions of scanners are kept here, and no member's rollout record names it");
        }
    }

    @Test
    void rolloutStatus_badName_exit2_noNode_exit2() throws Exception {
        Run bad = kgctl.run("rollout", "status", "Bad/Name", "--node", "http://127.0.0.1:9", "--token-file", token.toString());
        Run noNode = kgctl.run("rollout", "status", "printers", "--token-file", token.toString());

        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.errLine()).startsWith("kgctl rollout status: \"Bad/Name\" is not a bundle name");
        assertThat(noNode.exitCode()).isEqualTo(2);
        assertThat(noNode.errLine()).contains("no node given: give --node URL or set KGCTL_NODE");
    }

    @Test
    void rolloutStatus_takesNodeAndTokenFromTheEnvironment() throws Exception {
        try (CannedNode node = CannedNode.answering().json("/v1/rollouts/printers", 200, new RolloutList("n1", List.of(rolling8())))) {
            KgctlRunner withEnv = new KgctlRunner(Map.of(Environment.NODE, node.url().toString(), Environment.TOKEN_FILE, token.toString()));

            Run r = withEnv.run("rollout", "status", "printers");

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("rolling");
        }
    }

    // ---- kgctl status: rollouts in progress ----

    static ClusterView alone() {
        return new ClusterView("n1", "ALONE", "n1", false, false, "never",
                List.of(new ClusterView.Member("n1", "10.0.0.1:7800", true, Map.of("printers", new ClusterView.Held(7, "aa")))));
    }

    @Test
    void status_showsRollingAndRecentlyRevertedVersions_notGoodOrLongReverted() throws Exception {
        RolloutList list = new RolloutList("n1", List.of(good7(), rolling8(), reverted("scanners", 4, Duration.ofMinutes(30)),
                reverted("scanners", 3, Duration.ofMinutes(61))));
        try (CannedNode node = CannedNode.clusterView(alone()).json("/v1/rollouts", 200, list)) {
            Run r = admin(node, "status");
            JsonNode n = json.readTree(admin(node, "status", "-o", "json").out());

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.err()).isEmpty();
            List<String> lines = r.out().lines().toList();
            int at = lines.indexOf("rollouts in progress (rolling, or reverted in the last hour):");
            assertThat(at).isPositive();
            assertThat(lines.get(at + 1)).startsWith("NAME").contains("VERSION", "STATE", "WAVE");
            assertThat(lines.get(at + 2).split("\\s+")).startsWith("printers", "8", "rolling", "2/3", "yes", "4", "1");
            assertThat(lines.get(at + 3).split("\\s+")).startsWith("scanners", "4", "reverted", "1/2", "no", "0", "2");
            assertThat(lines).hasSize(at + 4);
            assertThat(n.get("rollouts")).hasSize(2);
            assertThat(n.get("rollouts").get(1).get("name").asText()).isEqualTo("scanners");
            assertThat(n.get("rollouts").get(1).get("state").asText()).isEqualTo("reverted");
        }
    }

    @Test
    void status_noRolloutsInProgress_saysNone() throws Exception {
        try (CannedNode node = CannedNode.clusterView(alone()).json("/v1/rollouts", 200, new RolloutList("n1", List.of(good7())))) {
            Run r = admin(node, "status");

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out().lines().toList()).last().isEqualTo("rollouts in progress: none");
        }
    }

    @Test
    void status_ofANodeWithoutRollouts_404_isNotAnError() throws Exception {
        try (CannedNode node = CannedNode.clusterView(alone())) {
            Run r = admin(node, "status");
            JsonNode n = json.readTree(admin(node, "status", "-o", "json").out());

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.err()).isEmpty();
            assertThat(r.out()).doesNotContain("rollouts");
            assertThat(n.get("rollouts").isNull()).isTrue();
        }
    }

    @Test
    void status_rolloutsRouteFailing_isOneStderrLine_andStillExit0() throws Exception {
        try (CannedNode node = CannedNode.clusterView(alone())
                .json("/v1/rollouts", 503, ErrorBody.of(ErrorCode.STORE_UNAVAILABLE, "disk"))) {
            Run r = admin(node, "status");

            assertThat(r.exitCode()).isZero();
            assertThat(r.out()).contains("node n1 at ");
            assertThat(r.errLine()).isEqualTo("kgctl status: " + node.url() + ": rollouts not shown: GET /v1/rollouts: HTTP 503 store_unavailable: disk");
        }
    }

    // ---- controls: sending (no signing needed) ----

    private ControlSender sender(StringWriter err, URI... nodes) {
        Environment env = new Environment(Map.of(), KgctlRunner.CLOCK, Duration.ofMillis(500), Duration.ofSeconds(10));
        List<NodeClient> clients = java.util.Arrays.stream(nodes).map(u -> new NodeClient(u, Optional.of("secret"), env)).toList();
        return new ControlSender(clients, new PrintWriter(err, true), "kgctl rollout abort");
    }

    static final byte[] WIRE = "{\"control\":\"e30=\",\"signatures\":[]}".getBytes(StandardCharsets.UTF_8);

    @Test
    void controlSender_putsTheWireBytesAsJson_andReturnsTheRolloutAfter() throws Exception {
        RolloutList.Rollout after = reverted("printers", 8, Duration.ZERO);
        try (CannedNode node = CannedNode.answering().json("/v1/rollouts/printers/8/controls", 202, after)) {
            ControlSender.Outcome o = sender(new StringWriter(), node.url()).send("printers", 8, WIRE);

            assertThat(o).isInstanceOf(ControlSender.Outcome.Applied.class);
            assertThat(((ControlSender.Outcome.Applied) o).rollout()).isEqualTo(after);
            CannedNode.Request put = node.received().get(0);
            assertThat(put.method()).isEqualTo("PUT");
            assertThat(put.path()).isEqualTo("/v1/rollouts/printers/8/controls");
            assertThat(put.contentType()).isEqualTo("application/json");
            assertThat(put.authorization()).isEqualTo("Bearer secret");
            assertThat(put.body()).isEqualTo(WIRE);
        }
    }

    @ParameterizedTest
    @CsvSource({"422, UNTRUSTED_KEY, 'control signed by 3f6b..., not a trusted key'",
            "409, VERSION_REVERTED, 'printers@8 is reverted (aborted by key 3f6b...), and reverted is final'"})
    void controlSender_refused_stopsAtOnce_asInvalid(int status, ErrorCode code, String detail) throws Exception {
        try (CannedNode refusing = CannedNode.answering().json("/v1/rollouts/printers/8/controls", status, ErrorBody.of(code, detail));
             CannedNode second = CannedNode.answering().json("/v1/rollouts/printers/8/controls", 202, rolling8())) {
            ControlSender.Outcome o = sender(new StringWriter(), refusing.url(), second.url()).send("printers", 8, WIRE);

            assertThat(o).isInstanceOf(ControlSender.Outcome.Failed.class);
            ControlSender.Outcome.Failed f = (ControlSender.Outcome.Failed) o;
            assertThat(f.exitCode()).isEqualTo(ExitCode.INVALID);
            assertThat(f.message()).isEqualTo("control refused by " + refusing.url() + ": " + code.wire() + ": " + detail);
            assertThat(second.requests()).isZero();
        }
    }

    @Test
    void controlSender_404_triesTheNext_andIsNotFoundWhenNoneHoldsIt() throws Exception {
        try (CannedNode lacking = CannedNode.answering();
             CannedNode holding = CannedNode.answering().json("/v1/rollouts/printers/8/controls", 202, rolling8())) {
            StringWriter err = new StringWriter();
            ControlSender.Outcome o = sender(err, lacking.url(), holding.url()).send("printers", 8, WIRE);
            assertThat(o).isInstanceOf(ControlSender.Outcome.Applied.class);
            assertThat(((ControlSender.Outcome.Applied) o).node()).isEqualTo(holding.url().toString());
            assertThat(err.toString()).startsWith("kgctl rollout abort: " + lacking.url() + ": not held: printers version 8 is not held there");

            ControlSender.Outcome none = sender(new StringWriter(), lacking.url()).send("printers", 8, WIRE);
            assertThat(((ControlSender.Outcome.Failed) none).exitCode()).isEqualTo(ExitCode.NOT_FOUND);
            assertThat(((ControlSender.Outcome.Failed) none).message()).startsWith(lacking.url() + ": not held: printers version 8");
        }
    }

    @Test
    void controlSender_401_isAuth_unreachable_isUnreachable() throws Exception {
        try (CannedNode refusingToken = CannedNode.answering().json("/v1/rollouts/printers/8/controls", 401,
                ErrorBody.of(ErrorCode.UNAUTHORIZED, "missing or wrong bearer token"))) {
            ControlSender.Outcome auth = sender(new StringWriter(), refusingToken.url()).send("printers", 8, WIRE);
            assertThat(((ControlSender.Outcome.Failed) auth).exitCode()).isEqualTo(ExitCode.AUTH);
            assertThat(((ControlSender.Outcome.Failed) auth).message()).contains("unauthorized: HTTP 401", "(check --token-file)");
        }
        ControlSender.Outcome down = sender(new StringWriter(), URI.create(deadUrl())).send("printers", 8, WIRE);
        assertThat(((ControlSender.Outcome.Failed) down).exitCode()).isEqualTo(ExitCode.UNREACHABLE);
    }

    /** A loopback port nobody listens on. */
    static String deadUrl() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return "http://127.0.0.1:" + s.getLocalPort();
        }
    }

    // ---- controls: the commands' checks before anything is signed ----

    @Test
    void control_badInput_failsBeforeSigning() throws Exception {
        Run noVersion = kgctl.run("rollout", "pause", "printers", "--key", keys.key.toString(), "--node", "http://127.0.0.1:9",
                "--token-file", token.toString());
        Run badVersion = kgctl.run("rollout", "resume", "printers", "--version", "0", "--key", keys.key.toString(),
                "--node", "http://127.0.0.1:9", "--token-file", token.toString());
        Run badName = kgctl.run("rollout", "promote", "../etc", "--version", "3", "--key", keys.key.toString(),
                "--node", "http://127.0.0.1:9", "--token-file", token.toString());
        Run noKey = kgctl.run("rollout", "abort", "printers", "--version", "3", "--key", dir.resolve("none.key").toString(),
                "--node", "http://127.0.0.1:9", "--token-file", token.toString());
        Run noToken = kgctl.run("rollout", "abort", "printers", "--version", "3", "--key", keys.key.toString(),
                "--node", "http://127.0.0.1:9");

        assertThat(noVersion.exitCode()).isEqualTo(2);
        assertThat(noVersion.errLine()).startsWith("kgctl rollout pause: Missing required option: '--version=V'");
        assertThat(badVersion.exitCode()).isEqualTo(2);
        assertThat(badVersion.errLine()).startsWith("kgctl rollout resume: --version must be from 1 to 2^63-1, got 0");
        assertThat(badName.exitCode()).isEqualTo(2);
        assertThat(noKey.exitCode()).isEqualTo(3);
        assertThat(noKey.errLine()).startsWith("kgctl rollout abort: no such file or directory: ");
        assertThat(noToken.exitCode()).isEqualTo(2);
        assertThat(noToken.errLine()).contains("--token-file");
    }

    @Test
    void rolloutHelp_listsTheSubcommandsAndExitCodes() {
        Run r = kgctl.run("rollout", "--help");
        Run abort = kgctl.run("rollout", "abort", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("status", "pause", "resume", "abort", "promote");
        assertThat(abort.out()).contains("--version=V", "--key=KEY", "--node=URL", "--token-file=FILE", "Exit codes:", "Exit 0 when a node took the control");
    }

    // ---- controls: signed end to end (need crypto's ControlCodec.sign: after the h14 merge) ----

    @Test
    void abort_signsAControlTheKeyVerifies_andPrintsTheStateAfter() throws Exception {
        RolloutList.Rollout after = reverted("printers", 8, Duration.ZERO);
        try (CannedNode node = CannedNode.answering().json("/v1/rollouts/printers/8/controls", 202, after)) {
            Run r = admin(node, "rollout", "abort", "printers", "--version", "8", "--key", keys.key.toString());

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out().strip()).isEqualTo("aborted printers version 8 via " + node.url()
                    + ": now reverted, wave 1/2, 0 ok, 2 failed, since 2026-11-25T10:00:00Z: 2 failed reports >= revert_failed 2");
            byte[] wire = node.received().get(0).body();
            ControlCheck check = ControlCodec.verify(wire, TrustedKeys.fromPemFiles(List.of(keys.pub)));
            assertThat(check).isInstanceOf(ControlCheck.Valid.class);
            assertThat(((ControlCheck.Valid) check).control())
                    .isEqualTo(new RolloutControl("printers", 8, RolloutControl.Action.ABORT, NOW));
            assertThat(((ControlCheck.Valid) check).keyId())
                    .isEqualTo(io.knowngood.crypto.bundle.KeyId.of(Ed25519Keys.publicKeyOf(Ed25519Keys.readPrivatePem(keys.key))).hex());
        }
    }

    @Test
    void pauseResumePromote_sendTheirAction_json() throws Exception {
        for (RolloutControl.Action action : List.of(RolloutControl.Action.PAUSE, RolloutControl.Action.RESUME, RolloutControl.Action.PROMOTE)) {
            try (CannedNode node = CannedNode.answering().json("/v1/rollouts/printers/8/controls", 202, rolling8())) {
                Run r = admin(node, "rollout", action.wire(), "printers", "--version", "8", "--key", keys.key.toString(), "-o", "json");

                assertThat(r.exitCode()).as(r.err()).isZero();
                JsonNode n = json.readTree(r.out());
                assertThat(n.get("action").asText()).isEqualTo(action.wire());
                assertThat(n.get("issued").asText()).isEqualTo("2026-11-25T10:00:00Z");
                assertThat(n.get("rollout").get("state").asText()).isEqualTo("rolling");
                ControlCheck check = ControlCodec.verify(node.received().get(0).body(), TrustedKeys.fromPemFiles(List.of(keys.pub)));
                assertThat(((ControlCheck.Valid) check).control().action()).isEqualTo(action);
            }
        }
    }

    @Test
    void control_422_exit1_404_exit7_401_exit5() throws Exception {
        try (CannedNode refusing = CannedNode.answering().json("/v1/rollouts/printers/8/controls", 422,
                ErrorBody.of(ErrorCode.UNTRUSTED_KEY, "not a trusted key"));
             CannedNode lacking = CannedNode.answering();
             CannedNode wrongToken = CannedNode.answering().json("/v1/rollouts/printers/8/controls", 401,
                     ErrorBody.of(ErrorCode.UNAUTHORIZED, "missing or wrong bearer token"))) {
            Run invalid = admin(refusing, "rollout", "abort", "printers", "--version", "8", "--key", keys.key.toString());
            Run notHeld = admin(lacking, "rollout", "abort", "printers", "--version", "8", "--key", keys.key.toString());
            Run auth = admin(wrongToken, "rollout", "abort", "printers", "--version", "8", "--key", keys.key.toString());

            assertThat(invalid.exitCode()).isEqualTo(1);
            assertThat(invalid.errLine()).isEqualTo("kgctl rollout abort: control refused by " + refusing.url() + ": untrusted_key: not a trusted key");
            assertThat(notHeld.exitCode()).isEqualTo(7);
            assertThat(notHeld.errLine()).startsWith("kgctl rollout abort: " + lacking.url() + ": not held: printers version 8 is not held there");
            assertThat(auth.exitCode()).isEqualTo(5);
        }
    }

    @Test
    void statusPauseAbort_againstARealNode() throws Exception {
        try (OnlineFixture f = new OnlineFixture(dir.resolve("real"))) {
            Path policy = Files.writeString(dir.resolve("canary.json"), "{\"waves\":[{\"hosts\":[\"test-node\"]}]}");
            Path archive = dir.resolve("printers-1.tar");
            Run pack = f.kgctl.run("bundle", "pack", f.bundles.src.toString(), "--name", "printers", "--version", "1",
                    "--key", f.bundles.key.toString(), "--out", archive.toString(), "--rollout", policy.toString());
            assertThat(pack.exitCode()).as(pack.err()).isZero();
            Run publish = f.admin("publish", archive.toString());
            assertThat(publish.exitCode()).as(publish.err()).isZero();

            Run status = f.admin("rollout", "status", "printers");
            Run pause = f.admin("rollout", "pause", "printers", "--version", "1", "--key", f.bundles.key.toString());
            Run abort = f.admin("rollout", "abort", "printers", "--version", "1", "--key", f.bundles.key.toString());
            Run promoteReverted = f.admin("rollout", "promote", "printers", "--version", "1", "--key", f.bundles.key.toString());
            Run abortAgain = f.admin("rollout", "abort", "printers", "--version", "1", "--key", f.bundles.key.toString());
            Run notHeld = f.admin("rollout", "abort", "printers", "--version", "9", "--key", f.bundles.key.toString());
            Run typo = f.admin("rollout", "status", "printres");
            Run mesh = f.admin("status");

            assertThat(status.exitCode()).as(status.err()).isZero();
            assertThat(status.out().lines().toList().get(2).split("\\s+")).startsWith("1", "rolling", "1/2", "no");
            assertThat(pause.exitCode()).as(pause.err()).isZero();
            assertThat(pause.out()).startsWith("paused printers version 1 via " + f.admin() + ": now rolling, wave 1/2, PAUSED");
            assertThat(abort.exitCode()).as(abort.err()).isZero();
            assertThat(abort.out()).startsWith("aborted printers version 1 via " + f.admin() + ": now reverted");
            assertThat(promoteReverted.exitCode()).as(promoteReverted.out()).isEqualTo(1);
            assertThat(promoteReverted.errLine()).startsWith("kgctl rollout promote: control refused by " + f.admin()
                    + ": version_reverted: printers@1 is reverted (aborted by key ").contains("a promote cannot change it");
            assertThat(abortAgain.exitCode()).as(abortAgain.err()).isZero();
            assertThat(abortAgain.out()).startsWith("aborted printers version 1 via " + f.admin() + ": now reverted");
            assertThat(notHeld.exitCode()).as(notHeld.err()).isEqualTo(7);
            assertThat(typo.exitCode()).as(typo.out()).isEqualTo(7);
            assertThat(typo.errLine()).isEqualTo("kgctl rollout status: " + f.admin()
                    + ": no_such_bundle: no versions of printres are kept here, and no member's rollout record names it");
            assertThat(mesh.exitCode()).as(mesh.err()).isZero();
            assertThat(mesh.out()).contains("rollouts in progress (rolling, or reverted in the last hour):");
            assertThat(mesh.out().lines().filter(l -> l.startsWith("printers")).findFirst().orElseThrow().split("\\s+"))
                    .startsWith("printers", "1", "reverted");
        }
    }
}
