package io.knowngood.cli.bundle;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.RolloutPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * kgctl's one door into crypto for what issue 14 adds to packing: a manifest's {@code expires} and
 * {@code rollout}, and reading a rollout policy file. Every kgctl command that packs goes through
 * here, so the crypto API is named in one place.
 */
public final class Packing {

    private Packing() {
    }

    /** A rollout policy file read: the policy, or why it is not one (one line). */
    public sealed interface PolicyRead {
        record Parsed(RolloutPolicy policy) implements PolicyRead {
        }

        record Invalid(String reason) implements PolicyRead {
        }
    }

    /**
     * The manifest labels of repeated {@code --label KEY=VALUE} options. A key may not be empty nor
     * given twice: picocli's map options took {@code =x} as a label with an empty key, and of
     * {@code a=1 --label a=2} kept the last without a word. The value is free text and may be empty.
     */
    public static Map<String, String> labels(CommandSpec spec, List<String> given) {
        Map<String, String> labels = new TreeMap<>();
        for (String kv : given) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new ParameterException(spec.commandLine(), "--label " + kv + ": expected KEY=VALUE with a non-empty KEY");
            }
            String key = kv.substring(0, eq);
            if (labels.put(key, kv.substring(eq + 1)) != null) {
                throw new ParameterException(spec.commandLine(), "--label " + key + " given twice");
            }
        }
        return labels;
    }

    /**
     * The private keys of repeated {@code --key} options, in order: the first signs as the publisher, each
     * other one adds its signature (a publisher key rotation signs with the old and the new key, so nodes
     * and guests trusting either accept the bundle).
     */
    public static List<PrivateKey> readKeys(List<Path> files) throws IOException {
        List<PrivateKey> keys = new java.util.ArrayList<>(files.size());
        for (Path f : files) {
            keys.add(Ed25519Keys.readPrivatePem(f));
        }
        return keys;
    }

    /** The key ids of {@code keys}, in order, each once (lower-case hex). */
    public static List<String> keyIds(List<PrivateKey> keys) {
        return keys.stream().map(k -> KeyId.of(Ed25519Keys.publicKeyOf(k)).hex()).distinct().toList();
    }

    /** Packs every regular file under {@code src}, with the manifest's optional expiry and rollout policy. */
    public static BundlePacker.PackResult pack(Path src, String name, long version, Map<String, String> labels,
                                               Optional<Instant> expires, Optional<RolloutPolicy> rollout,
                                               List<PrivateKey> keys, Clock clock) throws IOException {
        return pack(src, name, version, labels, expires, rollout, List.of(), Optional.empty(), keys, clock);
    }

    /**
     * As above, for the VMs of {@code pools} only (empty: every VM), with the files {@code sealer}
     * matches encrypted before they are hashed and signed (issue 15).
     */
    public static BundlePacker.PackResult pack(Path src, String name, long version, Map<String, String> labels,
                                               Optional<Instant> expires, Optional<RolloutPolicy> rollout,
                                               List<String> pools, Optional<BundlePacker.FileSealer> sealer,
                                               List<PrivateKey> keys, Clock clock) throws IOException {
        BundlePacker.PackOptions opts = new BundlePacker.PackOptions(labels, expires, rollout, pools, sealer)
                .withCosigners(keys.subList(1, keys.size()));
        return BundlePacker.pack(src, name, version, opts, keys.get(0), clock, Limits.defaults());
    }

    /** Packs files held in memory, with labels and nothing else (no expiry, no rollout: a rollback applies at once). */
    public static byte[] packNow(String name, long version, SortedMap<String, byte[]> files, Map<String, String> labels,
                                 PrivateKey key, Clock clock) {
        return BundlePacker.pack(name, version, files, new BundlePacker.PackOptions(labels, Optional.empty(), Optional.empty()),
                key, clock);
    }

    /**
     * Packs files held in memory again as an earlier version had them (a rollback): the same labels and
     * pools, and the files that were age ciphertext kept byte for byte and marked encrypted again. Nothing
     * is decrypted or re-encrypted; no expiry, no rollout.
     */
    public static byte[] packAgain(String name, long version, SortedMap<String, byte[]> files, Map<String, String> labels,
                                   List<String> pools, Set<String> encryptedPaths, List<PrivateKey> keys, Clock clock) {
        BundlePacker.PackOptions opts = new BundlePacker.PackOptions(labels, Optional.empty(), Optional.empty()).withPools(pools)
                .withCosigners(keys.subList(1, keys.size()));
        if (!encryptedPaths.isEmpty()) {
            opts = opts.withSealer(new KeptCiphertext(Set.copyOf(encryptedPaths)));
        }
        return BundlePacker.pack(name, version, files, opts, keys.get(0), clock);
    }

    /** "Seals" files that already are age ciphertext: marks them encrypted and leaves their bytes alone. */
    private record KeptCiphertext(Set<String> paths) implements BundlePacker.FileSealer {
        @Override
        public boolean matches(String path) {
            return paths.contains(path);
        }

        @Override
        public byte[] seal(String path, byte[] alreadyCiphertext) {
            return alreadyCiphertext;
        }
    }

    /** Reads a rollout policy from its JSON (the {@code rollout} object as the manifest holds it). */
    public static PolicyRead parsePolicy(byte[] json) {
        RolloutPolicy.ParseResult r = RolloutPolicy.parseJson(json);
        if (r instanceof RolloutPolicy.ParseResult.Parsed p) {
            return new PolicyRead.Parsed(p.policy());
        }
        return new PolicyRead.Invalid(((RolloutPolicy.ParseResult.Invalid) r).reason());
    }
}
