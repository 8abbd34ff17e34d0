package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class BundleRoundTripTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
    private final KeyPair publisher = Ed25519Keys.generate();
    private final BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(publisher.getPublic())), Limits.defaults());

    private byte[] pack(String name, long version) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("etc/app.conf", "key=value\n".getBytes(StandardCharsets.UTF_8));
        files.put("readme.txt", "hello".getBytes(StandardCharsets.UTF_8));
        return BundlePacker.pack(name, version, files, Map.of("env", "prod"), publisher.getPrivate(), CLOCK);
    }

    @Test
    void pack_thenVerify_givesManifestAndFiles() {
        byte[] archive = pack("desktop-base", 7);

        VerifyResult r = verifier.verify(archive);

        assertThat(r).isInstanceOf(VerifyResult.Verified.class);
        VerifiedBundle b = ((VerifyResult.Verified) r).bundle();
        assertThat(b.name()).isEqualTo("desktop-base");
        assertThat(b.version()).isEqualTo(7);
        assertThat(b.manifest().labels()).containsEntry("env", "prod");
        assertThat(b.fileBytes("readme.txt")).hasValueSatisfying(buf -> assertThat(buf.remaining()).isEqualTo(5));
        assertThat(b.archiveBytes()).isEqualTo(archive);
        assertThat(new String(b.manifestBytes(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"created\":\"2026-11-25T10:00:00Z\",\"files\":[{\"path\":\"etc/app.conf\",\"sha256\":"
                        + "\"" + Sha256.hex("key=value\n".getBytes(StandardCharsets.UTF_8)) + "\",\"size\":10},"
                        + "{\"path\":\"readme.txt\",\"sha256\":\"" + Sha256.hex("hello".getBytes(StandardCharsets.UTF_8))
                        + "\",\"size\":5}],\"labels\":{\"env\":\"prod\"},\"name\":\"desktop-base\",\"schema\":1,\"version\":7}");
    }

    /** A key rotation's bundle: signed by the old and the new key, each verifier trusting either one accepts it. */
    @Test
    void cosigned_verifiesUnderEitherKey_withOneSignatureEach_theSameKeyTwiceSigningOnce() {
        KeyPair rotated = Ed25519Keys.generate();
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("readme.txt", "hello".getBytes(StandardCharsets.UTF_8));
        BundlePacker.PackOptions both = BundlePacker.PackOptions.none()
                .withCosigners(List.of(rotated.getPrivate(), publisher.getPrivate(), rotated.getPrivate()));

        byte[] archive = BundlePacker.pack("desktop-base", 8, files, both, publisher.getPrivate(), CLOCK);

        BundleVerifier newOnly = new BundleVerifier(TrustedKeys.of(List.of(rotated.getPublic())), Limits.defaults());
        BundleVerifier oldAndNew = new BundleVerifier(TrustedKeys.of(List.of(publisher.getPublic(), rotated.getPublic())), Limits.defaults());
        assertThat(((VerifyResult.Verified) verifier.verify(archive)).bundle().signerKeyIds()).containsExactly(KeyId.of(publisher.getPublic()));
        assertThat(((VerifyResult.Verified) newOnly.verify(archive)).bundle().signerKeyIds()).containsExactly(KeyId.of(rotated.getPublic()));
        assertThat(((VerifyResult.Verified) oldAndNew.verify(archive)).bundle().signerKeyIds())
                .containsExactly(KeyId.of(publisher.getPublic()), KeyId.of(rotated.getPublic()));
        List<KeyPair> seventeen = new java.util.ArrayList<>();
        for (int i = 0; i < 17; i++) {
            seventeen.add(Ed25519Keys.generate());
        }
        BundlePacker.PackOptions tooMany = BundlePacker.PackOptions.none().withCosigners(seventeen.stream().map(KeyPair::getPrivate).toList());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BundlePacker.pack("x", 1, files, tooMany, publisher.getPrivate(), CLOCK))
                .hasMessageContaining("more than 16 signing keys");
    }

    @Test
    void verify_fromStream_capturesTheSameArchiveBytes() {
        byte[] archive = pack("a", 1);

        VerifyResult r = verifier.verify(new ByteArrayInputStream(archive));

        assertThat(((VerifyResult.Verified) r).bundle().archiveBytes()).isEqualTo(archive);
    }

    @Test
    void pack_isDeterministic() {
        assertThat(pack("a", 1)).isEqualTo(pack("a", 1));
    }

    @Test
    void retired_versionHasNoFilesAndVerifies() {
        byte[] tombstone = BundlePacker.packRetired("a", 2, publisher.getPrivate(), CLOCK);

        VerifyResult r = verifier.verify(tombstone);

        assertThat(((VerifyResult.Verified) r).bundle().retired()).isTrue();
    }

    @Test
    void rollbackFloor_rejectsEqualAndLower_acceptsHigher() {
        VerifiedBundle b = ((VerifyResult.Verified) verifier.verify(pack("a", 5))).bundle();

        assertThat(RollbackFloor.check(b, OptionalLong.of(5))).isEqualTo(
                new VerifyResult.Rejected(new Rejection.Rollback("a", 5, 5)));
        assertThat(RollbackFloor.check(b, OptionalLong.of(9))).isEqualTo(
                new VerifyResult.Rejected(new Rejection.Rollback("a", 9, 5)));
        assertThat(RollbackFloor.check(b, OptionalLong.of(4)).isVerified()).isTrue();
        assertThat(RollbackFloor.check(b, OptionalLong.empty()).isVerified()).isTrue();
    }

    @Test
    void verifyAs_otherName_isNameMismatch() {
        VerifyResult r = verifier.verifyAs("b", pack("a", 1));

        assertThat(r).isEqualTo(new VerifyResult.Rejected(new Rejection.NameMismatch("b", "a")));
    }

    @Test
    void untrustedPublisher_isRejected() {
        KeyPair other = Ed25519Keys.generate();
        BundleVerifier strict = new BundleVerifier(TrustedKeys.of(List.of(other.getPublic())), Limits.defaults());

        VerifyResult r = strict.verify(pack("a", 1));

        assertThat(r).isInstanceOf(VerifyResult.Rejected.class);
        assertThat(((VerifyResult.Rejected) r).reason().code()).isEqualTo("untrusted_key");
    }
}
