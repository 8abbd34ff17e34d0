package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Properties of pack and verify over random bundles (names, paths, contents, labels, versions):
 * what is packed verifies and gives back the same manifest and bytes; and changing any one byte of
 * what is signed or hashed (manifest.json, signatures.json, file data) never verifies.
 */
class PackVerifyPropertyTest {
    private static final KeyPair PUBLISHER = Ed25519Keys.generate();
    private static final BundleVerifier VERIFIER = new BundleVerifier(TrustedKeys.of(List.of(PUBLISHER.getPublic())), Limits.defaults());
    private static final String NAME_START = "abcdefghijklmnopqrstuvwxyz0123456789";

    record Input(String name, long version, SortedMap<String, byte[]> files, Map<String, String> labels, Instant created) {
        byte[] pack() {
            return BundlePacker.pack(name, version, files, labels, PUBLISHER.getPrivate(), Clock.fixed(created, ZoneOffset.UTC));
        }

        @Override
        public String toString() {
            return name + "@" + version + " files=" + files.keySet() + " labels=" + labels + " created=" + created;
        }
    }

    @Provide
    Arbitrary<Input> bundles() {
        Arbitrary<String> names = Combinators.combine(
                Arbitraries.strings().withChars(NAME_START).ofLength(1),
                Arbitraries.strings().withChars(NAME_START + "._-").ofMaxLength(127)).as(String::concat);
        Arbitrary<Long> versions = Arbitraries.oneOf(Arbitraries.longs().between(1, Long.MAX_VALUE), Arbitraries.of(1L, Long.MAX_VALUE));
        // segments with spaces, dots, dashes, non-ASCII; sometimes long enough to need PAX path records
        Arbitrary<String> segment = Arbitraries.strings().withChars("abcxyzABC0129._-~ +@éü日本")
                .ofMinLength(1).ofMaxLength(60).filter(s -> !s.equals(".") && !s.equals(".."));
        Arbitrary<String> paths = segment.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join("/", l));
        Arbitrary<byte[]> contents = Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMaxSize(2048),
                Arbitraries.of(new byte[0], new byte[512], new byte[513]));
        Arbitrary<SortedMap<String, byte[]>> files = Arbitraries.maps(paths, contents).ofMaxSize(5).map(TreeMap::new);
        Arbitrary<String> text = Arbitraries.strings().withCharRange(' ', '~').withChars("\"\\\n\té日").ofMaxLength(30);
        Arbitrary<Map<String, String>> labels = Arbitraries.maps(text, text).ofMaxSize(4);
        Arbitrary<Instant> created = Arbitraries.longs().between(0, Instant.parse("9999-12-31T23:59:59Z").getEpochSecond())
                .map(Instant::ofEpochSecond);
        return Combinators.combine(names, versions, files, labels, created).as(Input::new);
    }

    @Property(tries = 300)
    void packThenVerify_givesTheSameManifestAndBytes(@ForAll("bundles") Input in) {
        byte[] archive = in.pack();

        for (VerifyResult r : List.of(VERIFIER.verify(archive), VERIFIER.verify(new ByteArrayInputStream(archive)))) {
            assertThat(r).isInstanceOf(VerifyResult.Verified.class);
            VerifiedBundle b = ((VerifyResult.Verified) r).bundle();
            Manifest m = b.manifest();
            assertThat(m.name()).isEqualTo(in.name());
            assertThat(m.version()).isEqualTo(in.version());
            assertThat(m.created()).isEqualTo(in.created());
            assertThat(m.labels()).isEqualTo(in.labels());
            assertThat(m.retired()).isFalse();
            assertThat(m.files()).extracting(FileEntry::path).containsExactlyElementsOf(in.files().keySet());
            in.files().forEach((path, content) -> {
                assertThat(m.file(path)).hasValueSatisfying(f -> assertThat(f.size()).isEqualTo(content.length));
                assertThat(b.fileBytes(path)).hasValue(ByteBuffer.wrap(content));
            });
            assertThat(b.archiveBytes()).isEqualTo(archive);
            assertThat(b.manifestDigest()).isEqualTo(Sha256.hex(b.manifestBytes()));
            assertThat(b.signerKeyIds()).containsExactly(KeyId.of(PUBLISHER.getPublic()));
        }
    }

    @Property(tries = 500)
    void flippingAnySignedOrHashedByte_neverVerifies(@ForAll("bundles") Input in,
                                                      @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int where,
                                                      @ForAll @IntRange(min = 1, max = 255) int mask) {
        byte[] archive = in.pack();
        TarLayout layout = TarLayout.of(archive);
        int at = layout.regularDataOffset(where % layout.regularDataBytes());
        byte[] flipped = archive.clone();
        flipped[at] ^= (byte) mask;

        assertThat(VERIFIER.verify(flipped)).as("flip at %d (mask %02x)", at, mask).isInstanceOf(VerifyResult.Rejected.class);
        assertThat(VERIFIER.verify(new ByteArrayInputStream(flipped))).isInstanceOf(VerifyResult.Rejected.class);
    }

    @Property(tries = 100)
    void retiredVersions_roundTripWithNoFiles(@ForAll("bundles") Input in) {
        byte[] tombstone = BundlePacker.packRetired(in.name(), in.version(), PUBLISHER.getPrivate(), Clock.fixed(in.created(), ZoneOffset.UTC));

        VerifyResult r = VERIFIER.verify(tombstone);

        assertThat(r).isInstanceOfSatisfying(VerifyResult.Verified.class, v -> {
            assertThat(v.bundle().retired()).isTrue();
            assertThat(v.bundle().manifest().files()).isEmpty();
            assertThat(v.bundle().version()).isEqualTo(in.version());
        });
    }

    /** A flip is refused for a reason that belongs to the entry it hit (a file flip is a hash mismatch, ...). */
    @Property(tries = 200)
    void flips_areRejectedForTheRegionTheyHit(@ForAll("bundles") Input in, @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int where) {
        byte[] archive = in.pack();
        TarLayout layout = TarLayout.of(archive);
        List<String> allowed = new ArrayList<>();
        int n = where % layout.regularDataBytes();
        int at = layout.regularDataOffset(n);
        String entry = layout.regularData().stream().filter(r -> at >= r.data() && at < r.data() + r.size())
                .findFirst().orElseThrow().name();
        if (entry.equals("manifest.json")) {
            allowed.addAll(List.of("malformed_json", "duplicate_key", "unknown_schema", "invalid_manifest", "bad_name", "bad_path",
                    "bad_signature", "too_large", "too_many_files"));
        } else if (entry.equals("signatures.json")) {
            allowed.addAll(List.of("malformed_json", "duplicate_key", "malformed_signature", "untrusted_key", "bad_signature"));
        } else {
            allowed.add("hash_mismatch");
        }
        byte[] flipped = archive.clone();
        flipped[at] ^= 0x01;

        VerifyResult r = VERIFIER.verify(flipped);

        assertThat(r).isInstanceOfSatisfying(VerifyResult.Rejected.class,
                rej -> assertThat(rej.reason().code()).as("flip in %s: %s", entry, rej.reason().detail()).isIn(allowed));
    }

    @Provide
    Arbitrary<RolloutPolicy> policies() {
        Arbitrary<String> id = Combinators.combine(
                Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z').numeric().ofLength(1),
                Arbitraries.strings().withCharRange('a', 'z').numeric().withChars("._-").ofMaxLength(20)).as(String::concat);
        Arbitrary<RolloutPolicy.Wave> hosts = id.list().uniqueElements().ofMinSize(1).ofMaxSize(5).map(RolloutPolicy.Hosts::new);
        Arbitrary<RolloutPolicy.Wave> labels = Arbitraries.maps(id, id).ofMinSize(1).ofMaxSize(4).map(RolloutPolicy.Labels::new);
        Arbitrary<RolloutPolicy.Wave> percent = Arbitraries.integers().between(1, 100).map(RolloutPolicy.Percent::new);
        Arbitrary<List<RolloutPolicy.Wave>> waves = Arbitraries.oneOf(hosts, labels, percent).list().ofMaxSize(RolloutPolicy.MAX_WAVES);
        return Combinators.combine(waves,
                Arbitraries.integers().between(1, RolloutPolicy.MAX_COUNT),
                Arbitraries.longs().between(0, RolloutPolicy.MAX_PROMOTE_AFTER_S),
                Arbitraries.integers().between(1, RolloutPolicy.MAX_COUNT)).as(RolloutPolicy::new);
    }

    /** Whatever policy is packed comes back from the verifier, and parseJson reads the manifest's rollout object as the same policy. */
    @Property(tries = 200)
    void rolloutPolicies_roundTripThroughTheManifestAndParseJson(@ForAll("policies") RolloutPolicy policy) throws Exception {
        SortedMap<String, byte[]> files = new TreeMap<>(Map.of("a", new byte[] {1}));
        byte[] archive = BundlePacker.pack("a", 1, files, BundlePacker.PackOptions.none().withRollout(policy),
                PUBLISHER.getPrivate(), Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));

        VerifyResult r = VERIFIER.verify(archive);

        assertThat(r).isInstanceOf(VerifyResult.Verified.class);
        VerifiedBundle b = ((VerifyResult.Verified) r).bundle();
        assertThat(b.manifest().rollout()).contains(policy);
        byte[] rolloutObject = ManifestCodec.JSON.writeValueAsBytes(ManifestCodec.JSON.readTree(b.manifestBytes()).get("rollout"));
        assertThat(RolloutPolicy.parseJson(rolloutObject)).isEqualTo(new RolloutPolicy.ParseResult.Parsed(policy));
    }
}
