package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The manifest's optional {@code rollout} (and {@code expires}, which packing now sets): canonical
 * bytes with every default written, strict reading with one typed rejection per kind of mistake,
 * and {@link RolloutPolicy#parseJson} giving the same verdicts as one-line reasons.
 */
class RolloutManifestTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
    private static final KeyPair PUBLISHER = Ed25519Keys.generate();
    private static final BundleVerifier VERIFIER = new BundleVerifier(TrustedKeys.of(List.of(PUBLISHER.getPublic())), Limits.defaults());
    private static final RolloutPolicy POLICY = RolloutPolicy.withDefaults(List.of(
            new RolloutPolicy.Hosts(List.of("a", "b")),
            new RolloutPolicy.Labels(Map.of("rack", "r1")),
            new RolloutPolicy.Percent(10)));

    @TempDir
    Path dir;

    private static TreeMap<String, byte[]> oneFile() {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("a.txt", "alpha\n".getBytes(StandardCharsets.UTF_8));
        return files;
    }

    private static VerifiedBundle verified(byte[] archive) {
        VerifyResult r = VERIFIER.verify(archive);
        assertThat(r).isInstanceOf(VerifyResult.Verified.class);
        return ((VerifyResult.Verified) r).bundle();
    }

    /** A hand-written manifest holding {@code rollout} (placed where sorted keys put it), signed by the publisher. */
    private static byte[] withRollout(String rollout) {
        return ArchiveBuilder.valid(PUBLISHER).manifestReplacing("\"schema\":1", "\"rollout\":" + rollout + ",\"schema\":1").build();
    }

    // ---- writing ----

    @Test
    void pack_withRolloutAndExpires_writesCanonicalBytesWithDefaultsSpelledOut() {
        BundlePacker.PackOptions opts = BundlePacker.PackOptions.labels(Map.of("env", "prod"))
                .withExpires(Instant.parse("2026-12-25T10:00:00Z")).withRollout(POLICY);

        VerifiedBundle b = verified(BundlePacker.pack("desktop-base", 7, oneFile(), opts, PUBLISHER.getPrivate(), CLOCK));

        assertThat(new String(b.manifestBytes(), StandardCharsets.UTF_8)).isEqualTo(
                "{\"created\":\"2026-11-25T10:00:00Z\",\"expires\":\"2026-12-25T10:00:00Z\",\"files\":[{\"path\":\"a.txt\",\"sha256\":\""
                        + Sha256.hex("alpha\n".getBytes(StandardCharsets.UTF_8)) + "\",\"size\":6}],\"labels\":{\"env\":\"prod\"},"
                        + "\"name\":\"desktop-base\",\"rollout\":{\"promote_after_s\":300,\"promote_ok\":3,\"revert_failed\":2,"
                        + "\"waves\":[{\"hosts\":[\"a\",\"b\"]},{\"labels\":{\"rack\":\"r1\"}},{\"percent\":10}]},"
                        + "\"schema\":1,\"version\":7}");
        assertThat(b.manifest().rollout()).contains(POLICY);
        assertThat(b.manifest().expires()).contains(Instant.parse("2026-12-25T10:00:00Z"));
    }

    @Test
    void pack_roundTrip_givesBackEveryWaveKindAndCount() {
        RolloutPolicy p = new RolloutPolicy(List.of(new RolloutPolicy.Percent(1),
                new RolloutPolicy.Labels(Map.of("zone", "z-2", "rack", "r.1")),
                new RolloutPolicy.Hosts(List.of("host-9", "Host_1.lan"))), 1, 0, 1_000_000);

        VerifiedBundle b = verified(BundlePacker.pack("a", 1, oneFile(), BundlePacker.PackOptions.none().withRollout(p),
                PUBLISHER.getPrivate(), CLOCK));

        assertThat(b.manifest().rollout()).contains(p);
        // labels sorted by key, hosts in the order given
        assertThat(new String(b.manifestBytes(), StandardCharsets.UTF_8)).contains(
                "\"rollout\":{\"promote_after_s\":0,\"promote_ok\":1,\"revert_failed\":1000000,\"waves\":[{\"percent\":1},"
                        + "{\"labels\":{\"rack\":\"r.1\",\"zone\":\"z-2\"}},{\"hosts\":[\"host-9\",\"Host_1.lan\"]}]}");
    }

    @Test
    void pack_withoutOptions_hasNeitherRolloutNorExpires_andOldOverloadsPackTheSameBytes() {
        byte[] viaOptions = BundlePacker.pack("a", 1, oneFile(), BundlePacker.PackOptions.labels(Map.of("k", "v")), PUBLISHER.getPrivate(), CLOCK);
        byte[] viaLabels = BundlePacker.pack("a", 1, oneFile(), Map.of("k", "v"), PUBLISHER.getPrivate(), CLOCK);

        assertThat(viaOptions).isEqualTo(viaLabels);
        Manifest m = verified(viaLabels).manifest();
        assertThat(m.rollout()).isEmpty();
        assertThat(m.expires()).isEmpty();
        assertThat(new String(verified(viaLabels).manifestBytes(), StandardCharsets.UTF_8)).doesNotContain("rollout", "expires");
    }

    @Test
    void packDirectory_withExpiresAndRollout_packsThem() throws Exception {
        Files.writeString(dir.resolve("a.txt"), "alpha\n");
        BundlePacker.PackOptions opts = BundlePacker.PackOptions.none().withExpires(Instant.parse("2026-11-25T10:00:01Z")).withRollout(POLICY);

        BundlePacker.PackResult r = BundlePacker.pack(dir, "a", 2, opts, PUBLISHER.getPrivate(), CLOCK, Limits.defaults());

        assertThat(r).isInstanceOfSatisfying(BundlePacker.PackResult.Packed.class, p -> {
            assertThat(verified(p.archive()).manifest()).isEqualTo(p.manifest());
            assertThat(p.manifest().rollout()).contains(POLICY);
            assertThat(p.manifest().expires()).contains(Instant.parse("2026-11-25T10:00:01Z"));
        });
    }

    @Test
    void packDirectory_expiresNotAfterCreated_isRefused() throws Exception {
        Files.writeString(dir.resolve("a.txt"), "alpha\n");
        // the clock has a fraction of a second; created is the whole second, so created itself is refused too
        Clock clock = Clock.fixed(Instant.parse("2026-11-25T10:00:00.700Z"), ZoneOffset.UTC);

        BundlePacker.PackResult atCreated = BundlePacker.pack(dir, "a", 2,
                BundlePacker.PackOptions.none().withExpires(Instant.parse("2026-11-25T10:00:00Z")), PUBLISHER.getPrivate(), clock, Limits.defaults());
        BundlePacker.PackResult before = BundlePacker.pack(dir, "a", 2,
                BundlePacker.PackOptions.none().withExpires(Instant.parse("2026-11-24T10:00:00Z")), PUBLISHER.getPrivate(), clock, Limits.defaults());

        assertThat(atCreated).isEqualTo(new BundlePacker.PackResult.Refused(
                "expires 2026-11-25T10:00:00Z is not after the creation time 2026-11-25T10:00:00Z"));
        assertThat(before).isEqualTo(new BundlePacker.PackResult.Refused(
                "expires 2026-11-24T10:00:00Z is not after the creation time 2026-11-25T10:00:00Z"));
    }

    @Test
    void packInMemory_expiresNotAfterCreated_throws() {
        BundlePacker.PackOptions opts = BundlePacker.PackOptions.none().withExpires(CLOCK.instant());

        assertThatThrownBy(() -> BundlePacker.pack("a", 1, oneFile(), opts, PUBLISHER.getPrivate(), CLOCK))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---- reading what other tools wrote ----

    @Test
    void verify_rolloutWithDefaultsLeftOut_verifiesTheExactBytesAndReadsTheDefaults() {
        ArchiveBuilder written = ArchiveBuilder.valid(PUBLISHER)
                .manifestReplacing("\"schema\":1", "\"rollout\":{\"waves\":[{\"percent\":10}]},\"schema\":1");

        VerifiedBundle b = verified(written.build());

        assertThat(b.manifestBytes()).isEqualTo(written.manifestBytes());
        assertThat(b.manifest().rollout()).contains(new RolloutPolicy(List.of(new RolloutPolicy.Percent(10)),
                RolloutPolicy.DEFAULT_PROMOTE_OK, RolloutPolicy.DEFAULT_PROMOTE_AFTER_S, RolloutPolicy.DEFAULT_REVERT_FAILED));
    }

    @Test
    void verify_rolloutWithEmptyWavesAndOneCount_isTheAllHostsWaveOnly() {
        VerifiedBundle b = verified(withRollout("{\"promote_ok\":5,\"waves\":[]}"));

        assertThat(b.manifest().rollout()).contains(new RolloutPolicy(List.of(), 5, 300, 2));
        assertThat(b.manifest().rollout().orElseThrow().waveCount()).isEqualTo(1);
    }

    @Test
    void verify_retiredWithRollout_isInvalidManifest() {
        byte[] archive = ArchiveBuilder.empty(PUBLISHER)
                .manifestReplacing("\"schema\":1", "\"retired\":true,\"rollout\":{\"waves\":[]},\"schema\":1").build();

        assertThat(VERIFIER.verify(archive)).isEqualTo(new VerifyResult.Rejected(
                new Rejection.InvalidManifest("rollout", "a retired version has no rollout")));
    }

    @Test
    void verify_duplicateKeyInRollout_isDuplicateKey() {
        assertThat(VERIFIER.verify(withRollout("{\"promote_ok\":3,\"promote_ok\":4,\"waves\":[]}"))).isEqualTo(
                new VerifyResult.Rejected(new Rejection.DuplicateKey("manifest.json", "promote_ok")));
        assertThat(RolloutPolicy.parseJson(utf8("{\"promote_ok\":3,\"promote_ok\":4,\"waves\":[]}"))).isEqualTo(
                new RolloutPolicy.ParseResult.Invalid("duplicate key \"promote_ok\""));
    }

    private static final String HOST_RULE = "must be a node id matching ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";
    private static final String LABEL_RULE = "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$";
    private static final String ONE_KIND = "must have exactly one of hosts, labels, percent";

    /** rollout JSON, the field (relative to the rollout object) and the reason it is refused. */
    static Stream<Arguments> badRollouts() {
        return Stream.of(
                Arguments.of("[]", "", "must be an object"),
                Arguments.of("{\"waves\":[],\"canary\":1}", "canary", "is not a known field (known: promote_after_s, promote_ok, revert_failed, waves)"),
                Arguments.of("{}", "waves", "must be a list of waves (it may be empty)"),
                Arguments.of("{\"waves\":{}}", "waves", "must be a list of waves (it may be empty)"),
                Arguments.of("{\"waves\":[" + "{\"percent\":1},".repeat(32) + "{\"percent\":1}]}", "waves", "has 33 waves, at most 32"),
                Arguments.of("{\"promote_ok\":0,\"waves\":[]}", "promote_ok", "must be an integer 1..1000000"),
                Arguments.of("{\"promote_ok\":1000001,\"waves\":[]}", "promote_ok", "must be an integer 1..1000000"),
                Arguments.of("{\"promote_ok\":\"3\",\"waves\":[]}", "promote_ok", "must be an integer 1..1000000"),
                Arguments.of("{\"promote_ok\":3.0,\"waves\":[]}", "promote_ok", "must be an integer 1..1000000"),
                Arguments.of("{\"promote_ok\":null,\"waves\":[]}", "promote_ok", "must be an integer 1..1000000"),
                Arguments.of("{\"promote_after_s\":-1,\"waves\":[]}", "promote_after_s", "must be an integer 0..31622400"),
                Arguments.of("{\"promote_after_s\":31622401,\"waves\":[]}", "promote_after_s", "must be an integer 0..31622400"),
                Arguments.of("{\"promote_after_s\":99999999999999999999,\"waves\":[]}", "promote_after_s", "must be an integer 0..31622400"),
                Arguments.of("{\"revert_failed\":0,\"waves\":[]}", "revert_failed", "must be an integer 1..1000000"),
                Arguments.of("{\"revert_failed\":true,\"waves\":[]}", "revert_failed", "must be an integer 1..1000000"),
                Arguments.of("{\"waves\":[7]}", "waves[0]", "must be an object"),
                Arguments.of("{\"waves\":[{}]}", "waves[0]", ONE_KIND + " (found 0)"),
                Arguments.of("{\"waves\":[{\"percent\":5},{\"hosts\":[\"a\"],\"percent\":5}]}", "waves[1]", ONE_KIND + " (found 2)"),
                Arguments.of("{\"waves\":[{\"host\":[\"a\"]}]}", "waves[0].host", "is not a known field (a wave has one of hosts, labels, percent)"),
                Arguments.of("{\"waves\":[{\"percent\":5},{\"percent\":0}]}", "waves[1].percent", "must be 1..100"),
                Arguments.of("{\"waves\":[{\"percent\":101}]}", "waves[0].percent", "must be 1..100"),
                Arguments.of("{\"waves\":[{\"percent\":\"10\"}]}", "waves[0].percent", "must be 1..100"),
                Arguments.of("{\"waves\":[{\"hosts\":[]}]}", "waves[0].hosts", "must be a list of 1..1000 host ids"),
                Arguments.of("{\"waves\":[{\"hosts\":\"a\"}]}", "waves[0].hosts", "must be a list of 1..1000 host ids"),
                Arguments.of("{\"waves\":[{\"hosts\":[\"a\",\"-b\"]}]}", "waves[0].hosts[1]", HOST_RULE),
                Arguments.of("{\"waves\":[{\"hosts\":[\"a b\"]}]}", "waves[0].hosts[0]", HOST_RULE),
                Arguments.of("{\"waves\":[{\"hosts\":[\"" + "h".repeat(65) + "\"]}]}", "waves[0].hosts[0]", HOST_RULE),
                Arguments.of("{\"waves\":[{\"hosts\":[1]}]}", "waves[0].hosts[0]", HOST_RULE),
                Arguments.of("{\"waves\":[{\"hosts\":[\"a\",\"b\",\"a\"]}]}", "waves[0].hosts[2]", "names a a second time"),
                Arguments.of("{\"waves\":[{\"labels\":{}}]}", "waves[0].labels", "must be an object of 1..16 labels"),
                Arguments.of("{\"waves\":[{\"labels\":[\"rack\"]}]}", "waves[0].labels", "must be an object of 1..16 labels"),
                Arguments.of("{\"waves\":[{\"labels\":{\"rack=\":\"r1\"}}]}", "waves[0].labels", "key \"rack=\" must match " + LABEL_RULE),
                Arguments.of("{\"waves\":[{\"labels\":{\"rack\":\"\"}}]}", "waves[0].labels.rack", "must be a string matching " + LABEL_RULE),
                Arguments.of("{\"waves\":[{\"labels\":{\"rack\":\"" + "r".repeat(64) + "\"}}]}", "waves[0].labels.rack", "must be a string matching " + LABEL_RULE),
                Arguments.of("{\"waves\":[{\"labels\":{\"rack\":1}}]}", "waves[0].labels.rack", "must be a string matching " + LABEL_RULE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRollouts")
    void verify_badRollout_isInvalidManifestNamingTheField(String rollout, String field, String why) {
        String manifestField = field.isEmpty() ? "rollout" : "rollout." + field;

        assertThat(VERIFIER.verify(withRollout(rollout))).isEqualTo(new VerifyResult.Rejected(new Rejection.InvalidManifest(manifestField, why)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRollouts")
    void parseJson_badRollout_isInvalidWithTheSameReasonOnOneLine(String rollout, String field, String why) {
        String reason = (field.isEmpty() ? "rollout" : field) + " " + why;

        assertThat(RolloutPolicy.parseJson(utf8(rollout))).isEqualTo(new RolloutPolicy.ParseResult.Invalid(reason));
    }

    // ---- parseJson on its own ----

    @Test
    void parseJson_canonicalManifestObject_isThePolicy() {
        String canonical = "{\"promote_after_s\":300,\"promote_ok\":3,\"revert_failed\":2,"
                + "\"waves\":[{\"hosts\":[\"a\",\"b\"]},{\"labels\":{\"rack\":\"r1\"}},{\"percent\":10}]}";

        assertThat(RolloutPolicy.parseJson(utf8(canonical))).isEqualTo(new RolloutPolicy.ParseResult.Parsed(POLICY));
    }

    @Test
    void parseJson_handWrittenFileWithWhitespaceAndDefaultsLeftOut_isThePolicy() {
        String file = "{\n  \"waves\": [ {\"hosts\": [\"a\", \"b\"]}, {\"labels\": {\"rack\": \"r1\"}}, {\"percent\": 10} ],\n"
                + "  \"revert_failed\": 2\n}\n";

        assertThat(RolloutPolicy.parseJson(utf8(file))).isEqualTo(new RolloutPolicy.ParseResult.Parsed(POLICY));
    }

    @Test
    void parseJson_notJson_isInvalidOnOneLine() {
        RolloutPolicy.ParseResult r = RolloutPolicy.parseJson(utf8("{\"waves\": [}"));

        assertThat(r).isInstanceOfSatisfying(RolloutPolicy.ParseResult.Invalid.class, i -> {
            assertThat(i.reason()).startsWith("rollout is not valid JSON: ");
            assertThat(i.reason()).doesNotContain("\n");
        });
        assertThat(RolloutPolicy.parseJson(utf8("{\"waves\":[]} {}"))).isInstanceOf(RolloutPolicy.ParseResult.Invalid.class);
        assertThat(RolloutPolicy.parseJson(new byte[0])).isEqualTo(new RolloutPolicy.ParseResult.Invalid("rollout is empty: expected a JSON object"));
    }

    // ---- the model refuses what the reader refuses ----

    @Test
    void model_refusesBadHostIdsDuplicateHostsAndBadLabels() {
        assertThatThrownBy(() -> new RolloutPolicy.Hosts(List.of("a b"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RolloutPolicy.Hosts(List.of("a", "a"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RolloutPolicy.Labels(Map.of("rack", "r 1"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RolloutPolicy.Labels(Map.of("", "r1"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Manifest(Manifest.SCHEMA, "a", 1, CLOCK.instant(), Optional.empty(), List.of(), Map.of(), true,
                Optional.of(POLICY))).isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
