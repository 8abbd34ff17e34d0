package io.knowngood.crypto.bundle;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Builds and signs bundle archives: manifest.json (canonical bytes), signatures.json, then
 * {@code files/<path>} in manifest order (paths sorted). The output is deterministic for the
 * same inputs and clock.
 */
public final class BundlePacker {
    private BundlePacker() {
    }

    /** Packing a directory: the archive, or why the directory cannot be a bundle. */
    public sealed interface PackResult {
        record Packed(byte[] archive, Manifest manifest) implements PackResult {
        }

        record Refused(String reason) implements PackResult {
        }
    }

    /**
     * What a manifest says beyond its name, version and files: labels, an optional expiry (must be
     * after the creation time) and an optional rollout policy; and who signs it besides the key given
     * to {@code pack}: {@code cosigners}, each adding its own signature (a publisher key rotation signs
     * with the old and the new key, so verifiers trusting either accept it). Nulls read as "none".
     */
    public record PackOptions(Map<String, String> labels, Optional<Instant> expires, Optional<RolloutPolicy> rollout,
                              List<String> pools, Optional<FileSealer> sealer, List<PrivateKey> cosigners) {
        public PackOptions {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
            expires = expires == null ? Optional.empty() : expires;
            rollout = rollout == null ? Optional.empty() : rollout;
            pools = pools == null ? List.of() : List.copyOf(new TreeSet<>(pools));
            sealer = sealer == null ? Optional.empty() : sealer;
            cosigners = cosigners == null ? List.of() : List.copyOf(cosigners);
        }

        public PackOptions(Map<String, String> labels, Optional<Instant> expires, Optional<RolloutPolicy> rollout,
                           List<String> pools, Optional<FileSealer> sealer) {
            this(labels, expires, rollout, pools, sealer, List.of());
        }

        public PackOptions(Map<String, String> labels, Optional<Instant> expires, Optional<RolloutPolicy> rollout) {
            this(labels, expires, rollout, List.of(), Optional.empty());
        }

        public static PackOptions none() {
            return new PackOptions(Map.of(), Optional.empty(), Optional.empty());
        }

        public static PackOptions labels(Map<String, String> labels) {
            return new PackOptions(labels, Optional.empty(), Optional.empty());
        }

        public PackOptions withExpires(Instant at) {
            return new PackOptions(labels, Optional.of(at), rollout, pools, sealer, cosigners);
        }

        public PackOptions withRollout(RolloutPolicy policy) {
            return new PackOptions(labels, expires, Optional.of(policy), pools, sealer, cosigners);
        }

        /** Only VMs in one of these pools may see the bundle (signed into the manifest). */
        public PackOptions withPools(List<String> names) {
            return new PackOptions(labels, expires, rollout, names, sealer, cosigners);
        }

        /** Keys that sign the manifest too, after the key given to {@code pack} (the same key twice signs once). */
        public PackOptions withCosigners(List<PrivateKey> keys) {
            return new PackOptions(labels, expires, rollout, pools, sealer, keys);
        }

        /** Files the sealer matches are encrypted by it before hashing and signing. */
        public PackOptions withSealer(FileSealer s) {
            return new PackOptions(labels, expires, rollout, pools, Optional.of(s), cosigners);
        }
    }

    /**
     * Encrypts the files it matches before they are hashed and signed (kgctl's age sealer; crypto itself
     * holds no encryption code). The manifest entry of a sealed file says {@code "encrypted":"age"}.
     */
    public interface FileSealer {
        /** Whether the file at this bundle path is to be encrypted. */
        boolean matches(String path);

        /** The ciphertext of {@code plain} (an age v1 file). */
        byte[] seal(String path, byte[] plain);
    }

    /** Packs every regular file under {@code srcDir} (recursively); symlinks and special files are refused. */
    public static PackResult pack(Path srcDir, String name, long version, Map<String, String> labels,
                                  PrivateKey key, Clock clock, Limits limits) throws IOException {
        return pack(srcDir, name, version, PackOptions.labels(labels), key, clock, limits);
    }

    /**
     * Packs every regular file under {@code srcDir} with {@code opts}; symlinks and special files are
     * refused, and so is an expiry not after the creation time (the clock's now, in whole seconds).
     */
    public static PackResult pack(Path srcDir, String name, long version, PackOptions opts,
                                  PrivateKey key, Clock clock, Limits limits) throws IOException {
        if (!BundleName.isValid(name)) {
            return new PackResult.Refused("bundle name \"" + name + "\" does not match " + BundleName.RULE);
        }
        for (String pool : opts.pools()) {
            if (!PoolName.isValid(pool)) {
                return new PackResult.Refused("pool name \"" + pool + "\" does not match " + PoolName.RULE);
            }
        }
        if (opts.pools().size() > PoolName.MAX_PER_MANIFEST) {
            return new PackResult.Refused("more than " + PoolName.MAX_PER_MANIFEST + " pools");
        }
        if (version < 1) {
            return new PackResult.Refused("version must be from 1 to 2^63-1, got " + version);
        }
        if (signers(key, opts).size() > Limits.MAX_SIGNATURES) {
            return new PackResult.Refused("more than " + Limits.MAX_SIGNATURES + " signing keys");
        }
        Instant created = created(clock);
        if (opts.expires().isPresent() && !opts.expires().get().isAfter(created)) {
            return new PackResult.Refused("expires " + ManifestCodec.rfc3339(opts.expires().get())
                    + " is not after the creation time " + ManifestCodec.rfc3339(created));
        }
        if (!Files.isDirectory(srcDir, LinkOption.NOFOLLOW_LINKS)) {
            return new PackResult.Refused(srcDir + " is not a directory");
        }
        SortedMap<String, byte[]> files = new TreeMap<>();
        long total = 0;
        List<Path> all;
        try (Stream<Path> walk = Files.walk(srcDir)) {
            all = walk.sorted().toList();
        }
        for (Path p : all) {
            if (p.equals(srcDir) || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            String rel = relative(srcDir, p);
            if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                return new PackResult.Refused(rel + " is not a regular file (links and special files cannot be packed)");
            }
            String problem = BundlePaths.problem(rel);
            if (problem != null) {
                return new PackResult.Refused("path " + rel + " is not allowed: " + problem);
            }
            long size = Files.size(p);
            if (size > limits.maxFileBytes()) {
                return new PackResult.Refused(rel + " has " + size + " bytes, limit " + limits.maxFileBytes());
            }
            total += size;
            if (total > limits.maxBundleBytes()) {
                return new PackResult.Refused("files add up to more than " + limits.maxBundleBytes() + " bytes");
            }
            if (files.size() >= limits.maxFiles()) {
                return new PackResult.Refused("more than " + limits.maxFiles() + " files");
            }
            files.put(rel, Files.readAllBytes(p));
        }
        SortedMap<String, byte[]> content = sealed(files, opts);
        Manifest m = manifest(name, version, content, opts, false, created);
        return new PackResult.Packed(archive(m, content, signers(key, opts)), m);
    }

    /** Packs files given in memory; arguments must be valid (this is for programs, not people). */
    public static byte[] pack(String name, long version, SortedMap<String, byte[]> files, Map<String, String> labels,
                              PrivateKey key, Clock clock) {
        return pack(name, version, files, PackOptions.labels(labels), key, clock);
    }

    /**
     * Packs files given in memory with {@code opts}; arguments must be valid (this is for programs,
     * not people): an expiry not after the creation time throws {@link IllegalArgumentException}.
     */
    public static byte[] pack(String name, long version, SortedMap<String, byte[]> files, PackOptions opts,
                              PrivateKey key, Clock clock) {
        Instant created = created(clock);
        if (opts.expires().isPresent() && !opts.expires().get().isAfter(created)) {
            throw new IllegalArgumentException("expires " + opts.expires().get() + " is not after created " + created);
        }
        SortedMap<String, byte[]> content = sealed(files, opts);
        return archive(manifest(name, version, content, opts, false, created), content, signers(key, opts));
    }

    /** A signed tombstone: version {@code version} of {@code name} withdraws the bundle. */
    public static byte[] packRetired(String name, long version, PrivateKey key, Clock clock) {
        return packRetired(name, version, List.of(), key, clock);
    }

    /**
     * A signed tombstone for the bundle's {@code pools}: the pools of the version it withdraws, so a VM
     * outside them never learns, even from the tombstone, that the name existed.
     */
    public static byte[] packRetired(String name, long version, List<String> pools, PrivateKey key, Clock clock) {
        SortedMap<String, byte[]> none = new TreeMap<>();
        return archive(manifest(name, version, none, PackOptions.none().withPools(pools), true, created(clock)), none, List.of(key));
    }

    /** The manifest's creation time: now, in whole seconds (so the same second packs the same bytes). */
    private static Instant created(Clock clock) {
        return clock.instant().truncatedTo(ChronoUnit.SECONDS);
    }

    private static Manifest manifest(String name, long version, SortedMap<String, byte[]> files,
                                     PackOptions opts, boolean retired, Instant created) {
        List<FileEntry> entries = new ArrayList<>(files.size());
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            byte[] content = e.getValue();
            entries.add(new FileEntry(e.getKey(), content.length, Sha256.hex(content),
                    sealedBy(opts, e.getKey()) ? Optional.of(FileEntry.AGE) : Optional.empty()));
        }
        return new Manifest(Manifest.SCHEMA, name, version, created, opts.expires(), entries,
                opts.labels(), retired, opts.rollout(), opts.pools());
    }

    private static boolean sealedBy(PackOptions opts, String path) {
        return opts.sealer().isPresent() && opts.sealer().get().matches(path);
    }

    /** The files as they will be archived: those the sealer matches replaced by their ciphertext. */
    private static SortedMap<String, byte[]> sealed(SortedMap<String, byte[]> files, PackOptions opts) {
        if (opts.sealer().isEmpty()) {
            return files;
        }
        SortedMap<String, byte[]> out = new TreeMap<>();
        files.forEach((path, content) -> out.put(path, sealedBy(opts, path) ? opts.sealer().get().seal(path, content) : content));
        return out;
    }

    /** {@code key}, then each cosigner whose key id is not already in: the keys that sign, in signatures.json's order. */
    private static List<PrivateKey> signers(PrivateKey key, PackOptions opts) {
        Map<KeyId, PrivateKey> byId = new java.util.LinkedHashMap<>();
        byId.put(KeyId.of(Ed25519Keys.publicKeyOf(key)), key);
        for (PrivateKey k : opts.cosigners()) {
            byId.putIfAbsent(KeyId.of(Ed25519Keys.publicKeyOf(k)), k);
        }
        return List.copyOf(byId.values());
    }

    private static byte[] archive(Manifest m, SortedMap<String, byte[]> files, List<PrivateKey> keys) {
        if (keys.size() > Limits.MAX_SIGNATURES) {
            throw new IllegalArgumentException("more than " + Limits.MAX_SIGNATURES + " signing keys");
        }
        byte[] manifestBytes = ManifestCodec.write(m);
        List<ManifestCodec.Signature> sigs = new ArrayList<>(keys.size());
        for (PrivateKey key : keys) {
            sigs.add(new ManifestCodec.Signature(KeyId.of(Ed25519Keys.publicKeyOf(key)), Ed25519Keys.sign(key, manifestBytes)));
        }
        byte[] sigBytes = ManifestCodec.writeSignatures(sigs);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(manifestBytes.length + 4096
                + (int) Math.min(Integer.MAX_VALUE / 2, m.totalFileBytes() + 1024L * files.size()));
        // names in UTF-8 whatever the platform charset (Java 17 under LANG=C would write them as US-ASCII)
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes, StandardCharsets.UTF_8.name())) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            Instant mtime = m.created();
            entry(tar, "manifest.json", manifestBytes, mtime);
            entry(tar, "signatures.json", sigBytes, mtime);
            for (FileEntry f : m.files()) {
                entry(tar, "files/" + f.path(), files.get(f.path()), mtime);
            }
            tar.finish();
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        }
        return bytes.toByteArray();
    }

    private static void entry(TarArchiveOutputStream tar, String name, byte[] content, Instant mtime) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_NORMAL, true);
        e.setSize(content.length);
        e.setMode(0100644);
        e.setModTime(mtime.toEpochMilli());
        e.setUserId(0);
        e.setGroupId(0);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    private static String relative(Path root, Path p) {
        StringBuilder b = new StringBuilder();
        for (Path part : root.relativize(p)) {
            if (b.length() > 0) {
                b.append('/');
            }
            b.append(part.toString());
        }
        return b.toString();
    }
}
