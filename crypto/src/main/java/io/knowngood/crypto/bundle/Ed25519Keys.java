package io.knowngood.crypto.bundle;

import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * Ed25519 keys in the files SPEC.md fixes: PKCS#8 PEM (private, RFC 8410 form without the
 * optional public key, as {@code openssl genpkey} writes it) and SubjectPublicKeyInfo PEM (public).
 * Signing and verifying use Bouncy Castle's lightweight API: no provider lookups on the hot path.
 */
public final class Ed25519Keys {
    private static final AlgorithmIdentifier ED25519 = new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519);
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ed25519Keys() {
    }

    public static KeyPair generate() {
        Ed25519PrivateKeyParameters priv = new Ed25519PrivateKeyParameters(RANDOM);
        try {
            return new KeyPair(publicKey(priv.generatePublicKey()), privateKey(priv));
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("encoding a fresh Ed25519 key cannot fail", e);
        }
    }

    public static void writePrivatePem(PrivateKey key, Path file) throws IOException {
        String pem = pem("PRIVATE KEY", privateInfo(key).getEncoded());
        AtomicFile.writeOwnerOnly(file, pem.getBytes(StandardCharsets.US_ASCII));
    }

    public static void writePublicPem(PublicKey key, Path file) throws IOException {
        AtomicFile.write(file, publicPem(key).getBytes(StandardCharsets.US_ASCII));
    }

    public static String publicPem(PublicKey key) {
        return pem("PUBLIC KEY", key.getEncoded());
    }

    public static PrivateKey readPrivatePem(Path file) throws IOException {
        Object o = readPem(file);
        if (!(o instanceof PrivateKeyInfo info)) {
            throw new KeyFileException(file, "not a PKCS#8 private key (PEM \"PRIVATE KEY\")");
        }
        if (!ED25519.getAlgorithm().equals(info.getPrivateKeyAlgorithm().getAlgorithm())) {
            throw new KeyFileException(file, "not an Ed25519 key (algorithm " + info.getPrivateKeyAlgorithm().getAlgorithm() + ")");
        }
        try {
            return ed25519Keys().generatePrivate(new PKCS8EncodedKeySpec(info.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new KeyFileException(file, "unreadable Ed25519 private key: " + e.getMessage());
        }
    }

    public static PublicKey readPublicPem(Path file) throws IOException {
        Object o = readPem(file);
        if (!(o instanceof SubjectPublicKeyInfo info)) {
            throw new KeyFileException(file, "not a public key (PEM \"PUBLIC KEY\")");
        }
        if (!ED25519.getAlgorithm().equals(info.getAlgorithm().getAlgorithm())) {
            throw new KeyFileException(file, "not an Ed25519 key (algorithm " + info.getAlgorithm().getAlgorithm() + ")");
        }
        try {
            return ed25519Keys().generatePublic(new X509EncodedKeySpec(info.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new KeyFileException(file, "unreadable Ed25519 public key: " + e.getMessage());
        }
    }

    /** Signs {@code message} (pure Ed25519, no pre-hash, as openssl pkeyutl -rawin verifies). */
    public static byte[] sign(PrivateKey key, byte[] message) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, privateParams(key));
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    public static PublicKey publicKeyOf(PrivateKey key) {
        try {
            return publicKey(privateParams(key).generatePublicKey());
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("not an Ed25519 private key", e);
        }
    }

    static Ed25519PublicKeyParameters publicParams(PublicKey key) {
        try {
            AsymmetricKeyParameter p = PublicKeyFactory.createKey(key.getEncoded());
            if (p instanceof Ed25519PublicKeyParameters ed) {
                return ed;
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not an Ed25519 public key: " + key.getAlgorithm(), e);
        }
        throw new IllegalArgumentException("not an Ed25519 public key: " + key.getAlgorithm());
    }

    private static Ed25519PrivateKeyParameters privateParams(PrivateKey key) {
        try {
            AsymmetricKeyParameter p = PrivateKeyFactory.createKey(key.getEncoded());
            if (p instanceof Ed25519PrivateKeyParameters ed) {
                return ed;
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not an Ed25519 private key: " + key.getAlgorithm(), e);
        }
        throw new IllegalArgumentException("not an Ed25519 private key: " + key.getAlgorithm());
    }

    private static PrivateKeyInfo privateInfo(PrivateKey key) throws IOException {
        return new PrivateKeyInfo(ED25519, new DEROctetString(privateParams(key).getEncoded()));
    }

    private static PrivateKey privateKey(Ed25519PrivateKeyParameters p) throws IOException, GeneralSecurityException {
        byte[] der = new PrivateKeyInfo(ED25519, new DEROctetString(p.getEncoded())).getEncoded();
        return ed25519Keys().generatePrivate(new PKCS8EncodedKeySpec(der));
    }

    private static PublicKey publicKey(Ed25519PublicKeyParameters p) throws IOException, GeneralSecurityException {
        byte[] der = new SubjectPublicKeyInfo(ED25519, p.getEncoded()).getEncoded();
        return ed25519Keys().generatePublic(new X509EncodedKeySpec(der));
    }

    /**
     * The JDK's own Ed25519 key factory (SunEC, JDK 15 and later). Keys only carry their encodings here:
     * signing and verifying go through Bouncy Castle's lightweight API ({@link #publicParams}). Bouncy
     * Castle's JCA provider is not used: constructing it registers every algorithm it has (some 1,200
     * classes loaded, 340 of them Bouncy Castle's), a quarter of a second of a node's start before it
     * can serve from disk.
     */
    private static KeyFactory ed25519Keys() throws GeneralSecurityException {
        return KeyFactory.getInstance("Ed25519");
    }

    private static Object readPem(Path file) throws IOException {
        if (Files.size(file) > 64 * 1024) {
            throw new KeyFileException(file, "too large for a key file");
        }
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(r)) {
            Object o = parser.readObject();
            if (o == null) {
                throw new KeyFileException(file, "no PEM block found");
            }
            return o;
        } catch (KeyFileException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new KeyFileException(file, "not a readable PEM file (" + e.getMessage() + ")");
        }
    }

    /** {@code der} as PEM text of {@code type} ("PRIVATE KEY", "PUBLIC KEY"), as the key files are written. */
    static String pem(String type, byte[] der) {
        StringWriter sw = new StringWriter();
        try (PemWriter w = new PemWriter(sw)) {
            w.writeObject(new PemObject(type, der));
        } catch (IOException e) {
            throw new IllegalStateException("writing to a StringWriter cannot fail", e);
        }
        return sw.toString();
    }

    /** A key file that exists but is not a usable Ed25519 key; the message names the file. */
    public static final class KeyFileException extends IOException {
        private static final long serialVersionUID = 1L;

        KeyFileException(Path file, String why) {
            super(file + ": " + why);
        }
    }
}
