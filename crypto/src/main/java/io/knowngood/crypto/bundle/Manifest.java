package io.knowngood.crypto.bundle;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The signed description of one bundle version (manifest.json). Immutable and valid by
 * construction; the exact bytes that were signed are kept by {@link VerifiedBundle}, never
 * re-created from this record.
 */
public record Manifest(int schema, String name, long version, Instant created, Optional<Instant> expires,
                       List<FileEntry> files, Map<String, String> labels, boolean retired,
                       Optional<RolloutPolicy> rollout, List<String> pools) {
    public static final int SCHEMA = 1;

    public Manifest {
        if (schema != SCHEMA) {
            throw new IllegalArgumentException("unknown schema " + schema);
        }
        if (!BundleName.isValid(name)) {
            throw new IllegalArgumentException("bad bundle name: " + name);
        }
        if (version < 1) {
            throw new IllegalArgumentException("version must be >= 1: " + version);
        }
        if (created == null) {
            throw new IllegalArgumentException("created is required");
        }
        expires = expires == null ? Optional.empty() : expires;
        rollout = rollout == null ? Optional.empty() : rollout;
        files = List.copyOf(files);
        pools = pools == null ? List.of() : List.copyOf(new java.util.TreeSet<>(pools));
        if (pools.size() > PoolName.MAX_PER_MANIFEST) {
            throw new IllegalArgumentException("more than " + PoolName.MAX_PER_MANIFEST + " pools");
        }
        for (String pool : pools) {
            if (!PoolName.isValid(pool)) {
                throw new IllegalArgumentException("bad pool name " + pool + " (must match " + PoolName.RULE + ")");
            }
        }
        labels = labels == null ? Map.of() : Map.copyOf(new TreeMap<>(labels));
        if (retired && !files.isEmpty()) {
            throw new IllegalArgumentException("a retired version has no files");
        }
        if (retired && rollout.isPresent()) {
            throw new IllegalArgumentException("a retired version has no rollout");
        }
        Set<String> seen = new HashSet<>();
        for (FileEntry f : files) {
            if (!seen.add(f.path())) {
                throw new IllegalArgumentException("duplicate path " + f.path());
            }
        }
    }

    /** A manifest for every VM (no pools). */
    public Manifest(int schema, String name, long version, Instant created, Optional<Instant> expires,
                    List<FileEntry> files, Map<String, String> labels, boolean retired, Optional<RolloutPolicy> rollout) {
        this(schema, name, version, created, expires, files, labels, retired, rollout, List.of());
    }

    /** A manifest without a rollout policy (good as soon as held). */
    public Manifest(int schema, String name, long version, Instant created, Optional<Instant> expires,
                    List<FileEntry> files, Map<String, String> labels, boolean retired) {
        this(schema, name, version, created, expires, files, labels, retired, Optional.empty(), List.of());
    }

    /**
     * Whether a VM in {@code vmPools} (the pools its source address falls in, possibly none) may see
     * this version: a version without pools is for every VM, one with pools only for VMs in one of them.
     */
    public boolean visibleTo(Set<String> vmPools) {
        if (pools.isEmpty()) {
            return true;
        }
        for (String p : pools) {
            if (vmPools.contains(p)) {
                return true;
            }
        }
        return false;
    }

    /** Whether any file of this version is encrypted (its bytes are ciphertext a node cannot read). */
    public boolean hasEncryptedFiles() {
        for (FileEntry f : files) {
            if (f.encrypted().isPresent()) {
                return true;
            }
        }
        return false;
    }

    public long totalFileBytes() {
        long sum = 0;
        for (FileEntry f : files) {
            sum += f.size();
        }
        return sum;
    }

    public Optional<FileEntry> file(String path) {
        for (FileEntry f : files) {
            if (f.path().equals(path)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
