package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Key files as operators and openssl write them, read through the JDK's Ed25519 key factory. */
class Ed25519KeysTest {

    @TempDir
    Path dir;

    /**
     * The DER that {@code openssl genpkey -algorithm ed25519} writes before the 32-byte seed: PKCS#8
     * version 1, the Ed25519 OID, no public key (RFC 8410). The seed itself is made per test run.
     */
    private static final byte[] OPENSSL_PREFIX = java.util.HexFormat.of().parseHex("302e020100300506032b657004220420");

    @Test
    void writtenKeys_readBack_signAndVerifyWithEachOther() throws Exception {
        KeyPair pair = Ed25519Keys.generate();
        Path priv = dir.resolve("k.pem");
        Path pub = dir.resolve("k.pub");
        Ed25519Keys.writePrivatePem(pair.getPrivate(), priv);
        Ed25519Keys.writePublicPem(pair.getPublic(), pub);

        PrivateKey readPriv = Ed25519Keys.readPrivatePem(priv);
        PublicKey readPub = Ed25519Keys.readPublicPem(pub);
        assertThat(readPub.getEncoded()).isEqualTo(pair.getPublic().getEncoded());
        assertThat(Ed25519Keys.publicKeyOf(readPriv).getEncoded()).isEqualTo(pair.getPublic().getEncoded());

        byte[] message = "manifest".getBytes(StandardCharsets.UTF_8);
        byte[] sig = Ed25519Keys.sign(readPriv, message);
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, Ed25519Keys.publicParams(readPub));
        verifier.update(message, 0, message.length);
        assertThat(verifier.verifySignature(sig)).isTrue();
    }

    @Test
    void opensslPrivateKey_isRead_andItsPublicKeyDerived() throws Exception {
        byte[] seed = new byte[32];
        new java.security.SecureRandom().nextBytes(seed);
        byte[] der = new byte[OPENSSL_PREFIX.length + seed.length];
        System.arraycopy(OPENSSL_PREFIX, 0, der, 0, OPENSSL_PREFIX.length);
        System.arraycopy(seed, 0, der, OPENSSL_PREFIX.length, seed.length);
        Path priv = dir.resolve("openssl.pem");
        Files.writeString(priv, Ed25519Keys.pem("PRIVATE KEY", der));
        PrivateKey key = Ed25519Keys.readPrivatePem(priv);
        byte[] expected = new Ed25519PrivateKeyParameters(seed, 0).generatePublicKey().getEncoded();
        assertThat(Ed25519Keys.publicParams(Ed25519Keys.publicKeyOf(key)).getEncoded()).isEqualTo(expected);
    }

    @Test
    void privateKeyCarryingItsPublicKey_pkcs8Version2_isRead() throws Exception {
        Ed25519PrivateKeyParameters p = new Ed25519PrivateKeyParameters(new java.security.SecureRandom());
        byte[] der = new PrivateKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), new DEROctetString(p.getEncoded()),
                null, p.generatePublicKey().getEncoded()).getEncoded();
        Path priv = dir.resolve("v2.pem");
        Files.writeString(priv, Ed25519Keys.pem("PRIVATE KEY", der));
        PrivateKey key = Ed25519Keys.readPrivatePem(priv);
        assertThat(Ed25519Keys.publicParams(Ed25519Keys.publicKeyOf(key)).getEncoded()).isEqualTo(p.generatePublicKey().getEncoded());
    }

    @Test
    void aPublicKeyFileGivenAsPrivate_isRefusedWithTheFileNamed() throws Exception {
        Path pub = dir.resolve("k.pub");
        Ed25519Keys.writePublicPem(Ed25519Keys.generate().getPublic(), pub);
        assertThatThrownBy(() -> Ed25519Keys.readPrivatePem(pub)).isInstanceOf(Ed25519Keys.KeyFileException.class)
                .hasMessageContaining("k.pub").hasMessageContaining("not a PKCS#8 private key");
    }
}
