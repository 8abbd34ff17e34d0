package io.knowngood.crypto.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.crypto.bundle.TrustedKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The signed rollout control: what {@link ControlCodec#sign} writes (golden bytes, checkable with
 * stock openssl) and every way {@link ControlCodec#verify} refuses a document, each with its reason.
 */
class ControlCodecTest {
    private static final KeyPair PUBLISHER = Ed25519Keys.generate();
    private static final KeyPair STRANGER = Ed25519Keys.generate();
    private static final TrustedKeys TRUST = TrustedKeys.of(List.of(PUBLISHER.getPublic()));
    private static final Instant ISSUED = Instant.parse("2026-12-01T10:00:00Z");
    private static final RolloutControl ABORT = new RolloutControl("printers", 5, RolloutControl.Action.ABORT, ISSUED);
    private static final String ABORT_JSON =
            "{\"action\":\"abort\",\"issued\":\"2026-12-01T10:00:00Z\",\"name\":\"printers\",\"schema\":1,\"version\":5}";

    @TempDir
    Path dir;

    // ---- writing ----

    @Test
    void sign_writesTheCanonicalControlInTheCanonicalEnvelope() {
        byte[] wire = ControlCodec.sign(ABORT, PUBLISHER.getPrivate());

        assertThat(utf8(wire)).isEqualTo(wire(ABORT_JSON, PUBLISHER));
        assertThat(utf8(controlBytes(wire))).isEqualTo(ABORT_JSON);
    }

    @Test
    void sign_thenVerify_isValidWithTheControlTheExactWireAndTheSigner() {
        byte[] wire = ControlCodec.sign(ABORT, PUBLISHER.getPrivate());

        ControlCheck r = ControlCodec.verify(wire, TRUST);

        assertThat(r).isInstanceOfSatisfying(ControlCheck.Valid.class, v -> {
            assertThat(v.control()).isEqualTo(ABORT);
            assertThat(v.wire()).isEqualTo(wire);
            assertThat(v.keyId()).isEqualTo(KeyId.of(PUBLISHER.getPublic()).hex());
        });
    }

    @ParameterizedTest
    @EnumSource(RolloutControl.Action.class)
    void roundTrip_everyAction(RolloutControl.Action action) {
        RolloutControl c = new RolloutControl("a.b-c_d", Long.MAX_VALUE, action, Instant.parse("2026-12-01T10:00:00.123456789Z"));

        ControlCheck r = ControlCodec.verify(ControlCodec.sign(c, PUBLISHER.getPrivate()), TRUST);

        assertThat(r).isInstanceOfSatisfying(ControlCheck.Valid.class, v -> assertThat(v.control()).isEqualTo(c));
    }

    @Test
    void verify_alsoSignedByAnUnknownKey_isValidNamingTheTrustedSigner() {
        ControlCheck r = ControlCodec.verify(bytes(wire(ABORT_JSON, STRANGER, PUBLISHER)), TRUST);

        assertThat(r).isInstanceOfSatisfying(ControlCheck.Valid.class,
                v -> assertThat(v.keyId()).isEqualTo(KeyId.of(PUBLISHER.getPublic()).hex()));
    }

    @Test
    void signature_verifiesWithOpensslPkeyutlOverTheDecodedControlBytes() throws Exception {
        String missing = opensslAvailable() ? null : "openssl is not installed (CI installs it)";
        if (missing != null && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("CI=true and a prerequisite is missing, so this fails instead of skipping: " + missing);
        }
        assumeTrue(missing == null, missing);
        byte[] wire = ControlCodec.sign(ABORT, PUBLISHER.getPrivate());
        String sigB64 = utf8(wire).replaceAll(".*\"sig\":\"([^\"]+)\".*", "$1");
        Path pub = dir.resolve("publisher.pub");
        Ed25519Keys.writePublicPem(PUBLISHER.getPublic(), pub);
        Path control = Files.write(dir.resolve("control.json"), controlBytes(wire));
        Path sig = Files.write(dir.resolve("SIG.bin"), Base64.getDecoder().decode(sigB64));

        Result ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub.toString(), "-rawin", "-in", control.toString(), "-sigfile", sig.toString());
        assertThat(ok.exitCode()).as(ok.output()).isZero();
        assertThat(ok.output()).contains("Signature Verified Successfully");

        // and openssl is really checking: the same signature over a changed action fails
        Path changed = Files.writeString(dir.resolve("changed.json"), ABORT_JSON.replace("abort", "pause"));
        Result bad = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub.toString(), "-rawin", "-in", changed.toString(), "-sigfile", sig.toString());
        assertThat(bad.exitCode()).isNotZero();
    }

    // ---- refusals: signatures ----

    @Test
    void verify_actionChangedAfterSigning_isBadSignature() {
        String tampered = withControl(wire(ABORT_JSON, PUBLISHER), ABORT_JSON.replace("\"abort\"", "\"promote\""));

        assertInvalid(bytes(tampered), "signature by trusted key " + KeyId.of(PUBLISHER.getPublic()).hex() + " does not verify over the control");
    }

    @Test
    void verify_versionChangedAfterSigning_isBadSignature() {
        String tampered = withControl(wire(ABORT_JSON, PUBLISHER), ABORT_JSON.replace("\"version\":5", "\"version\":6"));

        assertInvalid(bytes(tampered), "signature by trusted key " + KeyId.of(PUBLISHER.getPublic()).hex() + " does not verify over the control");
    }

    @Test
    void verify_signedOnlyByAnUntrustedKey_isInvalid() {
        byte[] wire = ControlCodec.sign(ABORT, STRANGER.getPrivate());

        assertInvalid(wire, "signed only by untrusted keys [" + KeyId.of(STRANGER.getPublic()).hex() + "]");
    }

    @Test
    void verify_noSignatures_isInvalid() {
        assertInvalid(bytes("{\"control\":\"" + b64(ABORT_JSON) + "\",\"signatures\":[]}"), "no signatures");
        assertInvalid(bytes("{\"control\":\"" + b64(ABORT_JSON) + "\"}"), "signatures is missing");
    }

    @Test
    void verify_truncatedSignature_isMalformedSignature() {
        String sig = "{\"keyid\":\"" + KeyId.of(PUBLISHER.getPublic()).hex() + "\",\"sig\":\"" + Base64.getEncoder().encodeToString(new byte[10]) + "\"}";

        assertInvalid(bytes("{\"control\":\"" + b64(ABORT_JSON) + "\",\"signatures\":[" + sig + "]}"),
                "signature #0 is malformed: sig has 10 bytes, an Ed25519 signature has 64");
    }

    // ---- refusals: the envelope ----

    @Test
    void verify_over4096Bytes_isInvalid_at4096ItIsRead() {
        String wire = wire(ABORT_JSON, PUBLISHER);
        String at4096 = wire + " ".repeat(4096 - wire.length());

        assertThat(ControlCodec.verify(bytes(at4096), TRUST)).isInstanceOf(ControlCheck.Valid.class);
        assertInvalid(bytes(at4096 + " "), "control document has 4097 bytes, at most 4096");
    }

    @Test
    void verify_emptyOrNull_isInvalid() {
        assertInvalid(new byte[0], "control document is empty");
        assertInvalid(null, "control document is empty");
    }

    @Test
    void verify_notJson_isInvalidOnOneLine() {
        ControlCheck r = ControlCodec.verify(bytes("{\"control\":"), TRUST);

        assertThat(r).isInstanceOfSatisfying(ControlCheck.Invalid.class, i -> {
            assertThat(i.reason()).startsWith("document is not valid JSON: ");
            assertThat(i.reason()).doesNotContain("\n");
        });
        assertInvalid(bytes("[]"), "document is not a JSON object");
        assertThat(ControlCodec.verify(bytes(wire(ABORT_JSON, PUBLISHER) + "{}"), TRUST)).isInstanceOfSatisfying(ControlCheck.Invalid.class,
                i -> assertThat(i.reason()).startsWith("document is not valid JSON: Trailing token"));
    }

    @Test
    void verify_duplicateKeyInEnvelope_isInvalid() {
        String wire = wire(ABORT_JSON, PUBLISHER);
        String dup = wire.replace("{\"control\":", "{\"control\":\"" + b64(ABORT_JSON.replace("abort", "promote")) + "\",\"control\":");

        assertInvalid(bytes(dup), "document has the key \"control\" more than once");
    }

    @Test
    void verify_unknownEnvelopeField_isInvalid() {
        String wire = wire(ABORT_JSON, PUBLISHER);

        assertInvalid(bytes(wire.replace("{\"control\":", "{\"note\":\"x\",\"control\":")),
                "unknown field \"note\" (expected control and signatures)");
    }

    @Test
    void verify_controlNotBase64_isInvalid() {
        assertInvalid(bytes("{\"control\":\"not base64!\",\"signatures\":[]}"), "control is not valid base64");
        assertInvalid(bytes("{\"control\":7,\"signatures\":[]}"), "control is missing or not a string");
        String unpadded = b64(ABORT_JSON).replace("=", "");
        assertThat(unpadded).isNotEqualTo(b64(ABORT_JSON));
        assertInvalid(bytes("{\"control\":\"" + unpadded + "\",\"signatures\":[]}"), "control is not canonical base64");
    }

    // ---- refusals: the control, validly signed ----

    @Test
    void verify_signedControlWithDuplicateKey_isInvalid() {
        assertInvalid(bytes(wire(ABORT_JSON.replace("{\"action\":\"abort\"", "{\"action\":\"abort\",\"action\":\"pause\""), PUBLISHER)),
                "control has the key \"action\" more than once");
    }

    @Test
    void verify_signedControlWithUnknownField_isInvalid() {
        assertInvalid(bytes(wire(ABORT_JSON.replace("\"name\"", "\"reason\":\"bad printers\",\"name\""), PUBLISHER)),
                "control field \"reason\" is not known (known: action, issued, name, schema, version)");
    }

    @Test
    void verify_signedControlWithBadFields_isInvalidNamingTheField() {
        assertInvalid(signed(ABORT_JSON.replace("\"abort\"", "\"ABORT\"")), "control action must be one of pause, resume, abort, promote");
        assertInvalid(signed(ABORT_JSON.replace("\"abort\"", "\"rollback\"")), "control action must be one of pause, resume, abort, promote");
        assertInvalid(signed(ABORT_JSON.replace("\"action\":\"abort\",", "")), "control action must be one of pause, resume, abort, promote");
        assertInvalid(signed(ABORT_JSON.replace("\"printers\"", "\"Printers\"")), "control name must match ^[a-z0-9][a-z0-9._-]{0,127}$");
        assertInvalid(signed(ABORT_JSON.replace("\"version\":5", "\"version\":0")),
                "control version must be an integer from 1 to 2^63-1, found 0");
        assertInvalid(signed(ABORT_JSON.replace("\"version\":5", "\"version\":\"5\"")),
                "control version must be an integer from 1 to 2^63-1, found \"5\"");
        assertInvalid(signed(ABORT_JSON.replace("\"version\":5", "\"version\":9223372036854775808")),
                "control version must be an integer from 1 to 2^63-1, found 9223372036854775808");
        assertInvalid(signed(ABORT_JSON.replace("2026-12-01T10:00:00Z", "2026-12-01T11:00:00+01:00")),
                "control issued must be an RFC 3339 UTC time");
        assertInvalid(signed(ABORT_JSON.replace("2026-12-01T10:00:00Z", "2026-13-01T10:00:00Z")),
                "control issued must be an RFC 3339 UTC time");
        assertInvalid(signed(ABORT_JSON.replace("\"schema\":1", "\"schema\":2")), "control schema must be 1, found 2");
        assertInvalid(signed(ABORT_JSON.replace("\"schema\":1,", "")), "control schema must be 1, found null");
        assertInvalid(signed("[1]"), "control is not a JSON object");
    }

    // ---- helpers ----

    private static void assertInvalid(byte[] wire, String reason) {
        assertThat(ControlCodec.verify(wire, TRUST)).isEqualTo(new ControlCheck.Invalid(reason));
    }

    private static byte[] signed(String controlJson) {
        return bytes(wire(controlJson, PUBLISHER));
    }

    /** The envelope another tool would write for these exact control bytes, signed by {@code signers} in order. */
    private static String wire(String controlJson, KeyPair... signers) {
        List<String> sigs = new ArrayList<>();
        for (KeyPair k : signers) {
            byte[] sig = Ed25519Keys.sign(k.getPrivate(), bytes(controlJson));
            sigs.add("{\"keyid\":\"" + KeyId.of(k.getPublic()).hex() + "\",\"sig\":\"" + Base64.getEncoder().encodeToString(sig) + "\"}");
        }
        return "{\"control\":\"" + b64(controlJson) + "\",\"signatures\":[" + String.join(",", sigs) + "]}";
    }

    /** {@code wire} with its control replaced by {@code controlJson}, signatures kept. */
    private static String withControl(String wire, String controlJson) {
        return wire.replaceFirst("\\{\"control\":\"[^\"]*\"", "{\"control\":\"" + b64(controlJson) + "\"");
    }

    private static byte[] controlBytes(byte[] wire) {
        return Base64.getDecoder().decode(utf8(wire).replaceAll("^\\{\"control\":\"([^\"]+)\".*$", "$1"));
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(bytes(s));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private record Result(int exitCode, String output) {
    }

    private static Result openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("openssl finished").isTrue();
        return new Result(p.exitValue(), out);
    }

    private static boolean opensslAvailable() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
