package io.knowngood.crypto.bundle;

import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Which signatures make a manifest trusted: at least one by a key the verifier trusts, and every
 * signature by a trusted key valid over the exact manifest.json bytes. Signatures by keys it does
 * not know are ignored (another publisher's, or a key still being rolled out), so adding a signer
 * never breaks a verifier that does not know it yet.
 */
final class SignaturePolicy {

    /** The trusted keys that signed, in signatures.json order; or, when {@code rejection} is set, why not trusted. */
    record Outcome(List<KeyId> signers, Rejection rejection) {
        Outcome {
            signers = List.copyOf(signers);
        }
    }

    private final TrustedKeys trust;

    SignaturePolicy(TrustedKeys trust) {
        this.trust = trust;
    }

    Outcome check(List<ManifestCodec.Signature> signatures, byte[] manifestBytes) {
        List<KeyId> signers = new ArrayList<>();
        List<String> untrusted = new ArrayList<>();
        for (ManifestCodec.Signature s : signatures) {
            Ed25519PublicKeyParameters key = trust.get(s.keyId());
            if (key == null) {
                untrusted.add(s.keyId().hex());
                continue;
            }
            Ed25519Signer verifier = new Ed25519Signer();
            verifier.init(false, key);
            verifier.update(manifestBytes, 0, manifestBytes.length);
            if (!verifier.verifySignature(s.sig())) {
                return new Outcome(List.of(), new Rejection.BadSignature(s.keyId().hex()));
            }
            signers.add(s.keyId());
        }
        return new Outcome(signers, signers.isEmpty() ? new Rejection.UntrustedKey(untrusted) : null);
    }
}
