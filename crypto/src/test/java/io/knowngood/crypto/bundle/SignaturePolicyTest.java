package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The signature policy alone: trusted keys must all verify, unknown keys are ignored, one trusted signer is needed. */
class SignaturePolicyTest {
    private static final byte[] MANIFEST = "{\"name\":\"x\"}".getBytes(StandardCharsets.UTF_8);
    private static final KeyPair A = Ed25519Keys.generate();
    private static final KeyPair B = Ed25519Keys.generate();
    private static final KeyPair STRANGER = Ed25519Keys.generate();

    private final SignaturePolicy policy = new SignaturePolicy(TrustedKeys.of(List.of(A.getPublic(), B.getPublic())));

    private static ManifestCodec.Signature sig(KeyPair k, byte[] over) {
        return new ManifestCodec.Signature(id(k), Ed25519Keys.sign(k.getPrivate(), over));
    }

    private static KeyId id(KeyPair k) {
        return KeyId.of(k.getPublic());
    }

    @Test
    void everyTrustedSigner_isListed_inSignatureOrder() {
        SignaturePolicy.Outcome o = policy.check(List.of(sig(B, MANIFEST), sig(A, MANIFEST)), MANIFEST);
        assertThat(o.rejection()).isNull();
        assertThat(o.signers()).containsExactly(id(B), id(A));
    }

    @Test
    void signaturesByUnknownKeys_areIgnored_evenWhenTheyDoNotVerify() {
        byte[] other = "something else".getBytes(StandardCharsets.UTF_8);
        SignaturePolicy.Outcome o = policy.check(List.of(sig(STRANGER, other), sig(A, MANIFEST)), MANIFEST);
        assertThat(o.rejection()).isNull();
        assertThat(o.signers()).containsExactly(id(A));
    }

    @Test
    void oneBadSignatureByATrustedKey_rejects_evenNextToAGoodOne() {
        byte[] other = "something else".getBytes(StandardCharsets.UTF_8);
        SignaturePolicy.Outcome o = policy.check(List.of(sig(A, MANIFEST), sig(B, other)), MANIFEST);
        assertThat(o.rejection()).isEqualTo(new Rejection.BadSignature(id(B).hex()));
        assertThat(o.signers()).isEmpty();
    }

    @Test
    void onlyUnknownKeys_isUntrusted_andNamesThem() {
        SignaturePolicy.Outcome o = policy.check(List.of(sig(STRANGER, MANIFEST)), MANIFEST);
        assertThat(o.rejection()).isEqualTo(new Rejection.UntrustedKey(List.of(id(STRANGER).hex())));
    }

    @Test
    void noSignatures_isUntrusted() {
        assertThat(policy.check(List.of(), MANIFEST).rejection()).isEqualTo(new Rejection.UntrustedKey(List.of()));
    }
}
