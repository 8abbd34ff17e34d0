package io.knowngood.crypto.bundle;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 in the lower-case hex form used everywhere in the format (manifest digests, file hashes,
 * key ids). The one place in the project that computes it: other modules call {@link #hex(byte[])}.
 */
public final class Sha256 {
    private static final HexFormat HEX = HexFormat.of();

    private static final MessageDigest PROTOTYPE = lookUp();

    private Sha256() {
    }

    /** A fresh digest: a clone of one looked up once (the provider lookup costs more than hashing a manifest). */
    public static MessageDigest newDigest() {
        try {
            return (MessageDigest) PROTOTYPE.clone();
        } catch (CloneNotSupportedException e) {
            return lookUp();
        }
    }

    private static MessageDigest lookUp() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java 17 runtime has SHA-256", e);
        }
    }

    public static String hex(byte[] data) {
        return HEX.formatHex(newDigest().digest(data));
    }

    public static String hex(MessageDigest finished) {
        return HEX.formatHex(finished.digest());
    }

    /** True for exactly 64 lower-case hex digits. */
    public static boolean isHex(String s) {
        if (s == null || s.length() != 64) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }
}
