package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The manifest's optional {@code pools} and a file entry's {@code encrypted}: canonical bytes, the
 * sealer applied before hashing (so the hash covers the ciphertext), visibility by pool, and a typed
 * rejection for each malformed form.
 */
class PoolsAndSealedFilesTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T10:00:00Z"), ZoneOffset.UTC);
    private static final KeyPair PUBLISHER = Ed25519Keys.generate();
    private static final BundleVerifier VERIFIER = new BundleVerifier(TrustedKeys.of(List.of(PUBLISHER.getPublic())), Limits.defaults());

    /** Reverses the bytes: enough to see that what is archived and hashed is the sealer's output. */
    private static final BundlePacker.FileSealer REVERSING = new BundlePacker.FileSealer() {
        @Override
        public boolean matches(String path) {
            return path.startsWith("secret/");
        }

        @Override
        public byte[] seal(String path, byte[] plain) {
            byte[] out = new byte[plain.length];
            for (int i = 0; i < plain.length; i++) {
                out[i] = plain[plain.length - 1 - i];
            }
            return out;
        }
    };

    private static TreeMap<String, byte[]> files() {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("a.txt", "alpha\n".getBytes(StandardCharsets.UTF_8));
        files.put("secret/db.pw", "hunter2".getBytes(StandardCharsets.UTF_8));
        return files;
    }

    private static VerifiedBundle verified(byte[] archive) {
        VerifyResult r = VERIFIER.verify(archive);
        assertThat(r).isInstanceOf(VerifyResult.Verified.class);
        return ((VerifyResult.Verified) r).bundle();
    }

    @Test
    void pack_withPoolsAndSealer_writesSortedPoolsAndMarksSealedFiles() {
        TreeMap<String, byte[]> in = files();
        BundlePacker.PackOptions opts = BundlePacker.PackOptions.none().withPools(List.of("hr", "finance")).withSealer(REVERSING);

        VerifiedBundle b = verified(BundlePacker.pack("desk", 2, in, opts, PUBLISHER.getPrivate(), CLOCK));

        byte[] sealed = "2retnuh".getBytes(StandardCharsets.UTF_8);
        assertThat(new String(b.manifestBytes(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"created\":\"2026-12-01T10:00:00Z\",\"files\":[{\"path\":\"a.txt\",\"sha256\":\""
                        + Sha256.hex("alpha\n".getBytes(StandardCharsets.UTF_8)) + "\",\"size\":6},"
                        + "{\"encrypted\":\"age\",\"path\":\"secret/db.pw\",\"sha256\":\"" + Sha256.hex(sealed) + "\",\"size\":7}],"
                        + "\"name\":\"desk\",\"pools\":[\"finance\",\"hr\"],\"schema\":1,\"version\":2}");
        assertThat(b.manifest().pools()).containsExactly("finance", "hr");
        assertThat(b.manifest().file("secret/db.pw").orElseThrow().encrypted()).contains(FileEntry.AGE);
        assertThat(b.manifest().file("a.txt").orElseThrow().encrypted()).isEmpty();
        assertThat(b.manifest().hasEncryptedFiles()).isTrue();
        assertThat(in.get("secret/db.pw")).asString(StandardCharsets.UTF_8).isEqualTo("hunter2"); // the caller's map is left alone
    }

    @Test
    void visibleTo_unscopedForEveryone_scopedOnlyForItsPools() {
        Manifest scoped = verified(BundlePacker.pack("desk", 1, files(),
                BundlePacker.PackOptions.none().withPools(List.of("finance")), PUBLISHER.getPrivate(), CLOCK)).manifest();
        Manifest open = verified(BundlePacker.pack("desk", 1, files(), BundlePacker.PackOptions.none(), PUBLISHER.getPrivate(), CLOCK)).manifest();

        assertThat(scoped.visibleTo(Set.of("finance"))).isTrue();
        assertThat(scoped.visibleTo(Set.of("kiosk", "finance"))).isTrue();
        assertThat(scoped.visibleTo(Set.of("kiosk"))).isFalse();
        assertThat(scoped.visibleTo(Set.of())).isFalse();
        assertThat(open.visibleTo(Set.of())).isTrue();
        assertThat(open.hasEncryptedFiles()).isFalse();
    }

    @Test
    void packDirectory_refusesABadPoolName(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("a.txt"), "x");
        BundlePacker.PackResult r = BundlePacker.pack(dir, "desk", 1, BundlePacker.PackOptions.none().withPools(List.of("Finance")),
                PUBLISHER.getPrivate(), CLOCK, Limits.defaults());
        assertThat(r).isEqualTo(new BundlePacker.PackResult.Refused("pool name \"Finance\" does not match " + PoolName.RULE));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"pools\":[]|pools|must be a list of 1..64 pool names",
            "\"pools\":\"finance\"|pools|must be a list of 1..64 pool names",
            "\"pools\":[\"Finance\"]|pools[0]|must be a pool name matching ^[a-z0-9][a-z0-9._-]{0,63}$",
            "\"pools\":[7]|pools[0]|must be a pool name matching ^[a-z0-9][a-z0-9._-]{0,63}$",
            "\"pools\":[\"hr\",\"finance\"]|pools[1]|pools must be sorted and distinct",
            "\"pools\":[\"hr\",\"hr\"]|pools[1]|pools must be sorted and distinct",
    })
    void read_malformedPools_isRejectedWithTheField(String pools, String field, String why) {
        byte[] archive = ArchiveBuilder.valid(PUBLISHER).manifestReplacing("\"schema\":1", pools + ",\"schema\":1").build();
        assertThat(VERIFIER.verify(archive)).isEqualTo(new VerifyResult.Rejected(new Rejection.InvalidManifest(field, why)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"\"gpg\"", "true", "\"AGE\"", "\"\""})
    void read_unknownEncryption_isRejected(String value) {
        byte[] archive = ArchiveBuilder.valid(PUBLISHER).manifestReplacing("{\"path\"", "{\"encrypted\":" + value + ",\"path\"").build();
        assertThat(VERIFIER.verify(archive)).isEqualTo(new VerifyResult.Rejected(
                new Rejection.InvalidManifest("files[0].encrypted", "must be \"age\"")));
    }

    @Test
    void read_encryptedAge_isAccepted() {
        byte[] archive = ArchiveBuilder.valid(PUBLISHER).manifestReplacing("{\"path\"", "{\"encrypted\":\"age\",\"path\"").build();
        assertThat(verified(archive).manifest().files().get(0).encrypted()).isEqualTo(Optional.of("age"));
    }
}
