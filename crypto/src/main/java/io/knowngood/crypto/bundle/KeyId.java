package io.knowngood.crypto.bundle;

import java.security.PublicKey;

/** A key id: the lower-case hex SHA-256 of the public key's SubjectPublicKeyInfo DER encoding. */
public record KeyId(String hex) {
    public KeyId {
        if (!Sha256.isHex(hex)) {
            throw new IllegalArgumentException("key id must be 64 lower-case hex characters");
        }
    }

    public static KeyId of(PublicKey key) {
        return new KeyId(Sha256.hex(key.getEncoded()));
    }

    @Override
    public String toString() {
        return hex;
    }
}
