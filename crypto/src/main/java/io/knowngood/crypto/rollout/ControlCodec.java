package io.knowngood.crypto.rollout;

import io.knowngood.crypto.bundle.TrustedKeys;
import java.security.PrivateKey;

/**
 * The signed control document: JSON {@code {"control": "<base64 of the canonical control JSON>",
 * "signatures": [{"keyid": .., "sig": ..}]}}, where the control JSON is
 * {@code {"action":"abort","issued":"2026-12-01T10:00:00Z","name":"printers","schema":1,"version":5}}
 * (keys sorted, no whitespace) and each {@code sig} is Ed25519 over those exact bytes, as for a manifest.
 * At most {@link #MAX_WIRE_BYTES}.
 */
public final class ControlCodec {

    public static final int MAX_WIRE_BYTES = 4096;

    private ControlCodec() {
    }

    /** The signed wire document for {@code control}. */
    public static byte[] sign(RolloutControl control, PrivateKey key) {
        throw new UnsupportedOperationException("not yet");
    }

    /** Verifies the exact wire bytes against {@code trust}; bad input is a typed {@link ControlCheck.Invalid}, never an exception. */
    public static ControlCheck verify(byte[] wire, TrustedKeys trust) {
        return new ControlCheck.Invalid("control verification not built yet");
    }
}
