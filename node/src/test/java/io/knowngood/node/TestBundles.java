package io.knowngood.node;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.RolloutPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** A publisher key and signed bundles for tests. */
public final class TestBundles {

    public final KeyPair key = Ed25519Keys.generate();
    public final Clock clock = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);

    /** Writes the public key to {@code dir/publisher.pub} and returns its path. */
    public Path writePublicKey(Path dir) throws IOException {
        Path p = dir.resolve("publisher.pub");
        Ed25519Keys.writePublicPem(key.getPublic(), p);
        return p;
    }

    public byte[] bundle(String name, long version, String content) {
        SortedMap<String, byte[]> files = new TreeMap<>();
        files.put("app/config.ini", content.getBytes(StandardCharsets.UTF_8));
        files.put("readme.txt", ("bundle " + name + " version " + version + "\n").getBytes(StandardCharsets.UTF_8));
        return BundlePacker.pack(name, version, files, Map.of("env", "test"), key.getPrivate(), clock);
    }

    /** A bundle with a rollout policy (and optionally an expiry) in its signed manifest. */
    public byte[] bundle(String name, long version, String content, RolloutPolicy rollout, Instant expires) {
        SortedMap<String, byte[]> files = new TreeMap<>();
        files.put("app/config.ini", content.getBytes(StandardCharsets.UTF_8));
        return BundlePacker.pack(name, version, files, new BundlePacker.PackOptions(Map.of("env", "test"),
                java.util.Optional.ofNullable(expires), java.util.Optional.ofNullable(rollout)), key.getPrivate(), clock);
    }

    /** A bundle only VMs in one of {@code pools} may see (and optionally a rollout policy; null for none). */
    public byte[] forPools(String name, long version, String content, RolloutPolicy rollout, String... pools) {
        SortedMap<String, byte[]> files = new TreeMap<>();
        files.put("app/config.ini", content.getBytes(StandardCharsets.UTF_8));
        return BundlePacker.pack(name, version, files, new BundlePacker.PackOptions(Map.of("env", "test"),
                java.util.Optional.empty(), java.util.Optional.ofNullable(rollout)).withPools(java.util.List.of(pools)), key.getPrivate(), clock);
    }

    public byte[] retired(String name, long version) {
        return BundlePacker.packRetired(name, version, key.getPrivate(), clock);
    }

    /** A bundle signed by a key nobody trusts. */
    public static byte[] untrusted(String name, long version) {
        return new TestBundles().bundle(name, version, "from a stranger");
    }
}
